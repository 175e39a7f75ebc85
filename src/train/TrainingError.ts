/** Where a run stood when it diverged, as a TrainingError records it. */
export interface DivergenceDetails {
  /** The iteration (counting from 1) whose loss showed it. */
  iteration: number;
  /** The loss that showed it: NaN or ±Infinity, or a finite epoch mean far above the start. */
  loss: number;
  /** The optimizer's name: 'sgd', 'adam', … */
  optimizer: string;
  /** The optimizer's learning rate. */
  lr: number;
}

/**
 * Training cannot go on (the loss diverged); the message says at which iteration, with which
 * optimizer and learning rate, and what to try. `details` holds the same facts as numbers.
 */
export class TrainingError extends Error {
  /** 'TrainingError', so printed messages and stack traces name the class. */
  override name = 'TrainingError';
  /** Where the run stood when it diverged, as numbers. */
  readonly details?: DivergenceDetails;

  /**
   * @param message the one line the CLI prints
   * @param details where the run stood
   */
  constructor(message: string, details?: DivergenceDetails) {
    super(message);
    this.details = details;
  }
}
