import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBundledDigits } from '../../src/data/bundledDigits.js';
import { decodeDigits } from '../../web/digitsFile.js';
import { type BuildWeb, loadBuildScript } from './helpers.js';

describe('scripts/build-web.mjs', () => {
  const out = mkdtempSync(join(tmpdir(), 'backprop-web-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  it('bundles the page and the worker, and writes the digits as bytes', async () => {
    const buildWeb: BuildWeb = await loadBuildScript();
    const files = await buildWeb({ outDir: out });
    assert.deepEqual(files.map((f) => f.file), [
      'digits.bin', 'digits.bin.gz', 'index.html', 'main.js', 'main.js.map', 'style.css', 'worker.js', 'worker.js.map',
    ]);
    for (const js of ['main.js', 'worker.js']) {
      const code = readFileSync(join(out, js), 'utf8');
      assert.doesNotMatch(code, /from\s*["']node:|require\(["']node:/, `${js} must not need Node`);
      assert.doesNotMatch(code, /https?:\/\/(?!www\.w3\.org)/, `${js} must not fetch from other sites`);
    }
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    assert.doesNotMatch(html, /(src|href)="https?:/, 'no CDN');

    const digits = decodeDigits(new Uint8Array(readFileSync(join(out, 'digits.bin'))));
    const expected = readBundledDigits();
    assert.deepEqual([digits.count, digits.rows, digits.cols], [10000, 28, 28]);
    assert.ok(Buffer.from(digits.images).equals(Buffer.from(expected.images)), 'pixels as the library reads them');
    assert.ok(Buffer.from(digits.labels).equals(Buffer.from(expected.labels)), 'labels as the library reads them');
  });
});
