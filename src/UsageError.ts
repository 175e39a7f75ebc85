/**
 * A mistake in how the `backprop` command was called (an unknown flag, a bad value).
 * The CLI prints its message on one line and exits with code 2; a program that drives the
 * command functions can catch it by class.
 */
export class UsageError extends Error {
  /** 'UsageError', so printed messages and stack traces name the class. */
  override name = 'UsageError';
}
