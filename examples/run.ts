// `npm run example <name>` runs examples/<name>.ts.
import { readdirSync } from 'node:fs';

const name = process.argv[2];
const names = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
  .sort();
if (!name || !names.includes(name)) {
  process.stderr.write(`${name ? `no example named '${name}'. ` : ''}Usage: npm run example <name>\nExamples: ${names.join(', ')}\n`);
  process.exit(2);
}
await import(`./${name}.ts`);
