/**
 * A mistake in how the command was called (an unknown flag, a bad value).
 * The CLI prints its message on one line and exits with code 2.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}
