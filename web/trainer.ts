/**
 * The page's training: the library's Trainer (src/train/Trainer.ts, the loop the CLI runs)
 * with the page's settings, one iteration per `step()`, so the worker can run it in slices and
 * still answer "pause" and "predict" between them. Pure code: runs in the worker and in Node tests.
 */
import type { LabeledData } from '../src/data/dataset.js';
import { TwoLayerNet } from '../src/nets/TwoLayerNet.js';
import { SGD } from '../src/optimizers/SGD.js';
import { Random } from '../src/random.js';
import { Tensor } from '../src/tensor/Tensor.js';
import { softmaxRows } from '../src/tensor/ops.js';
import { Trainer } from '../src/train/Trainer.js';
import type { EpochRecord } from '../src/train/train.js';
import { TrainingError } from '../src/train/TrainingError.js';
import { MAX_EPOCHS, type TrainFailure } from './protocol.js';

/** Training diverged, in the page's words (the way out is its Reset button); `failure` is what the worker posts. */
export class DivergedError extends TrainingError {
  constructor(readonly failure: Extract<TrainFailure, { kind: 'diverged' }>) {
    const { loss, iteration, lr } = failure;
    const what = Number.isFinite(loss) ? `rose to ${loss.toFixed(4)}` : `became ${loss}`;
    super(`the loss ${what} at iteration ${iteration}: training diverged; reset and try a smaller learning rate than ${lr}`, { iteration, loss, optimizer: 'sgd', lr });
  }
}

/** What the page lets the user choose. */
export interface TrainSettings {
  /** SGD learning rate (the book: 0.1). */
  lr: number;
  /** Hidden units (the book: 50). */
  hidden: number;
  /** Mini-batch size (the book: 100). */
  batchSize: number;
}

export const DEFAULT_SETTINGS: TrainSettings = { lr: 0.1, hidden: 50, batchSize: 100 };
/** Limits of the settings, shared by the page's form and the trainer's checks. */
export const LIMITS = { lr: { min: 0, max: 10 }, hidden: { min: 1, max: 1000 } } as const;

/**
 * One measurement, made once per epoch as in the book: the Trainer's record without its
 * `seconds` (they would count the time spent paused).
 */
export type EpochPoint = Omit<EpochRecord, 'seconds'>;

/** Why a setting is unusable, or null when all are fine. */
export function checkSettings(s: TrainSettings, trainSize: number): string | null {
  if (!(Number.isFinite(s.lr) && s.lr > LIMITS.lr.min && s.lr <= LIMITS.lr.max)) return `learning rate must be a number above ${LIMITS.lr.min} and at most ${LIMITS.lr.max}`;
  if (!(Number.isInteger(s.hidden) && s.hidden >= LIMITS.hidden.min && s.hidden <= LIMITS.hidden.max)) return `hidden units must be a whole number from ${LIMITS.hidden.min} to ${LIMITS.hidden.max}`;
  if (!(Number.isInteger(s.batchSize) && s.batchSize >= 1 && s.batchSize <= trainSize)) return `batch size must be a whole number from 1 to ${trainSize}`;
  return null;
}

/**
 * A TwoLayerNet(784, hidden, 10) trained by the library's Trainer with SGD, one iteration per
 * `step()`: batches drawn with replacement, an epoch point after iteration 1 and then every
 * iterPerEpoch iterations. One generator, seeded with `seed`, makes the initial weights and
 * then draws the batches.
 *
 * @example
 * const trainer = new SteppedTrainer(data, { lr: 0.1, hidden: 50, batchSize: 100 });
 * while (trainer.epochs.length < 3) trainer.step();
 * trainer.epochs.at(-1)!.testAccuracy; // about 0.8
 */
export class SteppedTrainer {
  readonly net: TwoLayerNet;
  /** SGD with the page's learning rate. */
  readonly optimizer: SGD;
  /** The loop itself: batches, backprop, the NaN check, the update and the epoch records. */
  readonly trainer: Trainer;
  /** One point per epoch: epoch 0 after iteration 1, epoch k after iteration k·iterPerEpoch + 1, as the book measures. */
  readonly epochs: EpochPoint[] = [];

  constructor(readonly data: { train: LabeledData; test: LabeledData }, readonly settings: TrainSettings, readonly seed = 0) {
    const problem = checkSettings(settings, data.train.x.shape[0]);
    if (problem) throw new RangeError(problem);
    const rng = new Random(seed);
    this.net = new TwoLayerNet(data.train.x.shape[1], settings.hidden, 10, 0.01, { rng });
    this.optimizer = new SGD({ lr: settings.lr });
    // the page stops at the point of epoch MAX_EPOCHS, made after iteration MAX_EPOCHS·iterPerEpoch + 1:
    // one epoch more than that leaves room for it
    this.trainer = new Trainer(this.net, data, { epochs: MAX_EPOCHS + 1, miniBatchSize: settings.batchSize, optimizer: this.optimizer, sampling: 'replacement', rng });
  }

  /** Iterations done. */
  get iteration(): number {
    return this.trainer.iteration;
  }

  /** Iterations per epoch: training set size / batch size. */
  get iterPerEpoch(): number {
    return this.trainer.iterPerEpoch;
  }

  /**
   * One SGD iteration; returns its loss and, when it ends an epoch, the new measurement.
   * @throws DivergedError when the loss is no longer finite, or an epoch's mean is twice the start's (the learning rate is too large).
   */
  step(): { loss: number; point: EpochPoint | null } {
    const records = this.trainer.history.length;
    let loss: number;
    try {
      loss = this.trainer.trainStep();
    } catch (e) {
      if (!(e instanceof TrainingError)) throw e;
      // the page's words: the way out is its Reset button
      const { iteration, loss } = e.details ?? { iteration: this.iteration + 1, loss: this.net.lastLayer.loss ?? NaN };
      throw new DivergedError({ kind: 'diverged', loss, iteration, lr: this.optimizer.hyperparameters.lr });
    }
    if (this.trainer.history.length === records) return { loss, point: null };
    const { seconds: _, ...point } = this.trainer.history[records];
    this.epochs.push(point);
    return { loss, point };
  }

  /** The ten class probabilities, softmax(predict(x)), for one image of 784 pixels in [0, 1]. */
  probabilities(pixels: ArrayLike<number>): Float32Array {
    const x = Tensor.from(pixels, [1, pixels.length]);
    return Float32Array.from(softmaxRows(this.net.predict(x)).data);
  }

  /** A copy of W1 (784 × hidden, row-major): column j holds hidden unit j's weights. */
  weights(): Float32Array {
    return Float32Array.from(this.net.params.W1.data);
  }
}
