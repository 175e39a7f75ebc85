// UsageError lives below the CLI so the library can export it without importing the CLI.
export { UsageError } from '../UsageError.js';
