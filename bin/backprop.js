#!/usr/bin/env node
// The `backprop` command: runs the compiled CLI (dist/: shipped in the package; in a clone, `npm run build`, which `npm test` runs first).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('backprop: dist/ is missing: run `npm run build` in the repository first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
