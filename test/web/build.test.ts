import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBundledDigits } from '../../src/data/bundledDigits.js';
import { decodeDigits } from '../../web/digitsFile.js';
import { type BuildWeb, loadBuildScript } from './helpers.js';

describe('scripts/build-web.mjs', () => {
  const out = mkdtempSync(join(tmpdir(), 'backprop-web-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  it('bundles the page, the worker and the wasm backend\'s thread worker, copies the kernels, and writes the digits as bytes', async () => {
    const buildWeb: BuildWeb = await loadBuildScript();
    const files = await buildWeb({ outDir: out });
    assert.deepEqual(files.map((f) => f.file), [
      'digits.bin', 'digits.bin.gz', 'generated/kernels-shared.wasm', 'generated/kernels.wasm', 'index.html', 'main.js', 'main.js.map',
      'style.css', 'threadWorker.js', 'threadWorker.js.map', 'worker.js', 'worker.js.map',
    ]);
    // where src/kernels/wasm/platform.browser.ts looks for them, relative to the bundle
    for (const wasm of ['kernels.wasm', 'kernels-shared.wasm']) {
      const built = readFileSync(fileURLToPath(new URL(`../../src/kernels/wasm/generated/${wasm}`, import.meta.url)));
      assert.ok(readFileSync(join(out, 'generated', wasm)).equals(built), `${wasm} copied as built`);
    }
    const worker = readFileSync(join(out, 'worker.js'), 'utf8');
    assert.match(worker, /new URL\("\.\/threadWorker\.js",\s*import\.meta\.url\)/, 'the training worker starts the thread worker beside it');
    assert.match(worker, /new URL\("\.\/generated\/kernels-shared\.wasm",\s*import\.meta\.url\)/);
    for (const js of ['main.js', 'worker.js', 'threadWorker.js']) {
      const code = readFileSync(join(out, js), 'utf8');
      assert.doesNotMatch(code, /from\s*["']node:|require\(["']node:|import\(["']node:/, `${js} must not need Node`);
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

  it('fails when a bundle would include the Node-only side of the wasm backend', async () => {
    const { bundleForBrowser } = (await import(new URL('../../scripts/build-web.mjs', import.meta.url).href)) as {
      bundleForBrowser(options: { entryPoints: Record<string, string>; outDir: string }): Promise<void>;
    };
    const entry = join(out, 'entry.ts');
    writeFileSync(entry, `import { createWasmBackend } from ${JSON.stringify(fileURLToPath(new URL('../../src/kernels/wasm/index.ts', import.meta.url)))};\nawait createWasmBackend();\n`);
    // esbuild cannot resolve node:worker_threads for a browser; were it external, the input check would refuse index.ts
    await assert.rejects(bundleForBrowser({ entryPoints: { entry }, outDir: join(out, 'node-leak') }), /node:|must not include/);
  });
});
