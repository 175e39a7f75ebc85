/**
 * The real Fashion-MNIST from the Debian package `dataset-fashion-mnist`, loaded once per test file.
 *
 * Without the package a test using it is skipped (with the reason shown), except on CI
 * (`CI=true`), where a missing dataset is a broken environment and fails.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { loadIdxDataset, type IdxDataset } from '../src/data/idxFiles.js';

export const DIR = '/usr/share/datasets/fashion-mnist';

let cached: { data: IdxDataset; ms: number } | undefined;

/**
 * The dataset, loaded once for all tests; `undefined` (with the test marked skipped) if the
 * package is not installed. On CI a missing package fails the test instead.
 */
export function fashionMnist(t: TestContext): IdxDataset | undefined {
  if (!existsSync(DIR)) {
    const install = `install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), which provides ${DIR}`;
    if (process.env.CI === 'true') {
      assert.fail(`Fashion-MNIST not found at ${DIR}; on CI it is required: ${install}`);
    }
    t.skip(`Fashion-MNIST not found at ${DIR}; reason: ${install}`);
    return undefined;
  }
  if (cached === undefined) {
    const start = performance.now();
    const data = loadIdxDataset(DIR);
    cached = { data, ms: performance.now() - start };
    t.diagnostic(`loaded Fashion-MNIST in ${cached.ms.toFixed(0)} ms`);
  }
  return cached.data;
}

