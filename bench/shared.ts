/**
 * What every implementation of the benchmark shares: the settings, the data, the initial
 * weights, the sequence of mini-batch indices, the matrix-product shapes, and the result types.
 *
 * Every implementation trains from the same initial weights on the same batches, in the same
 * order, so their losses and accuracies after the run should agree (up to float32 rounding):
 * that is the check that they all do the same work.
 */
import type { SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadBundledDigits } from '../src/data/bundledDigits.js';
import { loadIdxDataset } from '../src/data/idxFiles.js';
import type { ImageSet } from '../src/data/idx.js';
import { subset } from '../src/data/split.js';
import { Random } from '../src/random.js';

/** The book's recipe (train_neuralnet.py): 784-50-10, batch 100, lr 0.1, weights 0.01·N(0, 1). */
export const RECIPE = { inputSize: 784, hiddenSize: 50, outputSize: 10, batchSize: 100, lr: 0.1, weightInitStd: 0.01, seed: 0 } as const;

/** How long each measurement runs. */
export interface Settings {
  quick: boolean;
  full: boolean;
  /** Untimed training iterations before the timed runs. */
  warmup: number;
  /**
   * The wasm backends' extra untimed steps, on a separate copy of the net, before `warmup`: the
   * JIT's and the thread pool's warm-up (the handoff code reaches its speed after ~1,000
   * products), so that the timed runs see steady state. The timed net's batches are unchanged.
   */
  engineWarmup: number;
  /** Timed runs of `itersPerRun` iterations; ms/iteration is the median over runs. */
  runs: number;
  itersPerRun: number;
  /** The first steps of each timed run that are not timed (bench/rows.ts: the wake-up after another row's turn). */
  untimedPerRun: number;
  /** Accuracy passes: untimed, then timed (median). Slow implementations use `slowEvalRuns`, no warm-up. */
  evalWarmup: number;
  evalRuns: number;
  slowEvalRuns: number;
  /** Matrix products: samples of at least `matmulSampleMs` each (median); slow implementations take fewer. */
  matmulSamples: number;
  slowMatmulSamples: number;
  matmulSampleMs: number;
  /** About the longest one shape's timed samples may take. */
  matmulBudgetMs: number;
  /** Training iterations of the memory run of the wasm backend. */
  memoryIters: number;
}

export function settingsFor(quick: boolean, full: boolean): Settings {
  return quick
    ? { quick, full, warmup: 10, engineWarmup: 100, runs: 3, itersPerRun: 20, untimedPerRun: 2, evalWarmup: 1, evalRuns: 1, slowEvalRuns: 1, matmulSamples: 5, slowMatmulSamples: 1, matmulSampleMs: 5, matmulBudgetMs: 1000, memoryIters: 2000 }
    : { quick, full, warmup: 100, engineWarmup: 2000, runs: 5, itersPerRun: 100, untimedPerRun: 10, evalWarmup: 1, evalRuns: 3, slowEvalRuns: 1, matmulSamples: 11, slowMatmulSamples: 3, matmulSampleMs: 20, matmulBudgetMs: 3000, memoryIters: full ? 100_000 : 20_000 };
}

/** Total training iterations of every implementation's timed run. */
export function totalIters(s: Settings): number {
  return s.warmup + s.runs * s.itersPerRun;
}

/** A matrix product C = op(A)·op(B) with op(A) m×k and op(B) k×n. */
export interface MatmulShape {
  key: string;
  label: string;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
}

/** The three products of a training step of the 784-50-10 net, and a large square one. */
export const MATMUL_SHAPES: readonly MatmulShape[] = [
  { key: 'x·W1', label: '(100×784)·(784×50)', m: 100, k: 784, n: 50, transA: false, transB: false },
  { key: 'xT·dout', label: '(100×784)ᵀ·(100×50)', m: 784, k: 100, n: 50, transA: true, transB: false },
  { key: 'dout·W2T', label: '(100×50)·(784×50)ᵀ', m: 100, k: 50, n: 784, transA: false, transB: true },
  { key: '1000^3', label: '(1000×1000)²', m: 1000, k: 1000, n: 1000, transA: false, transB: false },
  // The book's SimpleConvNet (conv 30 filters 5×5 on 1×28×28, batch 100) as the book writes its
  // products, over the whole batch's im2col rows: forward col · W_colᵀ, backward dW = doutᵀ · col and
  // dcol = dout · W_col; then Affine 4320→100. (src/layers/Convolution.ts runs the same FLOPs as
  // 100 products per image, matmulBatch, so that its output needs no transpose.)
  { key: 'conv col·WT', label: 'conv (57600×25)·(30×25)ᵀ', m: 57600, k: 25, n: 30, transA: false, transB: true },
  { key: 'conv doutT·col', label: 'conv (57600×30)ᵀ·(57600×25)', m: 30, k: 57600, n: 25, transA: true, transB: false },
  { key: 'conv dout·W', label: 'conv (57600×30)·(30×25)', m: 57600, k: 30, n: 25, transA: false, transB: false },
  { key: 'affine 4320', label: '(100×4320)·(4320×100)', m: 100, k: 4320, n: 100, transA: false, transB: false },
];
/**
 * SimpleConvNet's products as src/layers/Convolution.ts runs them: 100 per-image products
 * (matmulBatch), the same FLOPs as the conv shapes above: out_n = W_col · col_nᵀ + b (row bias,
 * ReLU), dW = Σ_n dout_n · col_n, dcol_n = dout_nᵀ · W_col, with col_nᵀ as the layer keeps it
 * (im2colT: (25×576) per image). W_col is one matrix for every image (`shared`: A's or B's
 * stride 0); dW's C is summed over the images.
 */
export interface LayerConvProduct extends MatmulShape {
  shared: 'A' | 'B' | null;
  summed: boolean;
  /** The row bias and ReLU of the layer's forward. */
  biasRelu: boolean;
}
export const LAYER_CONV_PRODUCTS: readonly LayerConvProduct[] = [
  { key: 'forward', label: 'out_n = W_col·col_nᵀ + b, ReLU (30×25·25×576)', m: 30, k: 25, n: 576, transA: false, transB: false, shared: 'A', summed: false, biasRelu: true },
  { key: 'dW', label: 'dW = Σ_n dout_n·col_n (30×576·(25×576)ᵀ)', m: 30, k: 576, n: 25, transA: false, transB: true, shared: null, summed: true, biasRelu: false },
  { key: 'dcol', label: 'dcol_n = dout_nᵀ·W_col ((30×576)ᵀ·30×25)', m: 576, k: 30, n: 25, transA: true, transB: false, shared: 'B', summed: false, biasRelu: false },
];
/** Images of the batch, in LAYER_CONV_PRODUCTS. */
export const LAYER_CONV_BATCH = 100;
/** SimpleConvNet's im2col products (reported against the peaks with the MNIST ones). */
export const CONV_SHAPE_KEYS = ['conv col·WT', 'conv doutT·col', 'conv dout·W'] as const;
/** The shapes of the MNIST net (the ≥40 GFLOPS target). */
export const MNIST_SHAPE_KEYS = ['x·W1', 'xT·dout', 'dout·W2T'] as const;

/** The images every implementation trains and evaluates on. */
export interface BenchData {
  source: string;
  train: ImageSet;
  test: ImageSet;
}

export const FASHION_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * Fashion-MNIST (60,000 + 10,000) when it is installed, else the bundled digits' 8,000 / 2,000
 * split tiled to 60,000 + 10,000 rows, so the accuracy pass always covers 70,000 rows.
 */
export function loadBenchData(): BenchData {
  if (existsSync(FASHION_DIR)) {
    const { train, test } = loadIdxDataset(FASHION_DIR);
    return { source: `Fashion-MNIST (${FASHION_DIR})`, train, test };
  }
  return loadDigitsBenchData();
}

/** The bundled digits' 8,000 / 2,000 split tiled to 60,000 + 10,000 rows (the book's data: 80% of their pixels are 0). */
export function loadDigitsBenchData(): BenchData {
  const { train, test } = loadBundledDigits();
  const tile = (set: ImageSet, rows: number) => subset(set, Int32Array.from({ length: rows }, (_, i) => i % set.count));
  return { source: 'bundled MNIST digits (8,000 / 2,000) tiled to 60,000 / 10,000 rows', train: tile(train, 60000), test: tile(test, 10000) };
}

/** Initial weights W1 (784×50) and W2 (50×10), float64, drawn as TwoLayerNet draws them (b = 0). */
export interface InitialWeights {
  W1: Float64Array;
  W2: Float64Array;
}

export function initialWeights(): InitialWeights {
  const rng = new Random(RECIPE.seed);
  const draw = (n: number) => Float64Array.from({ length: n }, () => RECIPE.weightInitStd * rng.normal());
  const W1 = draw(RECIPE.inputSize * RECIPE.hiddenSize);
  const W2 = draw(RECIPE.hiddenSize * RECIPE.outputSize);
  return { W1, W2 };
}

/** `iters` mini-batches of indices drawn with replacement (np.random.choice(train_size, batch_size)). */
export function batchSequence(trainSize: number, iters: number): Int32Array {
  const rng = new Random(RECIPE.seed + 1);
  const out = new Int32Array(iters * RECIPE.batchSize);
  for (let i = 0; i < iters; i++) rng.choice(trainSize, RECIPE.batchSize, out.subarray(i * RECIPE.batchSize, (i + 1) * RECIPE.batchSize));
  return out;
}

/** Everything a training benchmark needs. */
export interface Workload {
  data: BenchData;
  init: InitialWeights;
  batches: Int32Array;
  settings: Settings;
}

// ------------------------------------------------------------------------- results

/** Training step, accuracy pass and products of one implementation. */
export interface ImplResult {
  id: string;
  label: string;
  /** Threads it computes on. */
  threads: number;
  /** Median ms per training iteration, and the per-run figures it comes from. */
  stepMs?: number;
  stepMsSamples?: number[];
  /** Median ms of one accuracy pass over the training and test sets. */
  evalMs?: number;
  evalMsSamples?: number[];
  /** Accuracies measured by that pass, after the timed training run. */
  trainAccuracy?: number;
  testAccuracy?: number;
  /** Mean batch loss over the last timed run. */
  lastRunMeanLoss?: number;
  /** Training iterations done before the accuracy pass. */
  iterations?: number;
  /** GFLOPS by shape key. */
  matmul?: Record<string, number>;
  /** The wasm backend's thread pool: times it stepped back to one thread while each shape was timed. */
  matmulBackOffs?: Record<string, number>;
  /** GFLOPS of SimpleConvNet's per-image products (LAYER_CONV_PRODUCTS), by key. */
  layerConv?: Record<string, number>;
  notes?: string[];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/**
 * Median GFLOPS of `run` (one product of `flops` FLOPs): repetitions per sample are doubled
 * until a sample lasts `sampleMs` (this also warms up); slow products take fewer samples, so
 * that one shape's samples last about `budgetMs` at most (at least one sample).
 */
export function timeProduct(run: () => void, flops: number, samples: number, sampleMs: number, budgetMs = 3000): number {
  let reps = 1;
  let sampleTime: number;
  for (;;) {
    const t = performance.now();
    for (let r = 0; r < reps; r++) run();
    sampleTime = performance.now() - t;
    if (sampleTime >= sampleMs) break;
    reps *= 2;
  }
  // One product already longer than the budget: the (warm) calibration run is the sample.
  if (reps === 1 && sampleTime >= budgetMs) return flops / (sampleTime * 1e6);
  const count = Math.max(1, Math.min(samples, Math.floor(budgetMs / sampleTime)));
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    for (let r = 0; r < reps; r++) run();
    ms.push((performance.now() - t) / reps);
  }
  return flops / (median(ms) * 1e6);
}

/** Values 0.5·sin(i), as scripts/measure-wasm.ts and the NumPy script fill product inputs. */
export function fillSin(a: Float32Array | Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i) * 0.5;
}

/** A progress line on stderr, so stdout holds only the report. */
export function progress(message: string): void {
  process.stderr.write(`… [${(performance.now() / 1000).toFixed(1)} s] ${message}\n`);
}

/** In --quick, the large product is skipped on the slow implementations (seconds per product). */
export function skipProduct(s: Settings, shape: MatmulShape, slow: boolean): boolean {
  return s.quick && slow && shape.m * shape.k * shape.n > 1e8;
}

/** The last lines of a child's output on one line, for an error message ('' if it printed nothing). */
export function lastLines(text: string, lines = 3): string {
  return text.trim().split('\n').slice(-lines).join(' | ');
}

/** Throws, saying why, where the child `what` could not start or exited other than 0; else its stdout. */
export function childOutput(what: string, r: SpawnSyncReturns<string>): string {
  if (r.error) throw new Error(`${what} could not start: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${lastLines(r.stderr || r.stdout) || 'no message'}`);
  return r.stdout;
}
