/**
 * The real Fashion-MNIST from the Debian package `dataset-fashion-mnist`, loaded once per test file,
 * and its .gz files byte for byte as their maintainers published them.
 *
 * Without the package a test using it is skipped (with the reason shown), except on CI
 * (`CI=true`), where a missing dataset is a broken environment and fails.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { loadIdxDataset, type IdxDataset } from '../src/data/idxFiles.js';

export const DIR = '/usr/share/datasets/fashion-mnist';

let cached: { data: IdxDataset; ms: number } | undefined;

/**
 * The dataset, loaded once for all tests; `undefined` (with the test marked skipped) if the
 * package is not installed. On CI a missing package fails the test instead.
 */
export function fashionMnist(t: TestContext): IdxDataset | undefined {
  if (!present(t)) return undefined;
  if (cached === undefined) {
    const start = performance.now();
    const data = loadIdxDataset(DIR);
    cached = { data, ms: performance.now() - start };
    t.diagnostic(`loaded Fashion-MNIST in ${cached.ms.toFixed(0)} ms`);
  }
  return cached.data;
}

/**
 * Modification times in the gzip headers of the files as the Fashion-MNIST maintainers
 * published them (2017-08-31), found by searching for the header that reproduces their MD5s.
 */
const FASHION_MTIMES: Record<string, number> = {
  'train-images-idx3-ubyte.gz': 1504176606,
  'train-labels-idx1-ubyte.gz': 1504176606,
  't10k-images-idx3-ubyte.gz': 1504176627,
  't10k-labels-idx1-ubyte.gz': 1504176627,
};

/**
 * The four Fashion-MNIST files byte for byte as published, rebuilt from the Debian package:
 * Debian keeps the maintainers' deflate streams but rewrites each 10-byte gzip header (no file
 * name, the packaging date). Putting back the original header (flag FNAME, the 2017 mtime,
 * the file name) restores the published file. `undefined` (with the test marked skipped)
 * without the package; on CI a missing package fails the test instead.
 */
export function publishedFashionMnist(t: TestContext): Map<string, Buffer> | undefined {
  if (!present(t)) return undefined;
  const files = new Map<string, Buffer>();
  for (const [name, mtime] of Object.entries(FASHION_MTIMES)) {
    const debian = readFileSync(`${DIR}/${name}`);
    // Debian's header: 1f 8b, deflate (08), no flags (00), its mtime, XFL 00, OS 03 (Unix).
    if (debian[0] !== 0x1f || debian[1] !== 0x8b || debian[2] !== 8 || debian[3] !== 0 || debian[8] !== 0 || debian[9] !== 3) {
      throw new Error(`${DIR}/${name}: not the gzip header this rebuild expects`);
    }
    const header = Buffer.from([0x1f, 0x8b, 0x08, 0x08, 0, 0, 0, 0, 0x00, 0x03]);
    header.writeUInt32LE(mtime, 4);
    files.set(name, Buffer.concat([header, Buffer.from(`${name.slice(0, -3)}\0`, 'latin1'), debian.subarray(10)]));
  }
  return files;
}

/** Whether the package is installed; if not, skips the test (or fails it on CI) saying why. */
function present(t: TestContext): boolean {
  if (existsSync(DIR)) return true;
  const install = `install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), which provides ${DIR}`;
  if (process.env.CI === 'true') {
    assert.fail(`Fashion-MNIST not found at ${DIR}; on CI it is required: ${install}`);
  }
  t.skip(`Fashion-MNIST not found at ${DIR}; reason: ${install}`);
  return false;
}
