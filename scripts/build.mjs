#!/usr/bin/env node
/**
 * Builds everything the package ships, from a clean dist/:
 *
 *   1. the wasm kernels and the thread worker   (scripts/build-wasm.mjs, skipped when up to date)
 *   2. the bundled digits                       (scripts/build-digits.mjs, skipped when up to date)
 *   3. dist/: the library and the CLI           (tsc -p tsconfig.json), with the generated files of
 *      1 and 2 copied beside the modules that find them by `new URL('./generated/…', import.meta.url)`
 *   4. web/dist/: the playground page           (scripts/build-web.mjs), served by `backprop playground`
 *
 * Run by `npm pack` / `npm publish` (prepack) and before `npm test` (pretest); developers' other
 * commands (start, example, backprop, playground, bench) need only 1 and 2 (`npm run assets`).
 *
 * Usage: node scripts/build.mjs [--no-web]
 */
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const started = performance.now();
const run = (script, ...args) => execFileSync(process.execPath, [resolve(root, script), ...args], { cwd: root, stdio: 'inherit' });

run('scripts/build-wasm.mjs');
run('scripts/build-digits.mjs');
rmSync(join(root, 'dist'), { recursive: true, force: true });
run(createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', 'tsconfig.json');
for (const dir of ['kernels/wasm/generated', 'data/generated']) cpSync(join(root, 'src', dir), join(root, 'dist', dir), { recursive: true });
if (!process.argv.includes('--no-web')) {
  const { buildWeb } = await import('./build-web.mjs');
  await buildWeb();
}
console.log(`build: dist/${process.argv.includes('--no-web') ? '' : ' and web/dist/'} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
