// UsageError lives below the CLI so the library can export it without importing the CLI.
export { UsageError } from '../UsageError.js';

/**
 * The user stopped the command (Ctrl-C). The CLI prints its message, which says what was
 * kept, and exits with code 130, as a shell does for SIGINT.
 */
export class Interrupted extends Error {
  override name = 'Interrupted';
}
