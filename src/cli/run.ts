import { main } from './main.js';

// Entry point: `node --import tsx src/cli/run.ts train ...` in development; bin/backprop.js runs dist/.
process.exitCode = await main(process.argv.slice(2));
