/**
 * TensorFlow.js 4.x reference: the same 784-50-10 net and step on its CPU and WASM backends.
 *
 * Fair to TF.js as the team's measured notes (../shared/notes/fast-kernels.md, beside the repository) advise:
 * - products with transposed operands use an explicit tf.transpose (matMul's transpose flags
 *   take a slow scalar path in the WASM backend);
 * - the mini-batch is gathered in JavaScript and uploaded with tf.tensor2d (tf.gather costs more);
 * - gradients either written by hand as the book's backward (dy = (y − t)/N, dW2 = z1ᵀ·dy, ...)
 *   or by tf.valueAndGrads: a short trial on each backend picks the faster.
 * In Node the WASM backend runs on one thread (WASM_HAS_MULTITHREAD_SUPPORT is false there).
 * TF.js is imported lazily, so runs without it never load it.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Scalar, Tensor, Tensor2D } from '@tensorflow/tfjs';
import { interleave, localRow, type TrainingRow } from './rows.js';
import { MATMUL_SHAPES, RECIPE, fillSin, median, skipProduct, timeProduct, totalIters, type ImplResult, type Workload } from './shared.js';

type TF = typeof import('@tensorflow/tfjs');

let tfPromise: Promise<TF> | null = null;

/** @tensorflow/tfjs with the WASM backend registered and its .wasm files found on disk (offline). */
async function loadTf(): Promise<TF> {
  tfPromise ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    // A file path ending in '/': the backend reads tfjs-backend-wasm-simd.wasm from there with fs.
    wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
    return tf;
  })();
  return tfPromise;
}

export type GradientMode = 'manual' | 'auto';

export interface TfjsRun {
  results: ImplResult[];
  version: string;
  wasmSimd: boolean;
  wasmThreads: boolean;
  /** Per backend: the gradient code used and the trial timings (ms/iteration) it was chosen by. */
  gradients: Record<string, { used: GradientMode; trialMs?: Record<GradientMode, number> }>;
}

/**
 * TF.js's side of the bench: `start` sets up the WASM backend's training row (after the trial
 * that picks its gradient code, unless `force`d), which bench/rows.ts runs with the other rows
 * (in turns with them under --turns); `finish` then adds its products and runs the CPU backend's row (alone: TF.js has
 * one current backend) and products.
 */
export class TfjsSide {
  private constructor(
    private readonly tf: TF,
    private readonly w: Workload,
    private readonly force: GradientMode | undefined,
    /** The WASM backend's training row. */
    readonly row: TrainingRow,
    private readonly dispose: () => void,
    private readonly gradients: TfjsRun['gradients'],
    private readonly wasmSimd: boolean,
    private readonly wasmThreads: boolean,
  ) {}

  static async start(w: Workload, force?: GradientMode): Promise<TfjsSide> {
    const tf = await loadTf();
    const gradients: TfjsRun['gradients'] = {};
    await useBackend(tf, 'wasm');
    const wasmSimd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    const wasmThreads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
    const { row, dispose } = trainingRow(tf, w, 'wasm', pickMode(tf, w, force, gradients, 'wasm'));
    return new TfjsSide(tf, w, force, row, dispose, gradients, wasmSimd, wasmThreads);
  }

  /** The WASM row's products (its result from bench/rows.ts given), then the CPU backend's row and products. */
  async finish(wasm: ImplResult): Promise<TfjsRun> {
    const { tf, w } = this;
    this.dispose();
    wasm.matmul = matmulGflops(tf, w, false);
    await useBackend(tf, 'cpu');
    const cpu = trainingRow(tf, w, 'cpu', pickMode(tf, w, this.force, this.gradients, 'cpu'));
    const [cpuResult] = await interleave([cpu.row], w.settings, 'TF.js CPU');
    cpu.dispose();
    cpuResult.matmul = matmulGflops(tf, w, true);
    return { results: [wasm, cpuResult], version: tf.version.tfjs, wasmSimd: this.wasmSimd, wasmThreads: this.wasmThreads, gradients: this.gradients };
  }
}

async function useBackend(tf: TF, name: 'wasm' | 'cpu'): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`TF.js backend '${name}' did not initialise`);
  await tf.ready();
}

/** The gradient code for `backend`: `force`, or the faster in a short trial (recorded in `gradients`). */
function pickMode(tf: TF, w: Workload, force: GradientMode | undefined, gradients: TfjsRun['gradients'], backend: string): GradientMode {
  if (force !== undefined) {
    gradients[backend] = { used: force };
    return force;
  }
  const trialMs = trial(tf, w);
  const mode = trialMs.manual <= trialMs.auto ? 'manual' : 'auto';
  gradients[backend] = { used: mode, trialMs };
  return mode;
}

/** The net's variables and its training step on the current TF.js backend. */
interface Trainer {
  step(index: Int32Array): number;
  /** Fraction of rows of x (resident tensor) whose prediction is the label. */
  accuracy(x: Tensor2D, labels: Uint8Array): number;
  dispose(): void;
}

/** Pixels / 255 in float32, as toLabeledData makes them; batches are gathered from these. */
function scaled(images: Uint8Array): Float32Array {
  const x = new Float32Array(images.length);
  for (let i = 0; i < x.length; i++) x[i] = images[i] / 255;
  return x;
}

function makeTrainer(tf: TF, w: Workload, xTrain: Float32Array, mode: GradientMode): Trainer {
  const B = RECIPE.batchSize;
  const D = RECIPE.inputSize;
  const C = RECIPE.outputSize;
  const labels = w.data.train.labels;
  const W1 = tf.variable(tf.tensor2d(Float32Array.from(w.init.W1), [D, RECIPE.hiddenSize]));
  const b1 = tf.variable(tf.zeros([RECIPE.hiddenSize]));
  const W2 = tf.variable(tf.tensor2d(Float32Array.from(w.init.W2), [RECIPE.hiddenSize, C]));
  const b2 = tf.variable(tf.zeros([C]));
  const lr = tf.scalar(RECIPE.lr);
  const xb = new Float32Array(B * D);
  const tb = new Float32Array(B * C);

  const step = (index: Int32Array): number => {
    for (let j = 0; j < B; j++) xb.set(xTrain.subarray(index[j] * D, (index[j] + 1) * D), j * D); // gather in JS
    tb.fill(0);
    for (let j = 0; j < B; j++) tb[j * C + labels[index[j]]] = 1; // one-hot, as the book's t
    const loss = tf.tidy(() => {
      const x = tf.tensor2d(xb, [B, D]);
      const t = tf.tensor2d(tb, [B, C]);
      if (mode === 'auto') {
        const lossOf = (w1: Tensor, c1: Tensor, w2: Tensor, c2: Tensor): Scalar => {
          const y = tf.softmax(tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), c1)), w2), c2));
          return tf.neg(tf.div(tf.sum(tf.mul(t, tf.log(tf.add(y, 1e-7)))), B)) as Scalar;
        };
        const { value, grads } = tf.valueAndGrads(lossOf as (...args: Tensor[]) => Scalar)([W1, b1, W2, b2]);
        [W1, b1, W2, b2].forEach((v, i) => v.assign(tf.sub(v, tf.mul(lr, grads[i]))));
        return value;
      }
      const a1 = tf.add(tf.matMul(x, W1), b1); //          Affine1
      const z1 = tf.relu(a1); //                            Relu1
      const y = tf.softmax(tf.add(tf.matMul(z1, W2), b2)); // Affine2, softmax
      const loss = tf.neg(tf.div(tf.sum(tf.mul(t, tf.log(tf.add(y, 1e-7)))), B)); // cross-entropy
      const dy = tf.div(tf.sub(y, t), B); //                dy = (y − t) / N
      const dW2 = tf.matMul(tf.transpose(z1), dy); //       dW2 = z1ᵀ · dy
      const db2 = tf.sum(dy, 0);
      const dz1 = tf.matMul(dy, tf.transpose(W2)); //       dz1 = dy · W2ᵀ
      const da1 = tf.mul(dz1, tf.step(a1)); //              Relu backward: where a1 > 0
      const dW1 = tf.matMul(tf.transpose(x), da1); //       dW1 = xᵀ · da1 (Affine1's dx skipped)
      const db1 = tf.sum(da1, 0);
      W1.assign(tf.sub(W1, tf.mul(lr, dW1)));
      b1.assign(tf.sub(b1, tf.mul(lr, db1)));
      W2.assign(tf.sub(W2, tf.mul(lr, dW2)));
      b2.assign(tf.sub(b2, tf.mul(lr, db2)));
      return loss;
    });
    const v = loss.dataSync()[0];
    loss.dispose();
    if (!Number.isFinite(v)) throw new Error(`TF.js: training diverged (loss ${v})`);
    return v;
  };

  const accuracy = (x: Tensor2D, truth: Uint8Array): number => {
    const pred = tf.tidy(() => tf.argMax(tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, W1), b1)), W2), b2), 1));
    const p = pred.dataSync();
    pred.dispose();
    let correct = 0;
    for (let k = 0; k < truth.length; k++) if (p[k] === truth[k]) correct++;
    return correct / truth.length;
  };
  return { step, accuracy, dispose: () => tf.dispose([W1, b1, W2, b2, lr]) };
}

/**
 * Median ms/iteration of each gradient code over a short run from the initial weights, steps of
 * the two interleaved so that a busy machine slows both alike.
 */
function trial(tf: TF, w: Workload): Record<GradientMode, number> {
  const xTrain = scaled(w.data.train.images);
  const modes: GradientMode[] = ['manual', 'auto'];
  const trainers = modes.map((m) => makeTrainer(tf, w, xTrain, m));
  const B = RECIPE.batchSize;
  const [warm, n] = w.settings.quick ? [3, 7] : [5, 20];
  const ms: number[][] = [[], []];
  for (let i = 0; i < warm + n; i++) {
    trainers.forEach((trainer, k) => {
      const t = performance.now();
      trainer.step(w.batches.subarray(i * B, (i + 1) * B));
      if (i >= warm) ms[k].push(performance.now() - t);
    });
  }
  trainers.forEach((t) => t.dispose());
  return { manual: median(ms[0]), auto: median(ms[1]) };
}

/** The net on the current TF.js backend as a training row (bench/rows.ts); `dispose` frees its tensors. */
function trainingRow(tf: TF, w: Workload, backend: 'wasm' | 'cpu', mode: GradientMode): { row: TrainingRow; dispose: () => void } {
  const B = RECIPE.batchSize;
  const D = RECIPE.inputSize;
  const { train, test } = w.data;
  const xTrain = scaled(train.images);
  const trainer = makeTrainer(tf, w, xTrain, mode);
  // Accuracy pass: each whole set at once, as the book's accuracy(); the data is uploaded untimed.
  const xTrainT = tf.tensor2d(xTrain, [train.count, D]);
  const xTestT = tf.tensor2d(scaled(test.images), [test.count, D]);
  const total = totalIters(w.settings);
  const row = localRow(
    {
      id: `tfjs-${backend}`,
      label: `TF.js ${backend.toUpperCase()}, ${mode === 'manual' ? 'hand-written grads' : 'tf.valueAndGrads'}`,
      threads: 1,
      // The slow backend's kernels are warm from training: no untimed pass.
      slow: backend === 'cpu',
      notes: [mode === 'manual'
        ? 'hand-written gradients (the book\'s backward), explicit transposes'
        : 'tf.valueAndGrads: differentiates log(y + 1e-7) exactly, so its updates differ from the book\'s (y − t)/N in the last digits'],
    },
    (i) => {
      if (i >= total) throw new Error('bench: more steps than batches');
      return trainer.step(w.batches.subarray(i * B, (i + 1) * B));
    },
    () => [trainer.accuracy(xTrainT, train.labels), trainer.accuracy(xTestT, test.labels)],
  );
  return { row, dispose: () => { tf.dispose([xTrainT, xTestT]); trainer.dispose(); } };
}

/** GFLOPS of each shape; transposed operands via tf.transpose, its cost included (as in a step). */
function matmulGflops(tf: TF, w: Workload, slow: boolean): Record<string, number> {
  const s = w.settings;
  const out: Record<string, number> = {};
  for (const sh of MATMUL_SHAPES) {
    if (skipProduct(s, sh, slow)) continue;
    const av = new Float32Array(sh.m * sh.k);
    const bv = new Float32Array(sh.k * sh.n);
    fillSin(av);
    fillSin(bv);
    const a = tf.tensor2d(av, sh.transA ? [sh.k, sh.m] : [sh.m, sh.k]);
    const b = tf.tensor2d(bv, sh.transB ? [sh.n, sh.k] : [sh.k, sh.n]);
    const run = () => {
      tf.tidy(() => tf.matMul(sh.transA ? tf.transpose(a) : a, sh.transB ? tf.transpose(b) : b)).dispose();
    };
    out[sh.key] = timeProduct(run, 2 * sh.m * sh.k * sh.n, slow ? s.slowMatmulSamples : s.matmulSamples, s.matmulSampleMs, s.matmulBudgetMs);
    tf.dispose([a, b]);
  }
  return out;
}
