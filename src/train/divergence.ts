import { TrainingError } from './TrainingError.js';

/**
 * A run has diverged when the mean loss of a whole epoch is more than this many times the
 * loss at the start (see `divergenceThreshold`).
 *
 * Why 2: a softmax cross-entropy loss starts near ln C (ln 10 ≈ 2.30: every class equally
 * likely) and falls as a run learns; a run whose learning rate is far too large does not reach
 * NaN but sits at the ceiling the book's 1e-7 log guard allows, −ln 1e-7 · (1 − 1/C) ≈ 14.5,
 * because it is certain and wrong. Twice the start lies far from both. None of the book's
 * recipes comes near it (test/train/divergence.test.ts runs them).
 */
export const DIVERGENCE_FACTOR = 2;

/**
 * The epoch mean loss above which a run has diverged: DIVERGENCE_FACTOR times the loss at the
 * start, which is the first iteration's loss (taken before any update) or ln C, the loss of
 * guessing among C classes, whichever is larger. The ln C floor keeps a run that starts from
 * trained weights (a low first loss) from counting ordinary noise as divergence.
 */
export function divergenceThreshold(firstLoss: number, classes: number): number {
  return DIVERGENCE_FACTOR * Math.max(firstLoss, Math.log(Math.max(2, classes)));
}

/** The number of classes labels 0..max name: max + 1, at least 2. */
export function classCount(...labelSets: ArrayLike<number>[]): number {
  let max = 1;
  for (const labels of labelSets) for (let i = 0; i < labels.length; i++) if (labels[i] > max) max = labels[i];
  return max + 1;
}

/**
 * The TrainingError for a diverged run, in one wording for every loop (Trainer, train(),
 * compare-optimizers): a loss that is no longer finite ("the loss became NaN at iteration 2 …")
 * or an epoch mean far above the start ("the loss rose to 14.4781 at iteration 81, from 2.3031
 * at the start …"), then the optimizer, the learning rate and what to try.
 */
export function divergedError(d: { iteration: number; loss: number; optimizer: string; lr: number; start?: number; label?: string }): TrainingError {
  const what = Number.isFinite(d.loss) && d.start !== undefined
    ? `the loss rose to ${d.loss.toFixed(4)} at iteration ${d.iteration}, from ${d.start.toFixed(4)} at the start`
    : `the loss became ${d.loss} at iteration ${d.iteration}`;
  return new TrainingError(
    `${d.label ? `${d.label}: ` : ''}${what} (optimizer ${d.optimizer}, lr ${d.lr}): training diverged; try a smaller learning rate`,
    { iteration: d.iteration, loss: d.loss, optimizer: d.optimizer, lr: d.lr },
  );
}
