/**
 * A mistake in how the command was called (an unknown flag, a bad value).
 * The CLI prints its message on one line and exits with code 2.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The user stopped the command (Ctrl-C). The CLI prints its message, which says what was
 * kept, and exits with code 130, as a shell does for SIGINT.
 */
export class Interrupted extends Error {
  override name = 'Interrupted';
}
