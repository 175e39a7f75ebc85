/**
 * `npm run bench -- --only conv`: a training step of the book's SimpleConvNet (ch07: conv 30
 * filters 5×5 → ReLU → max pool 2×2 → Affine 4320→100 → ReLU → Affine 100→10 → SoftmaxWithLoss,
 * Adam lr 0.001, batch 100) on this project's wasm backend (1 and 2 threads; js with --full)
 * against the book's NumPy code (bench/numpy_simple_convnet.py, float64 as the book runs it),
 * NumPy float32 doing our work, JAX (jax.jit) where python3 can import it, and TF.js WASM
 * (tf.conv2d, tf.maxPool).
 *
 * Every implementation starts from the same initial weights (drawn as SimpleConvNet draws them)
 * and trains on the same batches; the loss of every step is compared with the book's code's
 * ("same work check"). A step = gather the batch, gradient (forward with loss, backward), Adam.
 *
 * The machine is shared: the implementations run in alternation, a short run of each in turn
 * (the Python ones are served steps by long-lived python3 processes), so that a change of load
 * hits all alike; each ratio is the median of the rounds' ratios.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Scalar, Tensor as TfTensor, Tensor2D, Tensor4D, Variable } from '@tensorflow/tfjs';
import type { Backend } from '../src/kernels/Backend.js';
import { JsBackend } from '../src/kernels/reference/JsBackend.js';
import { createWasmBackend, type WasmBackend } from '../src/kernels/wasm/index.js';
import { SimpleConvNet } from '../src/nets/SimpleConvNet.js';
import { Adam } from '../src/optimizers/Adam.js';
import { Tensor } from '../src/tensor/Tensor.js';
import { gatherRows } from '../src/tensor/ops.js';
import { toLabeledData } from '../src/data/dataset.js';
import { PythonServer, SPIN_SETTLE_MS, canImport } from './python.js';
import { batchSequence, median, progress, type BenchData } from './shared.js';
import type { TargetCheck } from './report.js';

const CPU_THREADS = availableParallelism();
const SCRIPT = fileURLToPath(new URL('./numpy_simple_convnet.py', import.meta.url));

/** The book's ch07/train_convnet.py: SimpleConvNet's defaults, Adam lr 0.001, batch 100. */
export const CONV_RECIPE = {
  inputDim: [1, 28, 28], filterNum: 30, filterSize: 5, hiddenSize: 100, outputSize: 10,
  batchSize: 100, lr: 0.001, weightInitStd: 0.01, seed: 0,
} as const;
const PARAM_NAMES = SimpleConvNet.paramNames;
type ParamName = (typeof PARAM_NAMES)[number];
/** The book's NumPy code, 1 BLAS thread: every ratio of this section is taken against it. */
export const CONV_REFERENCE_ID = 'conv-numpy-f64-book-1t';
/** "SimpleConvNet step ≥ 4× the book's NumPy code" (issue 13). */
export const CONV_TARGET = 4;

/** Warm-up steps of each implementation, then `runs` rounds of `itersPerRun` steps of each in turn. */
export interface ConvSettings {
  warmup: number;
  runs: number;
  itersPerRun: number;
}

/** Steps per implementation: few in --quick (a smoke test), more with --full. */
export function convSettingsFor(quick: boolean, full: boolean): ConvSettings {
  return quick ? { warmup: 2, runs: 3, itersPerRun: 2 } : full ? { warmup: 10, runs: 20, itersPerRun: 5 } : { warmup: 5, runs: 10, itersPerRun: 3 };
}

const totalSteps = (s: ConvSettings) => s.warmup + s.runs * s.itersPerRun;

/** One implementation's SimpleConvNet step. */
export interface ConvResult {
  id: string;
  label: string;
  threads: number;
  /** Median over the rounds of ms/step, and each round's figure. */
  stepMs: number;
  stepMsSamples: number[];
  /** The 10th percentile of the rounds' ms/step: the runs other processes disturbed least. */
  fastMs: number;
  /** Median over the rounds of the book's code's ms/step over this one's (> 1: faster than the book). */
  speedVsBook?: number;
  /** The batch loss of every step (the gradient's forward pass, before the update). */
  losses: number[];
  /** The largest |loss − the book's NumPy loss| over the steps. */
  maxLossDiff?: number;
  notes?: string[];
}

/** The section's results, and what was skipped or noted on the way. */
export interface ConvRun {
  settings: ConvSettings;
  /** Wall time of the whole section, set up included. */
  seconds: number;
  results: ConvResult[];
  skipped: string[];
  notes: string[];
}

interface Workload {
  data: BenchData;
  /** Initial weights, float64, by the book's names and SimpleConvNet's shapes. */
  init: Record<ParamName, Float64Array>;
  shapes: Record<ParamName, number[]>;
  batches: Int32Array;
  settings: ConvSettings;
}

/** One implementation, stepping on: each call runs `count` more steps of the shared batch sequence. */
interface Stepper {
  id: string;
  label: string;
  threads: number;
  notes?: string[];
  /** The ms and loss of each of the next `count` steps. */
  run(count: number): Promise<{ ms: number[]; losses: number[] }>;
  /** Its thread pools spin for a while after a run (OpenBLAS, XLA): pause before the next implementation. */
  spins?: boolean;
}

/** The weights SimpleConvNet draws with seed 0 (weightInitStd · N(0, 1), b = 0), in float64. */
function initialConvWeights(): Pick<Workload, 'init' | 'shapes'> {
  const { inputDim, filterNum, filterSize, hiddenSize, outputSize, weightInitStd, seed } = CONV_RECIPE;
  const net = new SimpleConvNet(inputDim, { filterNum, filterSize }, hiddenSize, outputSize, weightInitStd, { seed, dtype: 'float64', backend: new JsBackend() });
  const init = {} as Record<ParamName, Float64Array>;
  const shapes = {} as Record<ParamName, number[]>;
  for (const k of PARAM_NAMES) {
    init[k] = Float64Array.from(net.params[k].data);
    shapes[k] = [...net.params[k].shape];
  }
  return { init, shapes };
}

/** A stepper of an in-process `step(i)`, timing each step. */
function localStepper(id: string, label: string, threads: number, step: (i: number) => number, notes?: string[]): Stepper {
  let i = 0;
  return {
    id, label, threads, notes,
    run: async (count) => {
      const ms: number[] = [], losses: number[] = [];
      for (let j = 0; j < count; j++, i++) {
        const t0 = performance.now();
        losses.push(step(i));
        ms.push(performance.now() - t0);
      }
      return { ms, losses };
    },
  };
}

function checkLoss(who: string, loss: number): number {
  if (!Number.isFinite(loss)) throw new Error(`${who}: training diverged (loss ${loss})`);
  return loss;
}

// ------------------------------------------------------------------------- this project

/** Extra untimed steps of our rows before the shared warm-up (V8's compilers, the layers' buffers, the wasm heap's growth). */
const OURS_PREWARM = 10;

/** SimpleConvNet on `backend`, trained as a user would: gatherRows, net.gradient, Adam.update. */
function oursStepper(backend: Backend, w: Workload, id: string, label: string, threads: number): Stepper {
  const { inputDim, filterNum, filterSize, hiddenSize, outputSize, weightInitStd, lr, batchSize: B } = CONV_RECIPE;
  const net = new SimpleConvNet(inputDim, { filterNum, filterSize }, hiddenSize, outputSize, weightInitStd, { backend });
  const train = toLabeledData(w.data.train, { backend });
  let adam = new Adam({ lr });
  let xBatch: Tensor | null = null;
  const tBatch = new Int32Array(B);
  const step = (i: number): number => {
    const index = w.batches.subarray(i * B, (i + 1) * B);
    xBatch = gatherRows(train.x, index, xBatch); // x_batch = x_train[batch_mask]
    for (let j = 0; j < B; j++) tBatch[j] = train.labels[index[j]];
    const grads = net.gradient(xBatch, tBatch);
    adam.update(net.params, grads);
    return checkLoss(label, net.lastLayer.loss!);
  };
  // then the weights and Adam are reset: the measured run starts from the shared weights like the others
  for (let i = 0; i < OURS_PREWARM; i++) step(i % totalSteps(w.settings));
  for (const k of PARAM_NAMES) net.params[k].data.set(w.init[k]); // float64 → float32
  adam = new Adam({ lr });
  return localStepper(id, label, threads, step);
}

// ------------------------------------------------------------------------- NumPy and JAX

const PYTHON_LABELS: Record<string, string> = {
  'f64-book': 'NumPy float64, book code',
  'f32-book': 'NumPy float32, book code',
  f32: 'NumPy float32, same work',
  jax: 'JAX float32, jax.jit (same work)',
};

/** The data, weights and batches as raw files, and the script's manifest; returns the manifest's path. */
function writeInputs(dir: string, w: Workload): string {
  const write = (name: string, a: ArrayBufferView) => writeFileSync(join(dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  write('train-images.u8', w.data.train.images);
  write('train-labels.u8', w.data.train.labels);
  for (const k of PARAM_NAMES) write(`${k}.f64`, w.init[k]);
  write('batches.i32', w.batches);
  const manifest = {
    trainCount: w.data.train.count, inputDim: CONV_RECIPE.inputDim, shapes: w.shapes,
    batchSize: CONV_RECIPE.batchSize, lr: CONV_RECIPE.lr, iters: totalSteps(w.settings),
  };
  const path = join(dir, 'manifest.json');
  writeFileSync(path, JSON.stringify(manifest));
  return path;
}

/** A stepper of `variant` on `server` (bench/numpy_simple_convnet.py's protocol: 'VARIANT COUNT'). */
function pythonStepper(server: PythonServer, variant: string, id: string, label: string, threads: number, notes?: string[]): Stepper {
  // one thread (OPENBLAS_NUM_THREADS=1): no thread of its own that spins after a step
  return { id, label, threads, notes, spins: threads > 1, run: (count) => server.request<{ ms: number[]; losses: number[] }>(`${variant} ${count}`) };
}

/**
 * The Python rows: 1 BLAS thread the book's code and NumPy float32 (and the float32 book code
 * with --full); 2 threads the book's code (--full); JAX on XLA's default threads.
 */
async function pythonSteppers(w: Workload, dir: string, quick: boolean, full: boolean, run: ConvRun, servers: PythonServer[]): Promise<Stepper[]> {
  if (!canImport('numpy')) {
    run.skipped.push('conv: NumPy and JAX skipped: python3 with numpy not found');
    return [];
  }
  const manifest = writeInputs(dir, w);
  const plan: [number | null, string[]][] = [[1, full ? ['f64-book', 'f32-book', 'f32'] : ['f64-book', 'f32']]];
  if (full) plan.push([2, ['f64-book']]);
  else run.notes.push('conv: the book\'s code on 2 BLAS threads runs only with --full (here it was slower than on 1)');
  if (canImport('jax')) plan.push([null, ['jax']]);
  else run.notes.push('conv: JAX not installed');
  const out: Stepper[] = [];
  for (const [threads, variants] of plan) {
    progress(`SimpleConvNet: python3 ${variants.join(', ')}${threads === null ? ' (XLA\'s default threads)' : `, OPENBLAS_NUM_THREADS=${threads}`}`);
    const server = new PythonServer(SCRIPT, ['--manifest', manifest, '--variants', variants.join(',')], threads);
    servers.push(server);
    try {
      const ready = await server.next<{ jax?: string; devices?: string[] }>();
      if (ready.jax) run.notes.push(`conv: JAX ${ready.jax} on ${ready.devices!.join(', ')}, XLA's default threads (${CPU_THREADS}); its compilation is in its first warm-up step`);
    } catch (e) {
      run.skipped.push(`conv: ${variants.join(', ')} failed: ${(e as Error).message}`);
      continue;
    }
    for (const v of variants) {
      const id = v === 'jax' ? 'conv-jax' : `conv-numpy-${v}-${threads}t`;
      const t = threads ?? CPU_THREADS;
      const notes = v.endsWith('-book') ? ['Conv1.backward also computes dx by col2im, as the book does (unused)'] : undefined;
      out.push(pythonStepper(server, v, id, `${PYTHON_LABELS[v]}${threads !== null && threads > 1 ? `, ${threads} threads` : ''}`, t, notes));
    }
  }
  return out;
}

// ------------------------------------------------------------------------- TF.js WASM

type TF = typeof import('@tensorflow/tfjs');
type GradientMode = 'manual' | 'auto';

async function loadTfWasm(): Promise<TF> {
  const tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
  if (!(await tf.setBackend('wasm'))) throw new Error('TF.js backend \'wasm\' did not initialise');
  await tf.ready();
  return tf;
}

/**
 * SimpleConvNet in TF.js, NHWC (the layout tf.conv2d and tf.maxPool take). The book's weights
 * are laid out for it once: W1 (FN, 1, 5, 5) → filters (5, 5, 1, FN); the rows of W2 permuted
 * from the book's (c, h, w) flattening to NHWC's (h, w, c), so the net computes the same function.
 *
 * The WASM backend has no Conv2DBackpropFilter kernel, so tf.grads of tf.conv2d fails there;
 * dW1 is itself a convolution (dW1[kh, kw, 0, f] = Σ x[n, oh+kh, ow+kw] · dout[n, oh, ow, f]):
 * tf.conv2d of the batch seen as channels, (1, 28, 28, N), with dout as (24, 24, N, FN) filters.
 */
function makeTfStep(tf: TF, w: Workload, mode: GradientMode): { step: (i: number) => number; dispose: () => void } {
  const { batchSize: B, filterNum: FN, filterSize: FS, outputSize: C, lr } = CONV_RECIPE;
  const [, H, W] = CONV_RECIPE.inputDim;
  const PH = (H - FS + 1) / 2, PW = (W - FS + 1) / 2;
  const hidden = CONV_RECIPE.hiddenSize;
  const f = new Float32Array(FS * FS * FN);
  for (let n = 0; n < FN; n++) for (let k = 0; k < FS * FS; k++) f[k * FN + n] = w.init.W1[n * FS * FS + k];
  const w2 = new Float32Array(FN * PH * PW * hidden);
  for (let c = 0; c < FN; c++) {
    for (let p = 0; p < PH * PW; p++) w2.set(w.init.W2.subarray((c * PH * PW + p) * hidden, (c * PH * PW + p + 1) * hidden), (p * FN + c) * hidden);
  }
  const params: Variable[] = [
    tf.variable(tf.tensor4d(f, [FS, FS, 1, FN])), tf.variable(tf.zeros([FN])),
    tf.variable(tf.tensor2d(w2, [FN * PH * PW, hidden])), tf.variable(tf.zeros([hidden])),
    tf.variable(tf.tensor2d(Float32Array.from(w.init.W3), [hidden, C])), tf.variable(tf.zeros([C])),
  ];
  const m = params.map((p) => tf.variable(tf.zerosLike(p)));
  const v = params.map((p) => tf.variable(tf.zerosLike(p)));
  const [beta1, beta2] = [0.9, 0.999];
  const xb = new Float32Array(B * H * W);
  const tb = new Float32Array(B * C);
  const images = w.data.train.images, labels = w.data.train.labels;

  /** dW1 = Σ over the batch of x windows · dout: the batch as 100 input channels. */
  const filterGrad = (x: TfTensor, dout: TfTensor) =>
    tf.reshape(tf.conv2d(tf.transpose(tf.reshape(x, [B, H, W]), [1, 2, 0]).expandDims(0) as Tensor4D, tf.transpose(dout, [1, 2, 0, 3]) as Tensor4D, 1, 'valid'), [FS, FS, 1, FN]);
  // For tf.valueAndGrads: tf.conv2d with the filter gradient above (x is data: its gradient is not needed).
  const conv = tf.customGrad(((x: TfTensor, filt: TfTensor, save: (saved: TfTensor[]) => void) => {
    save([x]);
    return { value: tf.conv2d(x as Tensor4D, filt as Tensor4D, 1, 'valid'), gradFunc: (dy: TfTensor, saved: TfTensor[]) => [tf.zerosLike(saved[0]), filterGrad(saved[0], dy)] };
  }) as never) as (x: TfTensor, filt: TfTensor) => TfTensor;
  const lossOf = (x: Tensor4D, t: TfTensor) => (Wf: TfTensor, b1: TfTensor, W2: TfTensor, b2: TfTensor, W3: TfTensor, b3: TfTensor): Scalar => {
    const z1 = tf.relu(tf.add(conv(x, Wf), b1)) as Tensor4D;
    const p = tf.reshape(tf.maxPool(z1, 2, 2, 'valid'), [B, -1]);
    const y = tf.softmax(tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(p, W2), b2)), W3), b3));
    return tf.neg(tf.div(tf.sum(tf.mul(t, tf.log(tf.add(y, 1e-7)))), B)) as Scalar;
  };

  let iter = 0;
  const step = (i: number): number => {
    for (let j = 0; j < B; j++) {
      const row = w.batches[i * B + j];
      for (let k = 0; k < H * W; k++) xb[j * H * W + k] = images[row * H * W + k] / 255; // gather in JS
    }
    tb.fill(0);
    for (let j = 0; j < B; j++) tb[j * C + labels[w.batches[i * B + j]]] = 1;
    iter++;
    const lrT = (lr * Math.sqrt(1 - beta2 ** iter)) / (1 - beta1 ** iter); // the book's Adam
    const loss = tf.tidy(() => {
      const x = tf.tensor4d(xb, [B, H, W, 1]);
      const t = tf.tensor2d(tb, [B, C]);
      let loss: TfTensor;
      let grads: TfTensor[];
      if (mode === 'auto') {
        ({ value: loss, grads } = tf.valueAndGrads(lossOf(x, t) as (...a: TfTensor[]) => Scalar)(params));
      } else {
        const [Wf, b1, W2, b2, W3, b3] = params;
        const z1 = tf.fused.conv2d({ x, filter: Wf as Tensor4D, strides: 1, pad: 'valid', bias: b1, activation: 'relu' }); // Conv1, Relu1
        const pool = tf.maxPool(z1, 2, 2, 'valid'); //                                    Pool1
        const p = tf.reshape(pool, [B, -1]);
        const z2 = tf.fused.matMul({ a: p as Tensor2D, b: W2 as Tensor2D, bias: b2, activation: 'relu' }); // Affine1, Relu2
        const y = tf.softmax(tf.add(tf.matMul(z2, W3), b3)); //                           Affine2, softmax
        loss = tf.neg(tf.div(tf.sum(tf.mul(t, tf.log(tf.add(y, 1e-7)))), B)); //         cross-entropy
        const dy = tf.div(tf.sub(y, t), B); //                                            dy = (y − t) / N
        const dW3 = tf.matMul(tf.transpose(z2), dy), db3 = tf.sum(dy, 0);
        const da2 = tf.mul(tf.matMul(dy, tf.transpose(W3)), tf.step(z2)); //              Relu2 backward
        const dW2 = tf.matMul(tf.transpose(p), da2), db2 = tf.sum(da2, 0);
        const dpool = tf.reshape(tf.matMul(da2, tf.transpose(W2)), pool.shape);
        const dz1 = tf.engine().runKernel('MaxPoolGrad', { dy: dpool, input: z1, output: pool }, { filterSize: 2, strides: 2, pad: 'valid' }) as TfTensor;
        const da1 = tf.mul(dz1, tf.step(z1)); //                                          Relu1 backward
        const dW1 = filterGrad(x, da1), db1 = tf.sum(da1, [0, 1, 2]);
        grads = [dW1, db1, dW2, db2, dW3, db3];
      }
      params.forEach((param, k) => {
        const g = grads[k];
        m[k].assign(tf.add(m[k], tf.mul(1 - beta1, tf.sub(g, m[k])))); //          m += (1 − β1)(g − m)
        v[k].assign(tf.add(v[k], tf.mul(1 - beta2, tf.sub(tf.square(g), v[k])))); // v += (1 − β2)(g² − v)
        param.assign(tf.sub(param, tf.div(tf.mul(lrT, m[k]), tf.add(tf.sqrt(v[k]), 1e-7))));
      });
      return loss;
    });
    const value = loss.dataSync()[0];
    loss.dispose();
    return checkLoss('TF.js', value);
  };
  return { step, dispose: () => tf.dispose([...params, ...m, ...v]) };
}

/** TF.js WASM's stepper, with the gradient code (hand-written or tf.valueAndGrads) a short trial found faster. */
async function tfjsStepper(w: Workload, run: ConvRun): Promise<Stepper | null> {
  let tf: TF;
  try {
    tf = await loadTfWasm();
  } catch (e) {
    run.skipped.push(`conv: TF.js WASM skipped: ${(e as Error).message}`);
    return null;
  }
  const trialMs: Record<GradientMode, number[]> = { manual: [], auto: [] };
  const trials = (['manual', 'auto'] as const).map((mode) => ({ mode, t: makeTfStep(tf, w, mode) }));
  for (let i = 0; i < 5; i++) {
    for (const { mode, t } of trials) {
      const t0 = performance.now();
      t.step(i);
      if (i >= 2) trialMs[mode].push(performance.now() - t0);
    }
  }
  trials.forEach(({ t }) => t.dispose());
  const mode: GradientMode = median(trialMs.manual) <= median(trialMs.auto) ? 'manual' : 'auto';
  const { step } = makeTfStep(tf, w, mode);
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  return localStepper('conv-tfjs-wasm', `TF.js ${tf.version.tfjs} WASM, ${mode === 'manual' ? 'hand-written grads' : 'tf.valueAndGrads'}`, 1, step, [
    `trial ms/step: hand-written ${median(trialMs.manual).toFixed(1)}, tf.valueAndGrads ${median(trialMs.auto).toFixed(1)}; SIMD ${simd}; ` +
      'no Conv2DBackpropFilter kernel in TF.js WASM: dW1 is a tf.conv2d of the batch as channels',
  ]);
}

// ------------------------------------------------------------------------- the section

/** The 10th percentile. */
function tenth(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(0.1 * (s.length - 1))];
}

/**
 * Runs every implementation of the SimpleConvNet step: ours (wasm 1 and 2 threads; js only with
 * --full: a fraction of a second per step), the book's NumPy code, NumPy float32, JAX, TF.js WASM;
 * each its warm-up steps, then `runs` rounds in which each runs `itersPerRun` steps in turn.
 */
export async function benchConv(data: BenchData, quick: boolean, full: boolean): Promise<ConvRun> {
  const settings = convSettingsFor(quick, full);
  const w: Workload = { data, ...initialConvWeights(), batches: batchSequence(data.train.count, totalSteps(settings)), settings };
  const started = performance.now();
  const run: ConvRun = { settings, seconds: 0, results: [], skipped: [], notes: [] };
  const steppers: Stepper[] = [];
  const backends: WasmBackend[] = [];
  const servers: PythonServer[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'backprop-conv-bench-'));
  try {
    for (const threads of [1, 2]) {
      let backend: WasmBackend;
      try {
        backend = await createWasmBackend({ threads });
      } catch (e) {
        run.skipped.push(`conv: wasm ${threads} thread(s) skipped: it cannot load: ${(e as Error).message}`);
        continue;
      }
      backends.push(backend);
      if (backend.threads !== threads) {
        run.notes.push(`conv: wasm asked for ${threads} threads runs on ${backend.threads} here: no ${threads}-thread row`);
        continue;
      }
      const label = `this project, wasm ${threads} thread${threads > 1 ? 's' : ''}${backend.simd === 'relaxed' ? ', relaxed SIMD (auto)' : ''}`;
      progress(`SimpleConvNet: ${label}: set up`);
      steppers.push(oursStepper(backend, w, `conv-wasm-${threads}t`, label, threads));
    }
    if (full) steppers.push(oursStepper(new JsBackend(), w, 'conv-js', 'this project, js backend', 1));
    else run.notes.push('conv: the js backend is left out (a fraction of a second per step): run with --full');
    progress('SimpleConvNet: TF.js WASM: set up and trial');
    const tfjs = await tfjsStepper(w, run);
    if (tfjs) steppers.push(tfjs);
    steppers.push(...(await pythonSteppers(w, dir, quick, full, run, servers)));

    const losses = new Map(steppers.map((s) => [s.id, [] as number[]]));
    const samples = new Map(steppers.map((s) => [s.id, [] as number[]]));
    const pause = (s: Stepper) => (s.spins ? sleep(SPIN_SETTLE_MS) : Promise.resolve());
    progress(`SimpleConvNet: ${settings.warmup} warm-up steps of each of ${steppers.length}`);
    for (const s of steppers) {
      losses.get(s.id)!.push(...(await s.run(settings.warmup)).losses);
      await pause(s);
    }
    progress(`SimpleConvNet: ${settings.runs} rounds of ${settings.itersPerRun} steps of each`);
    for (let r = 0; r < settings.runs; r++) {
      for (let k = 0; k < steppers.length; k++) {
        const s = steppers[(k + r) % steppers.length]; // each round starts with the next one
        const { ms, losses: l } = await s.run(settings.itersPerRun);
        samples.get(s.id)!.push(ms.reduce((a, b) => a + b, 0) / ms.length);
        losses.get(s.id)!.push(...l);
        await pause(s);
      }
    }
    const ref = samples.get(CONV_REFERENCE_ID);
    const refLosses = losses.get(CONV_REFERENCE_ID);
    for (const s of steppers) {
      const ms = samples.get(s.id)!, l = losses.get(s.id)!;
      run.results.push({
        id: s.id, label: s.label, threads: s.threads, notes: s.notes,
        stepMs: median(ms), stepMsSamples: ms, fastMs: tenth(ms), losses: l,
        speedVsBook: ref ? median(ms.map((x, r) => ref[r] / x)) : undefined,
        maxLossDiff: refLosses ? Math.max(...l.map((x, i) => Math.abs(x - refLosses[i]))) : undefined,
      });
    }
  } finally {
    for (const s of servers) s.close();
    for (const b of backends) await b.pool?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  run.seconds = (performance.now() - started) / 1000;
  return run;
}

/** ms/step, speed against the book's NumPy code, and the same-work check. */
export function convTable(run: ConvRun, table: (header: string[], rows: string[][]) => string): string {
  const ref = run.results.find((r) => r.id === CONV_REFERENCE_ID);
  const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
  const x = (v: number | undefined) => (v === undefined ? '–' : `${v.toFixed(2)}×`);
  const rows = run.results.map((r) => [
    r.label + (r.id === CONV_REFERENCE_ID ? ' (ref)' : ''),
    String(r.threads),
    fmt(r.stepMs),
    fmt(r.fastMs),
    x(r.speedVsBook),
    x(ref ? ref.fastMs / r.fastMs : undefined),
    r.losses.at(-1)!.toFixed(5),
    r.maxLossDiff === undefined ? '–' : r.maxLossDiff.toExponential(1),
  ]);
  return table(['implementation', 'thr', 'ms/step', 'fastest tenth', 'speed vs book', 'vs book (fastest tenth)', 'last loss', 'max |Δloss| vs book'], rows);
}

/** "SimpleConvNet step ≥ 4× the book's NumPy code" for each of our rows, against the book's code with at most as many threads. */
export function convTargetChecks(run: ConvRun): TargetCheck[] {
  const target = `SimpleConvNet step ≥${CONV_TARGET}× the book's NumPy code (f64)`;
  const ref = run.results.find((x) => x.id === CONV_REFERENCE_ID);
  return run.results.filter((r) => r.id.startsWith('conv-wasm') || r.id === 'conv-js').map((r) => {
    // the book's code with at most r's threads, at its fastest (by the median ms/step)
    const book = run.results.filter((x) => x.id.startsWith('conv-numpy-f64-book-') && x.threads <= r.threads).sort((a, b) => a.stepMs - b.stepMs)[0];
    const value = !book ? null : book === ref ? r.speedVsBook ?? null : median(r.stepMsSamples.map((ms, k) => book.stepMsSamples[k] / ms));
    // the target table's columns are the two-layer rows: wasm-1t, wasm-2t, js
    const impl = r.id === 'conv-js' ? 'js' : r.id.replace('conv-', '');
    return { target, impl, value, threshold: CONV_TARGET, unit: '×', pass: value === null ? null : value >= CONV_TARGET, against: book?.id };
  });
}
