import type { Tensor } from '../tensor/Tensor.js';
import { axpyInto } from '../tensor/ops.js';
import type { LabeledData } from '../data/dataset.js';
import { Random } from '../random.js';
import { classCount, divergedError, divergenceThreshold } from './divergence.js';
import { BatchRows } from './BatchRows.js';
import { noteSlowPath } from '../kernels/registry.js';

/** A network the book's training loop can train: parameters, backprop gradients, accuracy. */
export interface Trainable {
  /** The parameters by name, updated in place. */
  readonly params: { [name: string]: Tensor };
  /** Backprop gradients for a batch, by parameter name; also computes the batch loss. */
  gradient(x: Tensor, t: Int32Array): { [name: string]: Tensor };
  /** The loss of the last forward pass. */
  readonly lastLayer: { readonly loss: number | null };
  /** The fraction of rows of x classified as their label. */
  accuracy(x: Tensor, t: Int32Array): number;
  /** False when gradient() draws no random numbers: see TrainerNetwork.drawsRandom. */
  readonly drawsRandom?: boolean;
}

/** The book's recipe (train_neuralnet.py) and its defaults. */
export interface TrainConfig {
  /** Total iterations (10,000). */
  iters: number;
  /** Mini-batch size (100). */
  batchSize: number;
  /** SGD learning rate (0.1). */
  lr: number;
  /** Generator for the mini-batches. */
  rng: Random;
  /** Stop with a TrainingError when an epoch's mean loss exceeds twice the start's (default true; see Trainer). */
  divergenceCheck?: boolean;
}

/** One evaluation, made once per epoch as in the book. */
export interface EpochRecord {
  /** Epochs done: whole numbers per epoch, fractional for the last record. */
  epoch: number;
  /** Iterations done so far. */
  iteration: number;
  /** Mean mini-batch loss over the iterations since the previous record. */
  loss: number;
  /** Accuracy on the training set. */
  trainAccuracy: number;
  /** Accuracy on the test set. */
  testAccuracy: number;
  /** Seconds since training started. */
  seconds: number;
}

/** What train() returns: the epoch records, the final one, and every iteration's loss. */
export interface TrainResult {
  /** One record per epoch, and the final one. */
  history: EpochRecord[];
  /** The record after the last iteration. */
  final: EpochRecord;
  /** The loss of every iteration (the book's train_loss_list). */
  lossList: Float64Array;
}

/** Called as training goes: for progress bars, charts and logs. */
export interface TrainCallbacks {
  /** After each iteration (counting from 1), with its batch loss. */
  onIteration?(iteration: number, loss: number): void;
  /** After each epoch's evaluation. */
  onEpoch?(record: EpochRecord): void;
}

/** The book's train_neuralnet.py settings: 10,000 iterations, batch 100, lr 0.1, 50 hidden units, weight std 0.01. */
export const BOOK_DEFAULTS = { iters: 10000, batchSize: 100, lr: 0.1, hidden: 50, weightInitStd: 0.01 } as const;

/**
 * Train by mini-batch SGD as the book's train_neuralnet.py: each iteration draws a batch
 * with replacement, computes gradients by backprop and steps W ← W − lr · dW; once per epoch
 * (train size / batch size iterations, the first after iteration 0) it measures train and
 * test accuracy. A final record follows the last iteration if it did not end an epoch.
 * Stops with a TrainingError if the loss stops being finite, or if an epoch's mean loss rises
 * above twice the loss at the start (`divergenceThreshold`; `divergenceCheck: false` turns it off).
 *
 * @example
 * ```ts
 * import { TwoLayerNet, Random, loadBundledDigits, toLabeledData, train } from 'backprop-ts';
 *
 * const digits = loadBundledDigits();                  // 8,000 training, 2,000 test images
 * const data = { train: toLabeledData(digits.train), test: toLabeledData(digits.test) };
 * const rng = new Random(42);
 * const net = new TwoLayerNet(784, 50, 10, 0.01, { rng });
 * const { final } = train(net, data, { iters: 100, batchSize: 100, lr: 0.1, rng },   // the book: 10,000 iterations
 *   { onEpoch: (r) => console.log(`epoch ${r.epoch}: test accuracy ${r.testAccuracy}`) });
 * console.log(final.testAccuracy);
 * ```
 */
export function train(net: Trainable, data: { train: LabeledData; test: LabeledData }, config: TrainConfig, callbacks: TrainCallbacks = {}): TrainResult {
  const { iters, batchSize, lr, rng } = config;
  noteSlowPath(data.train.x.backend);
  const trainSize = data.train.x.shape[0];
  if (!(Number.isInteger(iters) && iters > 0)) throw new RangeError(`train: iters must be a whole number > 0, got ${iters}`);
  if (!(Number.isInteger(batchSize) && batchSize > 0 && batchSize <= trainSize)) {
    throw new RangeError(`train: batch size must be a whole number in 1..${trainSize} (the training set size), got ${batchSize}`);
  }
  if (!(lr > 0 && Number.isFinite(lr))) throw new RangeError(`train: lr must be a finite number > 0, got ${lr}`);
  const iterPerEpoch = Math.max(1, Math.round(trainSize / batchSize));
  const classes = config.divergenceCheck === false ? 0 : classCount(data.train.labels, data.test.labels);
  let limit = Infinity; // the epoch mean loss above which the run has diverged, set by the first loss

  let batchIndex = new Int32Array(batchSize);
  let nextIndex = new Int32Array(batchSize);
  const tBatch = new Int32Array(batchSize);
  // the batch's rows; the next batch's, drawn a step ahead, gathered meanwhile (see TrainerNetwork.drawsRandom)
  const batchRows = new BatchRows(data.train.x);
  const lossList = new Float64Array(iters);
  const history: EpochRecord[] = [];
  const start = performance.now();
  let lossSum = 0;
  let lossCount = 0;

  const evaluate = (i: number, epoch: number): EpochRecord => {
    const record: EpochRecord = {
      epoch,
      iteration: i + 1,
      loss: lossSum / lossCount,
      trainAccuracy: net.accuracy(data.train.x, data.train.labels),
      testAccuracy: net.accuracy(data.test.x, data.test.labels),
      seconds: (performance.now() - start) / 1000,
    };
    lossSum = 0;
    lossCount = 0;
    history.push(record);
    callbacks.onEpoch?.(record);
    return record;
  };

  for (let i = 0; i < iters; i++) {
    let xBatch: Tensor;
    if (batchRows.pending) {
      xBatch = batchRows.take();
      const drawn = nextIndex; // swap: the batch drawn ahead becomes this one
      nextIndex = batchIndex;
      batchIndex = drawn;
    } else {
      rng.choice(trainSize, batchSize, batchIndex); // np.random.choice(train_size, batch_size)
      xBatch = batchRows.gather(batchIndex);
    }
    for (let j = 0; j < batchSize; j++) tBatch[j] = data.train.labels[batchIndex[j]];
    if (net.drawsRandom === false && i + 1 < iters) {
      rng.choice(trainSize, batchSize, nextIndex); // the same draw as the next iteration's, made now
      batchRows.ahead(nextIndex);
    }

    const grads = net.gradient(xBatch, tBatch);
    const loss = net.lastLayer.loss!;
    if (!Number.isFinite(loss)) throw divergedError({ iteration: i + 1, loss, optimizer: 'sgd', lr });
    for (const key of Object.keys(net.params)) axpyInto(-lr, grads[key], net.params[key]); // W ← W − lr·dW

    lossList[i] = loss;
    lossSum += loss;
    lossCount++;
    callbacks.onIteration?.(i + 1, loss);
    if (i === 0 && classes > 0) limit = divergenceThreshold(loss, classes);
    if (i % iterPerEpoch === 0) {
      if (i > 0 && lossSum / lossCount > limit) throw divergedError({ iteration: i + 1, loss: lossSum / lossCount, start: lossList[0], optimizer: 'sgd', lr });
      evaluate(i, i / iterPerEpoch);
    }
  }
  const last = history[history.length - 1];
  // A last record after the final iteration, at a fractional epoch, when it did not end an epoch.
  const final = last.iteration === iters ? last : evaluate(iters - 1, Math.round((iters / iterPerEpoch) * 100) / 100);
  return { history, final, lossList };
}
