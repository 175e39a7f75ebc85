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
