/**
 * This project's side of the benchmark: the training step, the accuracy pass and the matrix
 * products on one backend, the wasm backend's memory over a long run, and the CLI's full
 * default training run.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../src/kernels/Backend.js';
import { TwoLayerNet } from '../src/nets/TwoLayerNet.js';
import { Tensor } from '../src/tensor/Tensor.js';
import { axpyInto, gatherRows } from '../src/tensor/ops.js';
import { BatchRows } from '../src/train/BatchRows.js';
import { toLabeledData, type LabeledData } from '../src/data/dataset.js';
import { loadBundledDigits } from '../src/data/bundledDigits.js';
import { BOOK_DEFAULTS, train } from '../src/train/train.js';
import { Random } from '../src/random.js';
import { SGD } from '../src/optimizers/SGD.js';
import type { WasmBackend } from '../src/kernels/wasm/index.js';
import { AutogradTwoLayerNet } from '../src/nets/AutogradTwoLayerNet.js';
import type { NamedTensors } from '../src/optimizers/Optimizer.js';
import {
  LAYER_CONV_BATCH, LAYER_CONV_PRODUCTS, MATMUL_SHAPES, RECIPE, childOutput, fillSin, lastLines, median, progress, skipProduct, timeProduct, totalIters,
  type ImplResult, type InitialWeights, type Settings, type Workload,
} from './shared.js';
import { localRow, type TrainingRow } from './rows.js';

/** A TwoLayerNet on `backend` starting from the shared initial weights. */
function makeNet(backend: Backend, init: InitialWeights): TwoLayerNet {
  const net = new TwoLayerNet(RECIPE.inputSize, RECIPE.hiddenSize, RECIPE.outputSize, RECIPE.weightInitStd, { backend, seed: RECIPE.seed });
  net.params.W1.data.set(init.W1);
  net.params.W2.data.set(init.W2);
  return net;
}

/** Parameters and their gradients by name, after forward and backward on one batch, and the batch's loss. */
type Backprop = (x: Tensor, t: Int32Array) => { loss: number; params: NamedTensors; grads: NamedTensors };

/** TwoLayerNet's hand-written backward (the book's layers). */
const layersBackprop = (net: TwoLayerNet): Backprop => (x, t) => {
  const grads = net.gradient(x, t);
  return { loss: net.lastLayer.loss!, params: net.params, grads };
};

/** The same net written with autograd (linear → relu → linear → softmaxCrossEntropy). */
const autogradBackprop = (net: AutogradTwoLayerNet): Backprop => (x, t) => {
  net.cleargrads();
  const loss = net.loss(x, t);
  loss.backward();
  return { loss: loss.data.data[0], params: net.paramTensors(), grads: net.gradTensors() };
};

/**
 * One training iteration as the loop of src/train/train.ts runs it, with the batch indices
 * taken from the shared sequence instead of drawn: gather, forward + loss, backward, SGD. With
 * `ahead` (as train.ts and the Trainer do for the TwoLayerNet), the next batch's rows are
 * gathered during this step (gatherRowsAhead: by idle threads, if any); else each step gathers
 * its own into the same tensor (the reusing loop the user's loop is compared with).
 */
class Stepper {
  private readonly rows: BatchRows;
  private readonly tBatch = new Int32Array(RECIPE.batchSize);
  private readonly backprop: Backprop;

  constructor(net: TwoLayerNet | Backprop, private readonly train: LabeledData, private readonly ahead = false) {
    this.backprop = net instanceof TwoLayerNet ? layersBackprop(net) : net;
    this.rows = new BatchRows(train.x);
  }

  /** The step of the batch `index`; `nextIndex` (with `ahead`): the next step's, or empty at the end. */
  step(index: Int32Array, nextIndex?: Int32Array): number {
    const { train, tBatch } = this;
    const xBatch = this.rows.pending ? this.rows.take() : this.rows.gather(index); // taken: gathered during the last step, from the same index
    if (this.ahead && nextIndex !== undefined && nextIndex.length > 0) this.rows.ahead(nextIndex);
    for (let j = 0; j < index.length; j++) tBatch[j] = train.labels[index[j]];
    const { loss, params, grads } = this.backprop(xBatch, tBatch);
    if (!Number.isFinite(loss)) throw new Error(`training diverged: loss ${loss}`);
    for (const key of TwoLayerNet.paramNames) axpyInto(-RECIPE.lr, grads[key], params[key]); // W ← W − lr·dW
    return loss;
  }
}

/** Autograd's two-layer step against the hand-written layers' step, on one backend, in alternating timed runs. */
export interface AutogradResult {
  backend: string;
  threads: number;
  layersMs: number;
  autogradMs: number;
  layersMsSamples: number[];
  autogradMsSamples: number[];
  /** The median over alternating pairs of runs of autograd's ms/iter over the layers'. */
  ratio: number;
  /** The same with the process's CPU time instead of wall time (less sensitive to other processes). */
  cpuRatio: number;
  /** Autograd's over the layers' 10th-percentile ms/iter: the runs other processes disturbed least. */
  fastRatio: number;
  /** The largest difference between the two nets' losses over the run (same weights, same batches). */
  maxLossDiff: number;
}

/** CPU time of the process so far, in ms (all its threads). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The 10th percentile. */
function tenth(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(0.1 * (s.length - 1))];
}

export function benchAutograd(backend: Backend, w: Workload): AutogradResult {
  const s = w.settings;
  const B = RECIPE.batchSize;
  const train = toLabeledData(w.data.train, { backend });
  const layers = new Stepper(makeNet(backend, w.init), train);
  const autogradNet = new AutogradTwoLayerNet(RECIPE.inputSize, RECIPE.hiddenSize, RECIPE.outputSize, { params: makeNet(backend, w.init).params });
  const autograd = new Stepper(autogradBackprop(autogradNet), train);
  const batch = (i: number) => w.batches.subarray(i * B, (i + 1) * B);
  let maxLossDiff = 0;
  let i = 0;
  for (; i < s.warmup; i++) maxLossDiff = Math.max(maxLossDiff, Math.abs(layers.step(batch(i)) - autograd.step(batch(i))));
  const layersMsSamples: number[] = [];
  const autogradMsSamples: number[] = [];
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  // short runs in alternation (layers, then autograd, on the same batches), so that a change of
  // machine load hits both alike; the ratio is the median of the pairs' ratios
  const pairs = s.runs * 20, iters = Math.max(1, Math.floor(s.itersPerRun / 20));
  for (let r = 0; r < pairs; r++) {
    const start = i % (totalIters(s) - iters);
    const losses: number[] = [];
    let [t, c] = [performance.now(), cpuMs()];
    for (let j = 0; j < iters; j++) losses.push(layers.step(batch(start + j)));
    layersMsSamples.push((performance.now() - t) / iters);
    const layersCpu = cpuMs() - c;
    [t, c] = [performance.now(), cpuMs()];
    for (let j = 0; j < iters; j++) maxLossDiff = Math.max(maxLossDiff, Math.abs(autograd.step(batch(start + j)) - losses[j]));
    autogradMsSamples.push((performance.now() - t) / iters);
    ratios.push(autogradMsSamples[r] / layersMsSamples[r]);
    cpuRatios.push((cpuMs() - c) / layersCpu);
    i += iters;
  }
  const layersMs = median(layersMsSamples), autogradMs = median(autogradMsSamples);
  const threads = (backend as { threads?: number }).threads ?? 1;
  return { backend: backend.name, threads, layersMs, autogradMs, layersMsSamples, autogradMsSamples, ratio: median(ratios), cpuRatio: median(cpuRatios), fastRatio: tenth(autogradMsSamples) / tenth(layersMsSamples), maxLossDiff };
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
    const xBatch = gatherRows(train.x, index); //          x_batch = x_train[batch_mask]
    const tBatch = index.map((i) => train.labels[i]); //    t_batch = t_train[batch_mask] (as examples/ write it)
    const grad = net.gradient(xBatch, tBatch); //          grad = network.gradient(x_batch, t_batch)
    this.optimizer.update(net.params, grad); //            params[key] -= learning_rate * grad[key]
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
  /** The same ratio with the process's CPU time instead of wall time (less sensitive to other processes). */
  cpuRatio: number;
  /** Iterations of each loop in the timed runs. */
  timedIters: number;
  /** Times the wasm heap reclaimed dropped blocks during the timed runs, and the ms they took. */
  reclaims: number;
  reclaimMs: number;
  warmupReclaims: number;
  warmupIters: number;
  /** Wasm memory with the data and nets in place, before either loop ran; and at the end. */
  wasmMemoryStartBytes: number;
  wasmMemoryBytes: number;
}

/** benchUserLoop in a new process (bench/userLoopProcess.ts: why), on the workload of `mode`'s settings. */
export function runUserLoop(mode: 'quick' | 'default' | 'full'): UserLoopResult {
  const script = fileURLToPath(new URL('./userLoopProcess.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, mode], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(lastLines(childOutput('bench/userLoopProcess.ts', r), 1)) as UserLoopResult;
}

/**
 * ms/iter of the user's loop (fresh batch each step), in runs alternating with as many runs of
 * the reusing loop, each on its own net from the shared weights and batches. The fresh loop's
 * cost comes in bursts (a reclaim of dropped blocks every few hundred or thousand steps), so:
 * means over runs, not medians; timing starts just after a reclaim, once a warm-up has let the
 * heap settle (its reclaim budget set, its memory grown to what the loop needs, as in the rest of
 * a 10,000-iteration book run), and goes on until the fresh runs include at least 3 reclaims,
 * so that the mean holds whole reclaim cycles. The backend is this row's own (its heap's policy is changed).
 */
export function benchUserLoop(backend: WasmBackend, label: string, w: Workload): UserLoopResult {
  const s = w.settings;
  const B = RECIPE.batchSize;
  const heap = backend.heap;
  const train = toLabeledData(w.data.train, { backend });
  const fresh = new UserLoop(makeNet(backend, w.init), train);
  const reuse = new Stepper(makeNet(backend, w.init), train);
  const wasmMemoryStartBytes = heap.byteLength;
  // The heap sets its reclaim budget from the bytes handed out per ms of the process's time, and
  // the reusing loop's runs take half of it here: half the share gives the budget the user's
  // loop gets when it runs alone, as it does in a user's program.
  heap.policy = { ...heap.policy, timeShare: heap.policy.timeShare / 2 };
  const iters = totalIters(s);
  const batch = (i: number) => w.batches.subarray((i % iters) * B, ((i % iters) + 1) * B);
  const maxSteps = s.quick ? 2_000 : 30_000; // per phase and loop: the bound when reclaims are rarer than that
  let i = 0;
  const both = () => {
    fresh.step(batch(i));
    reuse.step(batch(i));
    i++;
  };
  // warm-up: the normal one, then until two reclaim cycles in a row pass without the memory growing
  for (; i < s.warmup; i++) both();
  for (let flat = 0, r = heap.reclaims, bytes = heap.byteLength; flat < 2 && i < maxSteps;) {
    both();
    if (heap.reclaims !== r) {
      flat = heap.byteLength === bytes ? flat + 1 : 0;
      r = heap.reclaims;
      bytes = heap.byteLength;
    }
  }
  const warmupIters = i, warmupReclaims = heap.reclaims;
  const reclaimsBefore = heap.reclaims, reclaimMsBefore = heap.reclaimMs;
  const freshSamples: number[] = [];
  const reuseSamples: number[] = [];
  const cpu = { fresh: 0, reuse: 0 };
  let lossSum = 0;
  let timedIters = 0;
  const minRuns = 2 * s.runs;
  for (let r = 0; r < minRuns || (heap.reclaims - reclaimsBefore < 3 && timedIters < maxSteps); r++) {
    for (const which of r % 2 === 0 ? ['fresh', 'reuse'] : ['reuse', 'fresh']) {
      let sum = 0;
      const [t, c] = [performance.now(), cpuMs()];
      if (which === 'fresh') for (let j = 0; j < s.itersPerRun; j++) sum += fresh.step(batch(i + j));
      else for (let j = 0; j < s.itersPerRun; j++) reuse.step(batch(i + j));
      (which === 'fresh' ? freshSamples : reuseSamples).push((performance.now() - t) / s.itersPerRun);
      cpu[which as 'fresh' | 'reuse'] += cpuMs() - c;
      if (which === 'fresh') lossSum = sum;
    }
    i += s.itersPerRun;
    timedIters += s.itersPerRun;
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const freshMs = mean(freshSamples);
  return {
    result: {
      id: 'wasm-user-loop', label, threads: backend.threads,
      stepMs: freshMs, stepMsSamples: freshSamples,
      lastRunMeanLoss: lossSum / s.itersPerRun,
      notes: ['fresh batch tensor and label array every step (gatherRows without out), SGD.update; mean over runs, whole reclaim cycles'],
    },
    reuseMs: mean(reuseSamples),
    freshMs,
    cpuRatio: cpu.fresh / cpu.reuse,
    timedIters,
    reclaims: heap.reclaims - reclaimsBefore,
    reclaimMs: heap.reclaimMs - reclaimMsBefore,
    warmupReclaims, warmupIters,
    wasmMemoryStartBytes,
    wasmMemoryBytes: heap.byteLength,
  };
}

/**
 * settings.engineWarmup untimed steps on a throwaway copy of the net (the shared batches, in a
 * cycle): the engine reaches steady state while the timed net keeps the shared trajectory.
 */
function engineWarmup(backend: Backend, train: LabeledData, w: Workload): void {
  const stepper = new Stepper(makeNet(backend, w.init), train, true);
  const iters = totalIters(w.settings), B = RECIPE.batchSize;
  const batch = (i: number) => w.batches.subarray((i % iters) * B, ((i % iters) + 1) * B);
  for (let i = 0; i < w.settings.engineWarmup; i++) stepper.step(batch(i), i + 1 < w.settings.engineWarmup ? batch(i + 1) : undefined);
}

/**
 * This project's TwoLayerNet on one backend as a row of the training tables (bench/rows.ts): the engine warmed up first on a copy of the net (engineWarmup), then steps
 * of the shared batches, each gathering the next batch's rows ahead as the Trainer does.
 */
export function trainingRow(backend: Backend, label: string, id: string, threads: number, w: Workload): TrainingRow {
  const B = RECIPE.batchSize;
  const train = toLabeledData(w.data.train, { backend });
  const test = toLabeledData(w.data.test, { backend });
  const net = makeNet(backend, w.init);
  const stepper = new Stepper(net, train, true);
  const batch = (i: number) => w.batches.subarray(i * B, (i + 1) * B); // empty past the last
  if (backend.name !== 'js') engineWarmup(backend, train, w);
  const total = totalIters(w.settings);
  return localRow(
    // The slow backend's kernels are warm from training: no untimed pass.
    { id, label, threads, slow: backend.name === 'js' },
    (i) => {
      if (i >= total) throw new Error('bench: more steps than batches');
      return stepper.step(batch(i), batch(i + 1));
    },
    () => [net.accuracy(train.x, train.labels), net.accuracy(test.x, test.labels)],
  );
}

/**
 * GFLOPS of each product shape on one backend, with the arrays in the backend's own storage;
 * with `backOffs`, how many times the wasm backend's thread pool stepped back to one thread
 * (another process holding a core, see ThreadPool.useThreads) while each shape was timed.
 */
export function benchMatmul(backend: Backend, s: Settings, backOffs?: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  const slow = backend.name === 'js';
  const pool = backend.name === 'wasm' ? (backend as WasmBackend).pool : null;
  for (const sh of MATMUL_SHAPES) {
    if (skipProduct(s, sh, slow)) continue;
    // Storage views must be re-read after any allocation: a wasm memory may have grown.
    const a = backend.alloc(sh.m * sh.k, 'float32');
    const b = backend.alloc(sh.k * sh.n, 'float32');
    const c = backend.alloc(sh.m * sh.n, 'float32');
    fillSin(a.data);
    fillSin(b.data);
    const run = () => backend.matmul(a.data, b.data, c.data, sh.m, sh.k, sh.n, sh.transA, sh.transB, false);
    const before = pool?.backOffs ?? 0;
    out[sh.key] = timeProduct(run, 2 * sh.m * sh.k * sh.n, slow ? s.slowMatmulSamples : s.matmulSamples, s.matmulSampleMs, s.matmulBudgetMs);
    if (backOffs && pool) backOffs[sh.key] = pool.backOffs - before;
  }
  return out;
}

/**
 * GFLOPS of SimpleConvNet's products as its Convolution layer runs them (LAYER_CONV_PRODUCTS:
 * 100 per-image products, matmulBatch), arrays in the backend's storage.
 */
export function benchLayerConv(backend: Backend, s: Settings): Record<string, number> {
  const out: Record<string, number> = {};
  const N = LAYER_CONV_BATCH;
  for (const { key, m, k, n, transA, transB, shared, summed, biasRelu } of LAYER_CONV_PRODUCTS) {
    const a = backend.alloc((shared === 'A' ? 1 : N) * m * k, 'float32');
    const b = backend.alloc((shared === 'B' ? 1 : N) * k * n, 'float32');
    const c = backend.alloc((summed ? 1 : N) * m * n, 'float32');
    const bias = backend.alloc(m, 'float32');
    fillSin(a.data);
    fillSin(b.data);
    fillSin(bias.data);
    const strides = { a: shared === 'A' ? 0 : m * k, b: shared === 'B' ? 0 : k * n, c: summed ? 0 : m * n };
    const run = () => backend.matmulBatch(a.data, b.data, c.data, N, strides, m, k, n, transA, transB, false, biasRelu ? bias.data : null, biasRelu);
    out[key] = timeProduct(run, 2 * N * m * k * n, s.matmulSamples, s.matmulSampleMs, s.matmulBudgetMs);
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
