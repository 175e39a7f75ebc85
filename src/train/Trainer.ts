import { Tensor } from '../tensor/Tensor.js';
import { gatherRows } from '../tensor/ops.js';
import type { LabeledData } from '../data/dataset.js';
import { Random, type RandomState } from '../random.js';
import { BatchRows } from './BatchRows.js';
import type { NamedTensors, Optimizer, OptimizerState } from '../optimizers/Optimizer.js';
import { createOptimizer } from '../optimizers/createOptimizer.js';
import { restoreTensors, type NetworkState } from '../nets/Sequential.js';
import type { EpochRecord, TrainCallbacks } from './train.js';
import type { TrainingError } from './TrainingError.js';
import { classCount, divergedError, divergenceThreshold } from './divergence.js';
import { noteSlowPath } from '../kernels/registry.js';

/**
 * A network the Trainer can train: parameters, backprop gradients and accuracy, like the
 * book's networks; TwoLayerNet, MultiLayerNet and Sequential all qualify.
 */
export interface TrainerNetwork {
  /** The parameters by name, updated in place by the optimizer. */
  readonly params: NamedTensors;
  /** Backprop gradients for a batch, by parameter name; computes the batch loss on the way. */
  gradient(x: Tensor, t: Int32Array): NamedTensors;
  /** The fraction of rows of x classified as their label. */
  accuracy(x: Tensor, t: Int32Array): number;
  /** The last loss with weight decay, if the network has it; else `lastLayer.loss` is used. */
  readonly lastLoss?: number | null;
  /** The loss layer; its `loss` is the last forward pass's. */
  readonly lastLayer: { readonly loss: number | null };
  /**
   * False when gradient() draws no random numbers (no Dropout): the Trainer may then draw the
   * next mini-batch a step ahead and gather it while this one trains (gatherRowsAhead), which
   * leaves the generator's sequence as it was. True or missing: each batch is drawn just before
   * its step, as the book's loop does, since the layers may share the Trainer's generator.
   */
  readonly drawsRandom?: boolean;
  /** Buffers and generators beyond the params (Sequential, MultiLayerNet); else only params are saved. */
  getState?(): NetworkState;
  /** Restore what getState returned. */
  setState?(state: NetworkState): void;
}

/** How mini-batches are drawn. */
export type Sampling = 'replacement' | 'shuffle';

/** How the Trainer trains: epochs or iterations, batch size, optimizer, sampling, generator. */
export interface TrainerOptions {
  /** Passes over the training set (20, as the book's trainer). */
  epochs?: number;
  /**
   * Total iterations instead of whole epochs (the book's train_neuralnet.py counts iterations:
   * 10,000). When given, `epochs` defaults to the epochs these iterations begin.
   */
  iters?: number;
  /** Rows per mini-batch (100). */
  miniBatchSize?: number;
  /** An optimizer, or its name for `createOptimizer` ('sgd', as the book's trainer). */
  optimizer?: Optimizer | string;
  /** Hyperparameters when `optimizer` is a name; the optimizer's defaults if not given (SGD's lr 0.01 is the book trainer's). */
  optimizerParams?: Record<string, number>;
  /** Evaluate each epoch on the first this-many rows of each set only (all rows if not given). */
  evaluateSampleNumPerEpoch?: number;
  /**
   * 'replacement' (default): every batch is drawn with replacement, as the book's
   * `np.random.choice(train_size, batch_size)`. 'shuffle': batches walk through a random
   * permutation, reshuffled when fewer than a batch of rows remain, so each row is seen once per pass.
   */
  sampling?: Sampling;
  /**
   * The generator of the mini-batches; or give `seed`. With a network that draws no random
   * numbers (TrainerNetwork.drawsRandom false), each batch is drawn during the step before its
   * own: a draw of yours from this generator in a callback comes after the next batch's.
   */
  rng?: Random;
  /** Seed of a new generator when `rng` is not given (default 0). */
  seed?: number;
  /**
   * Stop with a TrainingError when an epoch's mean loss rises above `divergenceThreshold`:
   * twice the loss at the start (default true). A loss that is NaN or infinite always stops it.
   */
  divergenceCheck?: boolean;
}

/** The result of `train()`. */
export interface TrainerResult {
  /** Records made every epoch, and the final one. */
  history: EpochRecord[];
  /** The evaluation after the last iteration, on every row of both sets (the book's final test accuracy). */
  final: EpochRecord;
  /** The loss of every iteration (the book's train_loss_list). */
  lossList: number[];
}

/**
 * Where a run stands, to save and resume it bit-identically: plain JSON-able numbers and
 * arrays, plus tensors in `optimizer.slots`, `network.params` and `network.buffers` (copies).
 */
export interface TrainerState {
  /** The state format's version. */
  version: 1;
  /** Iterations done. */
  iteration: number;
  /** Epochs done, iteration / iterPerEpoch (for information: setState reads `iteration`). */
  epoch: number;
  /** Iterations of the whole run. */
  maxIter: number;
  /** Iterations per epoch. */
  iterPerEpoch: number;
  /** Rows per mini-batch. */
  miniBatchSize: number;
  /** How mini-batches are drawn. */
  sampling: Sampling;
  /** The mini-batch generator's state. */
  rng: RandomState;
  /** The optimizer's hyperparameters, step and slots. */
  optimizer: OptimizerState;
  /** The network's parameters, buffers and generators. */
  network: NetworkState;
  /** The epoch records so far. */
  history: EpochRecord[];
  /** The loss of every iteration so far. */
  lossList: number[];
  /** Loss sum and count since the last record (the next record's mean loss). */
  lossSum: number;
  /** Iterations summed in lossSum. */
  lossCount: number;
  /** Training seconds before this state was taken. */
  seconds: number;
  /** With 'shuffle': the current permutation and the position in it. */
  order?: number[];
  /** With 'shuffle': the position in `order`. */
  cursor?: number;
}

/**
 * The book's common/trainer.py: mini-batch training for a number of epochs with any
 * optimizer, evaluating train and test accuracy once per epoch. Runs synchronously in Node
 * and in the browser; a page can call `trainStep()` a few times per animation frame instead of `train()`.
 *
 * Each iteration draws a mini-batch, computes gradients by backprop (the batch loss comes from
 * that same forward pass), stops with a TrainingError if the loss is NaN or infinite, and lets
 * the optimizer update the parameters. After iteration i (counting from 0) with
 * i % iterPerEpoch = 0 it records an epoch (iterPerEpoch = round(train size / batch size), at
 * least 1): the mean batch loss since the last record and the accuracies. A run whose epoch
 * mean loss exceeds twice the loss at the start has diverged without reaching NaN (the loss
 * sits at the log guard's ceiling): it stops with a TrainingError too, before that epoch is
 * recorded (`divergenceCheck: false` turns this off).
 *
 * For a network that draws no random numbers (TrainerNetwork.drawsRandom false) each
 * mini-batch is drawn during the step before its own and its rows gathered meanwhile
 * (gatherRowsAhead: on the wasm backend's idle threads): the same batches, the same numbers.
 * Don't change the training set's rows while a run is under way.
 *
 * @example
 * ```ts
 * import { MultiLayerNet, Trainer, loadBundledDigits, toLabeledData } from 'backprop-ts';
 *
 * const digits = loadBundledDigits();
 * const data = { train: toLabeledData(digits.train), test: toLabeledData(digits.test) };
 * const net = new MultiLayerNet(784, [100, 100], 10, { useBatchnorm: true, seed: 1 });
 * const trainer = new Trainer(net, data, { iters: 100, evaluateSampleNumPerEpoch: 1000, optimizer: 'adam', optimizerParams: { lr: 0.001 }, seed: 2 },  // the book: epochs: 20
 *   { onEpoch: (r) => console.log(`epoch ${r.epoch}: train ${r.trainAccuracy}, test ${r.testAccuracy}`) });
 * const { final } = trainer.train();
 * const checkpoint = trainer.getState();   // … later: trainer.setState(checkpoint); trainer.train();
 * console.log(final.testAccuracy, checkpoint.iteration);
 * ```
 */
export class Trainer {
  /** The optimizer that moves the parameters. */
  readonly optimizer: Optimizer;
  /** The generator of the mini-batches. */
  readonly rng: Random;
  /** Epochs of the run. */
  readonly epochs: number;
  /** Rows per mini-batch. */
  readonly miniBatchSize: number;
  /** How mini-batches are drawn. */
  readonly sampling: Sampling;
  /** Iterations per epoch: round(train size / batch size), at least 1. */
  readonly iterPerEpoch: number;
  /** Iterations of the whole run. */
  readonly maxIter: number;
  /** Rows of each set evaluated per epoch (all if undefined). */
  readonly evaluateSampleNumPerEpoch: number | undefined;
  /** Whether an epoch mean far above the start stops the run (TrainerOptions.divergenceCheck). */
  readonly divergenceCheck: boolean;
  private iter = 0;
  private records: EpochRecord[] = [];
  private losses: number[] = [];
  private lossSum = 0;
  private lossCount = 0;
  /** Seconds of training before the current timing started. */
  private secondsBefore = 0;
  private startedAt: number | null = null;
  private final: EpochRecord | null = null;
  private readonly trainSize: number;
  private batchIndex: Int32Array;
  private readonly tBatch: Int32Array;
  private readonly batchRows: BatchRows;
  private order: Int32Array | null = null;
  private cursor = 0;
  /**
   * The next mini-batch, drawn a step ahead (when the network draws no random numbers:
   * TrainerNetwork.drawsRandom) and being gathered by batchRows; and the generator and order
   * as they were before it was drawn (what getState saves).
   */
  private ahead: { index: Int32Array; rng: RandomState; order: Int32Array | null; cursor: number } | null = null;
  /** The object `ahead` is, reused from step to step (its `rng` written in place: getState copies it). */
  private readonly aheadRecord: { index: Int32Array; rng: RandomState; order: Int32Array | null; cursor: number };
  private nextIndex: Int32Array;
  private readonly trainSample: LabeledData;
  private readonly testSample: LabeledData;
  private readonly classes: number;

  /**
   * @param network The network to train.
   * @param data The training and test sets.
   * @param options Epochs or iterations, batch size, optimizer, sampling, generator.
   * @param callbacks Called after each iteration and each epoch record.
   */
  constructor(
    readonly network: TrainerNetwork,
    readonly data: { train: LabeledData; test: LabeledData },
    options: TrainerOptions = {},
    readonly callbacks: TrainCallbacks = {},
  ) {
    const { train, test } = data;
    noteSlowPath(train.x.backend);
    this.trainSize = train.x.shape[0];
    for (const [name, set] of [['train', train], ['test', test]] as const) {
      if (set.x.ndim < 1 || set.x.shape[0] !== set.labels.length) {
        throw new RangeError(`Trainer: the ${name} set has ${set.x.shape[0]} rows but ${set.labels.length} labels`);
      }
      if (set.labels.length === 0) throw new RangeError(`Trainer: the ${name} set is empty`);
    }
    const iters = options.iters;
    if (iters !== undefined && !(Number.isInteger(iters) && iters > 0)) throw new RangeError(`Trainer: iters must be a whole number > 0, got ${iters}`);
    this.miniBatchSize = options.miniBatchSize ?? 100;
    if (!(Number.isInteger(this.miniBatchSize) && this.miniBatchSize > 0 && this.miniBatchSize <= this.trainSize)) {
      throw new RangeError(`Trainer: miniBatchSize must be a whole number in 1..${this.trainSize} (the training set size), got ${this.miniBatchSize}`);
    }
    this.iterPerEpoch = Math.max(1, Math.round(this.trainSize / this.miniBatchSize));
    this.epochs = options.epochs ?? (iters === undefined ? 20 : Math.ceil(iters / this.iterPerEpoch));
    if (!(Number.isInteger(this.epochs) && this.epochs > 0)) throw new RangeError(`Trainer: epochs must be a whole number > 0, got ${this.epochs}`);
    this.maxIter = iters ?? this.epochs * this.iterPerEpoch;
    this.sampling = options.sampling ?? 'replacement';
    if (this.sampling !== 'replacement' && this.sampling !== 'shuffle') {
      throw new RangeError(`Trainer: sampling must be 'replacement' or 'shuffle', got '${String(this.sampling)}'`);
    }
    const sample = options.evaluateSampleNumPerEpoch;
    if (sample !== undefined && !(Number.isInteger(sample) && sample > 0)) {
      throw new RangeError(`Trainer: evaluateSampleNumPerEpoch must be a whole number > 0, got ${sample}`);
    }
    this.evaluateSampleNumPerEpoch = sample;
    this.divergenceCheck = options.divergenceCheck ?? true;
    this.classes = classCount(train.labels, test.labels);
    const opt = options.optimizer ?? 'sgd';
    if (typeof opt === 'string') {
      this.optimizer = createOptimizer(opt, options.optimizerParams ?? {});
    } else {
      if (options.optimizerParams) throw new RangeError('Trainer: optimizerParams apply only when optimizer is a name; set them on the optimizer you pass');
      this.optimizer = opt;
    }
    this.rng = options.rng ?? new Random(options.seed ?? 0);
    this.batchIndex = new Int32Array(this.miniBatchSize);
    this.nextIndex = new Int32Array(this.miniBatchSize);
    this.aheadRecord = { index: this.nextIndex, rng: { s: [0, 0, 0, 0], spare: null }, order: null, cursor: 0 };
    this.tBatch = new Int32Array(this.miniBatchSize);
    this.batchRows = new BatchRows(train.x);
    // the book evaluates on x[:t]: the first rows, copied once
    this.trainSample = firstRows(train, sample);
    this.testSample = firstRows(test, sample);
  }

  /** Iterations done. */
  get iteration(): number {
    return this.iter;
  }

  /** The epoch records so far. */
  get history(): readonly EpochRecord[] {
    return this.records;
  }

  /** The loss of every iteration so far (the book's train_loss_list). */
  get lossList(): readonly number[] {
    return this.losses;
  }

  /** Epochs done: iterations / iterPerEpoch. */
  get epoch(): number {
    return this.iter / this.iterPerEpoch;
  }

  /** Whether every iteration has run. */
  get done(): boolean {
    return this.iter >= this.maxIter;
  }

  /** Seconds spent training so far (across resumptions). */
  get seconds(): number {
    return this.secondsBefore + (this.startedAt === null ? 0 : (performance.now() - this.startedAt) / 1000);
  }

  /**
   * One iteration: a mini-batch, backprop, the NaN check, the update, and the epoch record
   * when one is due. Returns the batch loss.
   */
  trainStep(): number {
    if (this.done) throw new RangeError(`Trainer: all ${this.maxIter} iterations have run`);
    this.startedAt ??= performance.now();
    const { train } = this.data;
    const ahead = this.ahead;
    let xBatch: Tensor;
    if (ahead !== null) {
      // drawn and gathered during the last step
      this.ahead = null;
      xBatch = this.batchRows.take();
      this.nextIndex = this.batchIndex;
      this.batchIndex = ahead.index;
    } else {
      this.drawBatch(this.batchIndex);
      xBatch = this.batchRows.gather(this.batchIndex); // x_batch = x_train[batch_mask]
    }
    for (let j = 0; j < this.miniBatchSize; j++) this.tBatch[j] = train.labels[this.batchIndex[j]];
    if (this.network.drawsRandom === false && this.iter + 1 < this.maxIter) {
      // The next batch, drawn now (the generator's sequence is the same: nothing else draws
      // from it in between) and gathered by idle threads while this one trains.
      const record = this.aheadRecord;
      this.rng.getState(record.rng);
      record.order = this.order;
      record.cursor = this.cursor;
      this.drawBatch(this.nextIndex);
      this.batchRows.ahead(this.nextIndex);
      record.index = this.nextIndex;
      this.ahead = record;
    }

    const grads = this.network.gradient(xBatch, this.tBatch);
    const loss = this.network.lastLoss ?? this.network.lastLayer.loss;
    if (loss === null || !Number.isFinite(loss)) throw this.diverged(this.iter + 1, loss ?? NaN);
    this.optimizer.update(this.network.params, grads);

    const i = this.iter;
    this.iter++;
    this.losses.push(loss);
    this.lossSum += loss;
    this.lossCount++;
    this.callbacks.onIteration?.(this.iter, loss);
    if (i % this.iterPerEpoch === 0) {
      // a whole epoch's mean far above the start: diverged (checked before it is recorded or saved)
      const mean = this.lossSum / this.lossCount;
      const start = this.losses[0];
      if (this.divergenceCheck && i > 0 && mean > divergenceThreshold(start, this.classes)) throw this.diverged(this.iter, mean, start);
      this.record(i / this.iterPerEpoch, this.trainSample, this.testSample);
    }
    return loss;
  }

  private diverged(iteration: number, loss: number, start?: number): TrainingError {
    return divergedError({ iteration, loss, start, optimizer: this.optimizer.name, lr: this.optimizer.hyperparameters.lr });
  }

  /**
   * Runs the remaining iterations (all of them on a new trainer; the rest after setState), then
   * evaluates on every row of both sets. The final record joins the history unless the last
   * iteration already made a record on all rows.
   */
  train(): TrainerResult {
    while (!this.done) this.trainStep();
    if (this.final?.iteration !== this.iter) {
      const last = this.records[this.records.length - 1];
      const full = this.evaluateSampleNumPerEpoch === undefined;
      this.final = last && last.iteration === this.iter && full
        ? last
        : this.record(Math.round((this.iter / this.iterPerEpoch) * 100) / 100, this.data.train, this.data.test);
    }
    this.pauseClock();
    return { history: [...this.records], final: this.final, lossList: [...this.losses] };
  }

  /** A snapshot of the run: continue it later, here or elsewhere, with `setState`. */
  getState(): TrainerState {
    const net = this.network;
    const network: NetworkState = net.getState
      ? net.getState()
      : { params: Object.fromEntries(Object.entries(net.params).map(([k, t]) => [k, t.clone()])), buffers: {}, random: {} };
    const state: TrainerState = {
      version: 1,
      iteration: this.iter,
      epoch: this.epoch,
      maxIter: this.maxIter,
      iterPerEpoch: this.iterPerEpoch,
      miniBatchSize: this.miniBatchSize,
      sampling: this.sampling,
      rng: this.ahead ? { s: [...this.ahead.rng.s], spare: this.ahead.rng.spare } : this.rng.getState(), // as before the batch drawn ahead (a copy: the record is reused)
      optimizer: this.optimizer.getState(),
      network,
      history: this.records.map((r) => ({ ...r })),
      lossList: [...this.losses],
      lossSum: this.lossSum,
      lossCount: this.lossCount,
      seconds: this.seconds,
    };
    const [order, cursor] = this.ahead ? [this.ahead.order, this.ahead.cursor] : [this.order, this.cursor];
    if (order) {
      state.order = Array.from(order);
      state.cursor = cursor;
    }
    return state;
  }

  /**
   * Continue from a snapshot: restores the iteration and epoch counts, the history, the
   * generator, the optimizer and the network (parameters, buffers, generators, copied into
   * its own tensors). The trainer must have the same batch size, sampling and iterations per epoch.
   */
  setState(state: TrainerState): void {
    if (state.version !== 1) throw new RangeError(`Trainer.setState: unknown state version ${String(state.version)}`);
    for (const key of ['miniBatchSize', 'iterPerEpoch', 'sampling'] as const) {
      if (state[key] !== this[key]) {
        throw new RangeError(`Trainer.setState: the state has ${key} ${state[key]} but this trainer has ${this[key]}; build the trainer with the run's settings`);
      }
    }
    if (!(Number.isInteger(state.iteration) && state.iteration >= 0 && state.iteration <= this.maxIter)) {
      throw new RangeError(`Trainer.setState: iteration ${state.iteration} is outside 0..${this.maxIter} (this trainer's iterations)`);
    }
    if (state.sampling === 'shuffle' && state.order && state.order.length !== this.trainSize) {
      throw new RangeError(`Trainer.setState: the saved permutation covers ${state.order.length} rows but the training set has ${this.trainSize}`);
    }
    const net = this.network;
    if (net.setState) net.setState(state.network);
    else restoreTensors('params', net.params, state.network.params);
    this.optimizer.setState(state.optimizer);
    if (this.ahead !== null) this.batchRows.take(); // its rows are no longer wanted, but their tensor is written until then
    this.ahead = null;
    this.rng.setState(state.rng);
    this.iter = state.iteration;
    this.final = null;
    this.records = state.history.map((r) => ({ ...r }));
    this.losses = [...state.lossList];
    this.lossSum = state.lossSum;
    this.lossCount = state.lossCount;
    this.secondsBefore = state.seconds;
    this.startedAt = null;
    this.order = state.order ? Int32Array.from(state.order) : null;
    this.cursor = state.cursor ?? 0;
  }

  /** The next batch's row indices, into `index`. */
  private drawBatch(index: Int32Array): void {
    const n = this.miniBatchSize;
    if (this.sampling === 'replacement') {
      this.rng.choice(this.trainSize, n, index); // np.random.choice(train_size, batch_size)
      return;
    }
    if (!this.order || this.cursor + n > this.order.length) {
      this.order = this.rng.permutation(this.trainSize);
      this.cursor = 0;
    }
    index.set(this.order.subarray(this.cursor, this.cursor + n));
    this.cursor += n;
  }

  private record(epoch: number, train: LabeledData, test: LabeledData): EpochRecord {
    const record: EpochRecord = {
      epoch,
      iteration: this.iter,
      loss: this.lossCount ? this.lossSum / this.lossCount : NaN,
      trainAccuracy: this.network.accuracy(train.x, train.labels),
      testAccuracy: this.network.accuracy(test.x, test.labels),
      seconds: this.seconds,
    };
    this.lossSum = 0;
    this.lossCount = 0;
    this.records.push(record);
    this.callbacks.onEpoch?.(record);
    return record;
  }

  private pauseClock(): void {
    this.secondsBefore = this.seconds;
    this.startedAt = null;
  }
}

/** The first `n` rows of a data set (a copy), or the set itself when n is undefined or not smaller. */
function firstRows(set: LabeledData, n: number | undefined): LabeledData {
  const rows = set.x.shape[0];
  if (n === undefined || n >= rows) return set;
  const index = Int32Array.from({ length: n }, (_, i) => i);
  return { x: gatherRows(set.x, index), labels: set.labels.slice(0, n) };
}
