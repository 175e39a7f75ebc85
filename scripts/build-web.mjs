#!/usr/bin/env node
// Builds the playground page into web/dist/ (gitignored):
//   index.html, style.css            copied from web/
//   main.js, worker.js (+ .map)      web/main.ts and web/worker.ts bundled by esbuild for the browser
//   generated/kernels*.wasm          the wasm backend's kernels and thread worker (scripts/build-wasm.mjs, run first)
//   generated/threadWorker.js
// The digits the page fetches as digits.bin are the package's bundled digits file
// (scripts/build-digits.mjs), which the playground server serves from where the package keeps it.
//
// Usage: node scripts/build-web.mjs [--dev]   (--dev: no minifying)
// Or from code: `const { buildWeb } = await import('./scripts/build-web.mjs'); await buildWeb();`
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const web = join(root, 'web');

/** Where the page is built: the folder the playground server serves. */
export const WEB_DIST = join(web, 'dist');

/**
 * Sources that make up the bundle must not pull in Node: these imports mean a wrong import path
 * (the package's Node entry or a Node-only module; src/index.ts, the browser-safe core, is fine).
 */
const NODE_ONLY = /^node:|(^|\/)src\/(node|data\/(bundledDigits|idxFiles|pngDigit|mnistPackage)|io\/(atomicWrite|safetensorsFiles|modelFiles)|cli\/|kernels\/(nodeBackends|wasm\/(index|loader|platform\.node)))\./;
/** A `node:` import left in bundled code (e.g. marked external). */
const NODE_IMPORT = /\bfrom\s*["']node:|\bimport\s*\(\s*["']node:|\brequire\s*\(\s*["']node:/;

/**
 * The kernel modules, fetched as `new URL('./generated/kernels….wasm', import.meta.url)`, and the
 * thread worker, started as `new URL('./generated/threadWorker.js', import.meta.url)`: copied to
 * generated/ beside the bundles (esbuild leaves such URLs as they are).
 */
const WASM_DIR = join(root, 'src/kernels/wasm/generated');
const WASM_FILES = ['kernels.wasm', 'kernels-shared.wasm', 'threadWorker.js'];

/**
 * Bundles `entryPoints` (name → source, relative to the repository) for the browser into
 * `outDir`, with the wasm backend's thread worker and kernel modules beside them. Fails if a
 * bundle would include Node-only code. The kernels are compiled first if they are stale.
 */
export async function bundleForBrowser({ entryPoints, outDir, minify = true }) {
  // compiles the kernels only when their sources changed (quiet otherwise)
  await promisify(execFile)(process.execPath, [join(root, 'scripts/build-wasm.mjs')], { cwd: root });
  const result = await build({
    absWorkingDir: root,
    entryPoints,
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify,
    sourcemap: true,
    metafile: true,
    logLevel: 'silent',
    // protobufjs/minimal (the ONNX export's encoders) tries require('long') in a try block and
    // works with plain numbers without it, as our encoders are generated (--force-number)
    external: ['long'],
  });
  const nodeOnly = Object.keys(result.metafile.inputs).filter((input) => NODE_ONLY.test(input));
  if (nodeOnly.length) throw new Error(`build-web: the browser bundle must not include ${nodeOnly.join(', ')}; import the specific src/ files instead`);
  for (const output of Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'))) {
    if (NODE_IMPORT.test(readFileSync(join(root, output), 'utf8'))) throw new Error(`build-web: ${output} imports a node: module`);
  }
  mkdirSync(join(outDir, 'generated'), { recursive: true });
  for (const file of WASM_FILES) copyFileSync(join(WASM_DIR, file), join(outDir, 'generated', file));
}

/**
 * Builds the page into `outDir` (default web/dist), replacing what was there.
 * @returns the files written, relative to outDir, with their sizes in bytes
 */
export async function buildWeb({ outDir = WEB_DIST, minify = true } = {}) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });

  await bundleForBrowser({ entryPoints: { main: 'web/main.ts', worker: 'web/worker.ts' }, outDir, minify });

  for (const file of ['index.html', 'style.css']) copyFileSync(join(web, file), join(outDir, file));

  return readdirSync(outDir, { recursive: true }).map(String).filter((file) => statSync(join(outDir, file)).isFile()).sort()
    .map((file) => ({ file, bytes: statSync(join(outDir, file)).size }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now();
  try {
    const files = await buildWeb({ minify: !process.argv.includes('--dev') });
    for (const { file, bytes } of files) console.log(`  ${file.padEnd(28)} ${(bytes / 1024).toFixed(1).padStart(8)} KiB`);
    console.log(`built the playground into ${relative(process.cwd(), WEB_DIST) || '.'} in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  } catch (e) {
    // esbuild's errors carry file:line:column; print them one per line, not a stack
    const errors = e.errors?.map((m) => `${m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ` : ''}${m.text}`);
    console.error(`build-web: ${errors?.join('\n') ?? e.message}`);
    process.exitCode = 1;
  }
}
