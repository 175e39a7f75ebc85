import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';

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

/**
 * For a browser test: true when Chromium is here; otherwise skips `t` saying why and returns
 * false, or fails on CI (CI=true), where a missing browser is a failure.
 */
export function haveChromium(t: { skip(message?: string): void }): boolean {
  const missing = chromiumMissing();
  if (!missing) return true;
  if (process.env.CI === 'true') assert.fail(`the browser test needs Chromium on CI: ${missing}`);
  t.skip(missing);
  return false;
}

/** Chromium's flags for this sandboxed machine: no GPU, no sandbox (root), no background network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

/** The playground built into a temporary folder, served on a free port, and Chromium to open it. */
export interface PlaygroundInChromium {
  browser: import('playwright-core').Browser;
  url: string;
  /** Closes the browser and the server and removes the build. */
  close(): Promise<void>;
}

/**
 * Builds and serves the playground and launches Chromium, or returns null after skipping the
 * test where Chromium is missing (a failure under CI=true). `name` names the temporary folder.
 */
export async function playgroundInChromium(t: { skip(message: string): void }, name: string): Promise<PlaygroundInChromium | null> {
  if (!haveChromium(t)) return null;
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { chromium } = await import('playwright-core');
  const { startPlaygroundServer } = await import('../../src/cli/playground.js');
  const out = mkdtempSync(join(tmpdir(), `backprop-${name}-`));
  await (await loadBuildScript())({ outDir: out });
  const server = await startPlaygroundServer({ root: out, port: 0 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  return {
    browser,
    url: server.url,
    close: async () => {
      await browser.close();
      await server.close();
      rmSync(out, { recursive: true, force: true });
    },
  };
}
