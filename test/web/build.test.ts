import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildWeb, loadBuildScript } from './helpers.js';

describe('scripts/build-web.mjs', () => {
  const out = mkdtempSync(join(tmpdir(), 'backprop-web-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  it('bundles the page and the worker, and copies the wasm backend\'s kernels and thread worker', async () => {
    const buildWeb: BuildWeb = await loadBuildScript();
    const files = await buildWeb({ outDir: out });
    assert.deepEqual(files.map((f) => f.file), [
      'generated/kernels-shared.wasm', 'generated/kernels.wasm', 'generated/threadWorker.js', 'index.html', 'main.js', 'main.js.map',
      'style.css', 'worker.js', 'worker.js.map',
    ]);
    // where src/kernels/wasm/platform.browser.ts looks for them, relative to the bundle
    for (const wasm of ['kernels.wasm', 'kernels-shared.wasm', 'threadWorker.js']) {
      const built = readFileSync(fileURLToPath(new URL(`../../src/kernels/wasm/generated/${wasm}`, import.meta.url)));
      assert.ok(readFileSync(join(out, 'generated', wasm)).equals(built), `${wasm} copied as built`);
    }
    const worker = readFileSync(join(out, 'worker.js'), 'utf8');
    assert.match(worker, /new Worker\(new URL\("\.\/generated\/threadWorker\.js",\s*import\.meta\.url\)/, 'the training worker starts the thread worker beside it');
    assert.match(worker, /new URL\("\.\/generated\/kernels-shared\.wasm",\s*import\.meta\.url\)/);
    for (const js of ['main.js', 'worker.js', 'generated/threadWorker.js']) {
      const code = readFileSync(join(out, js), 'utf8');
      assert.doesNotMatch(code, /from\s*["']node:|require\(["']node:|import\(["']node:/, `${js} must not need Node`);
      assert.doesNotMatch(code, /https?:\/\/(?!www\.w3\.org)/, `${js} must not fetch from other sites`);
    }
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    assert.doesNotMatch(html, /(src|href)="https?:/, 'no CDN');

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
