/**
 * This project's side of the benchmark: the training step, the accuracy pass and the matrix
 * products on one backend, the wasm backend's memory over a long run, and the CLI's full
 * default training run.
 */
import type { Backend } from '../src/kernels/Backend.js';
import { TwoLayerNet } from '../src/nets/TwoLayerNet.js';
import { Tensor } from '../src/tensor/Tensor.js';
import { axpyInto, gatherRows } from '../src/tensor/ops.js';
import { toLabeledData, type LabeledData } from '../src/data/dataset.js';
import { loadBundledDigits } from '../src/data/bundledDigits.js';
import { BOOK_DEFAULTS, train } from '../src/train/train.js';
import { Random } from '../src/random.js';
import { SGD } from '../src/optimizers/SGD.js';
import type { WasmBackend } from '../src/kernels/wasm/index.js';
import {
  MATMUL_SHAPES, RECIPE, fillSin, median, progress, skipProduct, timeProduct, totalIters,
  type ImplResult, type InitialWeights, type Settings, type Workload,
} from './shared.js';

/** A TwoLayerNet on `backend` starting from the shared initial weights. */
function makeNet(backend: Backend, init: InitialWeights): TwoLayerNet {
  const net = new TwoLayerNet(RECIPE.inputSize, RECIPE.hiddenSize, RECIPE.outputSize, RECIPE.weightInitStd, { backend, seed: RECIPE.seed });
  net.params.W1.data.set(init.W1);
  net.params.W2.data.set(init.W2);
  return net;
}

/**
 * One training iteration as the loop of src/train/train.ts runs it, with the batch indices
 * taken from the shared sequence instead of drawn: gather, forward + loss, backward, SGD.
 */
class Stepper {
  private xBatch: Tensor | null = null;
  private readonly tBatch = new Int32Array(RECIPE.batchSize);

  constructor(private readonly net: TwoLayerNet, private readonly train: LabeledData) {}

  step(index: Int32Array): number {
    const { net, train, tBatch } = this;
    this.xBatch = gatherRows(train.x, index, this.xBatch);
    for (let j = 0; j < index.length; j++) tBatch[j] = train.labels[index[j]];
    const grads = net.gradient(this.xBatch, tBatch);
    const loss = net.lastLayer.loss!;
    if (!Number.isFinite(loss)) throw new Error(`training diverged: loss ${loss}`);
    for (const key of TwoLayerNet.paramNames) axpyInto(-RECIPE.lr, grads[key], net.params[key]); // W ← W − lr·dW
    return loss;
  }
}

/**
 * The book's train_neuralnet.py as a library user writes it: every step a fresh batch tensor
 * (`x_batch = x_train[batch_mask]`: gatherRows without `out`) and label array, then
 * net.gradient and SGD.update. Nothing reused: the dropped batches are the heap's to recycle.
 */
class UserLoop {
  private readonly optimizer = new SGD({ lr: RECIPE.lr });

  constructor(private readonly net: TwoLayerNet, private readonly train: LabeledData) {}

  step(index: Int32Array): number {
    const { net, train } = this;
    const xBatch = gatherRows(train.x, index); //                     x_batch = x_train[batch_mask]
    const tBatch = Int32Array.from(index, (i) => train.labels[i]); // t_batch = t_train[batch_mask]
    const grad = net.gradient(xBatch, tBatch); //                     grad = network.gradient(x_batch, t_batch)
    this.optimizer.update(net.params, grad); //                       params[key] -= learning_rate * grad[key]
    const loss = net.lastLayer.loss!;
    if (!Number.isFinite(loss)) throw new Error(`training diverged: loss ${loss}`);
    return loss;
  }
}

/** The user's loop against the reusing loop (the bench's Stepper) on one backend, in alternating runs. */
export interface UserLoopResult {
  result: ImplResult;
  /** Mean ms/iter of the reusing loop over its runs, alternating with the user's loop's. */
  reuseMs: number;
  /** Mean ms/iter of the user's loop over its runs (reclaims included). */
  freshMs: number;
  /** Times the wasm heap reclaimed dropped blocks during the timed runs, and during the warm-up. */
  reclaims: number;
  warmupReclaims: number;
  warmupIters: number;
  wasmMemoryBytes: number;
}

/**
 * ms/iter of the user's loop (fresh batch each step), in runs alternating with the same number
 * of runs of the reusing loop, each on its own net from the shared weights and batches. Means
 * over runs rather than medians: the fresh loop's cost comes in bursts (a reclaim every few
 * hundred steps), which a median would hide.
 */
export function benchUserLoop(backend: WasmBackend, label: string, w: Workload): UserLoopResult {
  const s = w.settings;
  const B = RECIPE.batchSize;
  const train = toLabeledData(w.data.train, { backend });
  const fresh = new UserLoop(makeNet(backend, w.init), train);
  const reuse = new Stepper(makeNet(backend, w.init), train);
  const iters = totalIters(s);
  const batch = (i: number) => w.batches.subarray((i % iters) * B, ((i % iters) + 1) * B);
  // A longer warm-up than the other rows: the dropped batches must have filled the heap's
  // reclaim budget once (64 MiB or half the live data: a few hundred steps) before the loop runs
  // as it does for the rest of a 10,000-iteration book run, on blocks it has touched before.
  const warmup = s.quick ? 3 * s.warmup : 10 * s.warmup;
  for (let i = 0; i < warmup; i++) {
    fresh.step(batch(i));
    reuse.step(batch(i));
  }
  const runs = 2 * s.runs;
  const freshSamples: number[] = [];
  const reuseSamples: number[] = [];
  let lossSum = 0;
  const reclaimsBefore = backend.heap.reclaims;
  const warmupReclaims = reclaimsBefore;
  for (let r = 0, i = warmup; r < runs; r++, i += s.itersPerRun) {
    for (const which of r % 2 === 0 ? ['fresh', 'reuse'] : ['reuse', 'fresh']) {
      let sum = 0;
      const t = performance.now();
      if (which === 'fresh') for (let j = 0; j < s.itersPerRun; j++) sum += fresh.step(batch(i + j));
      else for (let j = 0; j < s.itersPerRun; j++) reuse.step(batch(i + j));
      (which === 'fresh' ? freshSamples : reuseSamples).push((performance.now() - t) / s.itersPerRun);
      if (which === 'fresh') lossSum = sum;
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const freshMs = mean(freshSamples);
  return {
    result: {
      id: 'wasm-user-loop', label, threads: backend.threads,
      stepMs: freshMs, stepMsSamples: freshSamples,
      lastRunMeanLoss: lossSum / s.itersPerRun,
      notes: ['fresh batch tensor and label array every step (gatherRows without out), SGD.update; mean over runs'],
    },
    reuseMs: mean(reuseSamples),
    freshMs,
    reclaims: backend.heap.reclaims - reclaimsBefore,
    warmupReclaims, warmupIters: warmup,
    wasmMemoryBytes: backend.heap.byteLength,
  };
}

/** Training step and accuracy pass of this project's TwoLayerNet on one backend. */
export function benchTraining(backend: Backend, label: string, id: string, threads: number, w: Workload): ImplResult {
  const s = w.settings;
  const B = RECIPE.batchSize;
  const train = toLabeledData(w.data.train, { backend });
  const test = toLabeledData(w.data.test, { backend });
  const net = makeNet(backend, w.init);
  const stepper = new Stepper(net, train);
  const batch = (i: number) => w.batches.subarray(i * B, (i + 1) * B);

  let i = 0;
  for (; i < s.warmup; i++) stepper.step(batch(i));
  const stepMsSamples: number[] = [];
  let lossSum = 0;
  for (let r = 0; r < s.runs; r++) {
    lossSum = 0;
    const t = performance.now();
    for (let j = 0; j < s.itersPerRun; j++, i++) lossSum += stepper.step(batch(i));
    stepMsSamples.push((performance.now() - t) / s.itersPerRun);
  }
  if (i !== totalIters(s)) throw new Error('bench: iteration count mismatch');

  const slow = backend.name === 'js';
  const evalPass = () => [net.accuracy(train.x, train.labels), net.accuracy(test.x, test.labels)];
  // The slow backend's kernels are warm from training: no untimed pass.
  for (let r = 0; r < (slow ? 0 : s.evalWarmup); r++) evalPass();
  const evalMsSamples: number[] = [];
  let acc = [NaN, NaN];
  for (let r = 0; r < (slow ? s.slowEvalRuns : s.evalRuns); r++) {
    const t = performance.now();
    acc = evalPass();
    evalMsSamples.push(performance.now() - t);
  }
  return {
    id, label, threads,
    stepMs: median(stepMsSamples), stepMsSamples,
    evalMs: median(evalMsSamples), evalMsSamples,
    trainAccuracy: acc[0], testAccuracy: acc[1],
    lastRunMeanLoss: lossSum / s.itersPerRun,
    iterations: i,
  };
}

/** GFLOPS of each product shape on one backend, with the arrays in the backend's own storage. */
export function benchMatmul(backend: Backend, s: Settings): Record<string, number> {
  const out: Record<string, number> = {};
  const slow = backend.name === 'js';
  for (const sh of MATMUL_SHAPES) {
    if (skipProduct(s, sh, slow)) continue;
    // Storage views must be re-read after any allocation: a wasm memory may have grown.
    const a = backend.alloc(sh.m * sh.k, 'float32');
    const b = backend.alloc(sh.k * sh.n, 'float32');
    const c = backend.alloc(sh.m * sh.n, 'float32');
    fillSin(a.data);
    fillSin(b.data);
    const run = () => backend.matmul(a.data, b.data, c.data, sh.m, sh.k, sh.n, sh.transA, sh.transB, false);
    out[sh.key] = timeProduct(run, 2 * sh.m * sh.k * sh.n, slow ? s.slowMatmulSamples : s.matmulSamples, s.matmulSampleMs, s.matmulBudgetMs);
  }
  return out;
}

export interface MemoryResult {
  backend: string;
  threads: number;
  iterations: number;
  seconds: number;
  start: { wasmMemoryBytes: number; wasmLiveBytes: number; rssBytes: number };
  end: { wasmMemoryBytes: number; wasmLiveBytes: number; rssBytes: number };
  /** RSS and wasm memory after a tenth of the run, when steady state should be reached. */
  afterTenth: { wasmMemoryBytes: number; wasmLiveBytes: number; rssBytes: number };
}

/** Trains `iters` iterations on the wasm backend (batches drawn as train() draws them) and samples memory. */
export function benchMemory(backend: WasmBackend, w: Workload, iters: number): MemoryResult {
  const train = toLabeledData(w.data.train, { backend });
  const net = makeNet(backend, w.init);
  const stepper = new Stepper(net, train);
  const rng = new Random(RECIPE.seed + 2);
  const index = new Int32Array(RECIPE.batchSize);
  const snap = () => ({ wasmMemoryBytes: backend.heap.byteLength, wasmLiveBytes: backend.heap.liveBytes, rssBytes: process.memoryUsage().rss });
  const start = snap();
  let afterTenth = start;
  const t = performance.now();
  const tenth = Math.floor(iters / 10);
  for (let i = 0; i < iters; i++) {
    stepper.step(rng.choice(train.x.shape[0], RECIPE.batchSize, index));
    if (i + 1 === tenth) afterTenth = snap();
    if ((i + 1) % 20000 === 0) progress(`memory run: ${i + 1} / ${iters} iterations`);
  }
  const seconds = (performance.now() - t) / 1000;
  return { backend: backend.name, threads: backend.threads, iterations: iters, seconds, start, afterTenth, end: snap() };
}

export interface FullRunResult {
  backend: string;
  threads: number;
  seconds: number;
  trainAccuracy: number;
  testAccuracy: number;
  iterations: number;
}

/**
 * The CLI's default run (`backprop train`): bundled digits split 8,000 / 2,000, 10,000
 * iterations of the book's recipe with a per-epoch evaluation, seed 0, via src/train/train.ts.
 */
export function fullRun(backend: Backend, threads: number): FullRunResult {
  const { train: trainSet, test: testSet } = loadBundledDigits({ splitSeed: 0 });
  const t = performance.now();
  const data = { train: toLabeledData(trainSet, { backend }), test: toLabeledData(testSet, { backend }) };
  const rng = new Random(0);
  const net = new TwoLayerNet(784, BOOK_DEFAULTS.hidden, 10, BOOK_DEFAULTS.weightInitStd, { rng, backend });
  const result = train(net, data, { iters: BOOK_DEFAULTS.iters, batchSize: BOOK_DEFAULTS.batchSize, lr: BOOK_DEFAULTS.lr, rng });
  const seconds = (performance.now() - t) / 1000;
  return {
    backend: backend.name, threads, seconds, iterations: BOOK_DEFAULTS.iters,
    trainAccuracy: result.final.trainAccuracy, testAccuracy: result.final.testAccuracy,
  };
}
