import type { Tensor } from '../tensor/Tensor.js';
import { axpyInto, gatherRows } from '../tensor/ops.js';
import type { LabeledData } from '../data/dataset.js';
import { Random } from '../random.js';
import { TrainingError } from './TrainingError.js';
import { noteSlowPath } from '../kernels/registry.js';

/** A network the book's training loop can train: parameters, backprop gradients, accuracy. */
export interface Trainable {
  readonly params: { [name: string]: Tensor };
  /** Backprop gradients for a batch, by parameter name; also computes the batch loss. */
  gradient(x: Tensor, t: Int32Array): { [name: string]: Tensor };
  /** The loss of the last forward pass. */
  readonly lastLayer: { readonly loss: number | null };
  accuracy(x: Tensor, t: Int32Array): number;
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
}

/** One evaluation, made once per epoch as in the book. */
export interface EpochRecord {
  /** Epochs done: whole numbers per epoch, fractional for the last record. */
  epoch: number;
  /** Iterations done so far. */
  iteration: number;
  /** Mean mini-batch loss over the iterations since the previous record. */
  loss: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** Seconds since training started. */
  seconds: number;
}

export interface TrainResult {
  history: EpochRecord[];
  final: EpochRecord;
  /** The loss of every iteration (the book's train_loss_list). */
  lossList: Float64Array;
}

export interface TrainCallbacks {
  onIteration?(iteration: number, loss: number): void;
  onEpoch?(record: EpochRecord): void;
}

export const BOOK_DEFAULTS = { iters: 10000, batchSize: 100, lr: 0.1, hidden: 50, weightInitStd: 0.01 } as const;

/**
 * Train by mini-batch SGD as the book's train_neuralnet.py: each iteration draws a batch
 * with replacement, computes gradients by backprop and steps W ← W − lr · dW; once per epoch
 * (train size / batch size iterations, the first after iteration 0) it measures train and
 * test accuracy. A final record follows the last iteration if it did not end an epoch.
 * Stops with a TrainingError if the loss stops being finite.
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

  const batchIndex = new Int32Array(batchSize);
  const tBatch = new Int32Array(batchSize);
  let xBatch: Tensor | null = null;
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
    rng.choice(trainSize, batchSize, batchIndex); // np.random.choice(train_size, batch_size)
    xBatch = gatherRows(data.train.x, batchIndex, xBatch);
    for (let j = 0; j < batchSize; j++) tBatch[j] = data.train.labels[batchIndex[j]];

    const grads = net.gradient(xBatch, tBatch);
    const loss = net.lastLayer.loss!;
    if (!Number.isFinite(loss)) {
      throw new TrainingError(`the loss became ${loss} at iteration ${i + 1} (lr ${lr}): training diverged; try a smaller learning rate (--lr)`);
    }
    for (const key of Object.keys(net.params)) axpyInto(-lr, grads[key], net.params[key]); // W ← W − lr·dW

    lossList[i] = loss;
    lossSum += loss;
    lossCount++;
    callbacks.onIteration?.(i + 1, loss);
    if (i % iterPerEpoch === 0) evaluate(i, i / iterPerEpoch);
  }
  const last = history[history.length - 1];
  // A last record after the final iteration, at a fractional epoch, when it did not end an epoch.
  const final = last.iteration === iters ? last : evaluate(iters - 1, Math.round((iters / iterPerEpoch) * 100) / 100);
  return { history, final, lossList };
}
