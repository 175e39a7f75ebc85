/**
 * The wasm backend in a browser: its browser entry point (src/kernels/wasm/browser.ts), bundled
 * by scripts/build-web.mjs, computes the same products and kernels as the TypeScript reference
 * in headless Chromium — on the main thread (one thread: Atomics.wait is not allowed there) and
 * in a Web Worker (two threads on a cross-origin-isolated page, one without COOP/COEP). The
 * checks themselves are in wasm-browser/checks.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { CONTENT_TYPES, startPlaygroundServer } from '../../src/cli/playground.js';
import { CHROMIUM, CHROMIUM_ARGS, haveChromium } from '../web/helpers.js';
import type { CheckReport } from './wasm-browser/checks.js';

type Outcome = CheckReport | { error: string };
type BundleForBrowser = (options: { entryPoints: Record<string, string>; outDir: string; minify?: boolean }) => Promise<void>;

/** A static server with none of the playground's headers: not cross-origin isolated. */
async function startPlainServer(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const path = normalize(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    try {
      const body = await readFile(join(root, path));
      res.writeHead(200, { 'Content-Type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** The report, failing with what went wrong (every failed check, or the error the page caught). */
function passed(where: string, outcome: Outcome | undefined): CheckReport {
  assert.ok(outcome, `${where}: no report`);
  if ('error' in outcome) {
    const csp = /Content Security Policy/i.test(outcome.error)
      ? " (the server's Content-Security-Policy must allow 'wasm-unsafe-eval' in script-src: src/cli/playground.ts)" : '';
    assert.fail(`${where}: ${outcome.error}${csp}`);
  }
  const failed = outcome.checks.filter((c) => !c.ok);
  assert.deepEqual(failed.map((c) => `${c.name}: ${c.detail}`), [], `${where}: failed checks`);
  assert.ok(outcome.checks.length >= 20, `${where}: only ${outcome.checks.length} checks ran`);
  return outcome;
}

test('the wasm backend in Chromium', { timeout: 180_000 }, async (t) => {
  if (!haveChromium(t)) return;
  const out = mkdtempSync(join(tmpdir(), 'backprop-wasm-browser-'));
  const { bundleForBrowser } = (await import(new URL('../../scripts/build-web.mjs', import.meta.url).href)) as { bundleForBrowser: BundleForBrowser };
  await bundleForBrowser({
    entryPoints: { page: 'test/kernels/wasm-browser/page.ts', checkWorker: 'test/kernels/wasm-browser/checkWorker.ts' },
    outDir: out,
    minify: false,
  });
  writeFileSync(join(out, 'index.html'), '<!doctype html><meta charset="utf-8"><title>wasm kernels</title><link rel="icon" href="data:,"><script type="module" src="page.js"></script>\n');
  const isolated = await startPlaygroundServer({ root: out, port: 0 }); // COOP + COEP, as the playground
  const plain = await startPlainServer(out);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });

  /** Opens the page and waits for both reports. */
  async function reports(url: string): Promise<{ main?: Outcome; worker?: Outcome; problems: string[] }> {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as { reports?: { worker?: unknown } }).reports?.worker, null, { timeout: 90_000 });
    const result = await page.evaluate(() => (globalThis as unknown as { reports: { main?: Outcome; worker?: Outcome } }).reports);
    await page.close();
    return { ...result, problems };
  }

  try {
    await t.test('cross-origin isolated (COOP + COEP): the kernels match the reference; 2 threads in a Worker, 1 on the main thread', async () => {
      const { main, worker, problems } = await reports(isolated.url);
      const m = passed('main thread', main);
      assert.equal(m.crossOriginIsolated, true);
      assert.equal(m.defaultThreads, 1, 'the main thread may not block in Atomics.wait');
      assert.match(m.singleThreadReason ?? '', /Atomics\.wait/);
      const w = passed('worker', worker);
      assert.equal(w.crossOriginIsolated, true);
      assert.equal(w.defaultThreads, 2, `a worker on 2+ cores gets 2 threads (${w.singleThreadReason})`);
      assert.equal(w.singleThreadReason, null);
      const threadChecks = w.checks.filter((c) => /2 threads = 1 thread|thread worker/.test(c.name));
      assert.ok(threadChecks.length >= 10, `the threaded checks ran: ${threadChecks.map((c) => c.name).join('; ')}`);
      assert.deepEqual(problems, []);
    });

    await t.test('without COOP/COEP: one thread everywhere, saying why; the kernels still match', async () => {
      const { main, worker, problems } = await reports(plain.url);
      for (const [where, outcome] of [['main thread', main], ['worker', worker]] as const) {
        const r = passed(where, outcome);
        assert.equal(r.crossOriginIsolated, false);
        assert.equal(r.defaultThreads, 1);
        assert.match(r.singleThreadReason ?? '', /not cross-origin isolated/);
      }
      assert.deepEqual(problems, []);
    });
  } finally {
    await browser.close();
    await isolated.close();
    await plain.close();
    rmSync(out, { recursive: true, force: true });
  }
});
