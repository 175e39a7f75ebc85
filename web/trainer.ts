/**
 * The book's training loop (train_neuralnet.py, as in src/train/train.ts) cut into single
 * iterations, so the worker can run it in slices and still answer "pause" and "predict"
 * between them. Pure code: runs in the worker and in Node tests.
 */
import type { LabeledData } from '../src/data/dataset.js';
import { TwoLayerNet } from '../src/nets/TwoLayerNet.js';
import { Random } from '../src/random.js';
import { Tensor } from '../src/tensor/Tensor.js';
import { axpyInto, gatherRows, softmaxRows } from '../src/tensor/ops.js';
import { TrainingError } from '../src/train/TrainingError.js';

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

/** One measurement, made once per epoch as in the book. */
export interface EpochPoint {
  epoch: number;
  /** Iterations done. */
  iteration: number;
  /** Mean mini-batch loss since the previous point. */
  loss: number;
  trainAccuracy: number;
  testAccuracy: number;
}

/** Why a setting is unusable, or null when all are fine. */
export function checkSettings(s: TrainSettings, trainSize: number): string | null {
  if (!(Number.isFinite(s.lr) && s.lr > LIMITS.lr.min && s.lr <= LIMITS.lr.max)) return `learning rate must be a number above ${LIMITS.lr.min} and at most ${LIMITS.lr.max}`;
  if (!(Number.isInteger(s.hidden) && s.hidden >= LIMITS.hidden.min && s.hidden <= LIMITS.hidden.max)) return `hidden units must be a whole number from ${LIMITS.hidden.min} to ${LIMITS.hidden.max}`;
  if (!(Number.isInteger(s.batchSize) && s.batchSize >= 1 && s.batchSize <= trainSize)) return `batch size must be a whole number from 1 to ${trainSize}`;
  return null;
}

/**
 * A TwoLayerNet(784, hidden, 10) and its mini-batch SGD, one iteration per `step()`.
 *
 * @example
 * const trainer = new SteppedTrainer(data, { lr: 0.1, hidden: 50, batchSize: 100 });
 * while (trainer.epochs.length < 3) trainer.step();
 * trainer.epochs.at(-1)!.testAccuracy; // about 0.8
 */
export class SteppedTrainer {
  readonly net: TwoLayerNet;
  /** Iterations done. */
  iteration = 0;
  /** One point per epoch: epoch 0 after iteration 1, epoch k after iteration k·iterPerEpoch + 1, as the book measures. */
  readonly epochs: EpochPoint[] = [];
  /** Iterations per epoch: training set size / batch size. */
  readonly iterPerEpoch: number;
  private readonly rng: Random;
  private readonly batchIndex: Int32Array;
  private readonly tBatch: Int32Array;
  private xBatch: Tensor | null = null;
  private lossSum = 0;
  private lossCount = 0;

  constructor(readonly data: { train: LabeledData; test: LabeledData }, readonly settings: TrainSettings, seed = 0) {
    const trainSize = data.train.x.shape[0];
    const problem = checkSettings(settings, trainSize);
    if (problem) throw new RangeError(problem);
    this.rng = new Random(seed);
    this.net = new TwoLayerNet(data.train.x.shape[1], settings.hidden, 10, 0.01, { rng: this.rng });
    this.iterPerEpoch = Math.max(1, Math.round(trainSize / settings.batchSize));
    this.batchIndex = new Int32Array(settings.batchSize);
    this.tBatch = new Int32Array(settings.batchSize);
  }

  /**
   * One SGD iteration; returns its loss and, when it ends an epoch, the new measurement.
   * @throws TrainingError when the loss is no longer finite (the learning rate is too large).
   */
  step(): { loss: number; point: EpochPoint | null } {
    const { train } = this.data;
    const { batchSize, lr } = this.settings;
    this.rng.choice(train.x.shape[0], batchSize, this.batchIndex); // np.random.choice(train_size, batch_size)
    this.xBatch = gatherRows(train.x, this.batchIndex, this.xBatch);
    for (let j = 0; j < batchSize; j++) this.tBatch[j] = train.labels[this.batchIndex[j]];
    const grads = this.net.gradient(this.xBatch, this.tBatch);
    const loss = this.net.lastLayer.loss!;
    if (!Number.isFinite(loss)) {
      throw new TrainingError(`the loss became ${loss} at iteration ${this.iteration + 1}: training diverged; reset and try a smaller learning rate than ${lr}`);
    }
    for (const key of TwoLayerNet.paramNames) axpyInto(-lr, grads[key], this.net.params[key]); // W ← W − lr·dW
    const i = this.iteration++;
    this.lossSum += loss;
    this.lossCount++;
    return { loss, point: i % this.iterPerEpoch === 0 ? this.measure(i / this.iterPerEpoch) : null };
  }

  private measure(epoch: number): EpochPoint {
    const { train, test } = this.data;
    const point: EpochPoint = {
      epoch,
      iteration: this.iteration,
      loss: this.lossSum / this.lossCount,
      trainAccuracy: this.net.accuracy(train.x, train.labels),
      testAccuracy: this.net.accuracy(test.x, test.labels),
    };
    this.lossSum = 0;
    this.lossCount = 0;
    this.epochs.push(point);
    return point;
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
