import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type Browser, type Page, chromium } from 'playwright-core';
import { startPlaygroundServer } from '../../src/cli/playground.js';

/** scripts/build-web.mjs's `buildWeb`, typed (the script is plain JavaScript). */
export type BuildWeb = (options?: { outDir?: string; minify?: boolean }) => Promise<{ file: string; bytes: number }[]>;

export async function loadBuildScript(): Promise<BuildWeb> {
  const url = new URL('../../scripts/build-web.mjs', import.meta.url).href;
  return ((await import(url)) as { buildWeb: BuildWeb }).buildWeb;
}

/** Debian's Chromium, which the browser tests drive with playwright-core (BACKPROP_CHROMIUM overrides the path). */
export const CHROMIUM = process.env.BACKPROP_CHROMIUM || '/usr/bin/chromium';

/**
 * Why the browser tests cannot run here, or null when they can. On CI (CI=true) a missing
 * browser is a failure, elsewhere a skip.
 */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing: apt-get install chromium`;
}

/** Chromium's flags for this sandboxed machine: no GPU, no sandbox (root), no background network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

/** Opens a page and records every page error and console error in `problems`. */
export async function openPage(browser: Browser, url: string, problems: string[], options: Parameters<Browser['newPage']>[0] = {}): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, ...options });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  await page.goto(url);
  return page;
}

/** The text of the first element matching `selector`. */
export const textOf = async (page: Page, selector: string): Promise<string> => (await page.locator(selector).first().textContent()) ?? '';

/** What a browser test gets: the built page's address, the browser, and the errors seen so far. */
export interface Playground {
  url: string;
  browser: Browser;
  /** Page errors and console errors of every page opened with `openPage(…, problems)`. */
  problems: string[];
}

/**
 * Builds the playground into a temporary folder, serves it on a free port and starts headless
 * Chromium for `body`; skips (or on CI fails) without Chromium, and cleans up afterwards.
 */
export async function withPlayground(t: TestContext, prefix: string, body: (p: Playground) => Promise<void>): Promise<void> {
  const missing = chromiumMissing();
  if (missing) {
    if (process.env.CI === 'true') assert.fail(`the browser test needs Chromium on CI: ${missing}`);
    t.skip(missing);
    return;
  }
  const out = mkdtempSync(join(tmpdir(), prefix));
  await (await loadBuildScript())({ outDir: out });
  const server = await startPlaygroundServer({ root: out, port: 0 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  try {
    await body({ url: server.url, browser, problems: [] });
  } finally {
    await browser.close();
    await server.close();
    rmSync(out, { recursive: true, force: true });
  }
}
