/** Training cannot go on (the loss diverged); the message says at which iteration and what to try. */
export class TrainingError extends Error {
  /** 'TrainingError', so printed messages and stack traces name the class. */
  override name = 'TrainingError';
}
