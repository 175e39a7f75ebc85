/**
 * `npm run bench -- --only conv`: a training step of the book's SimpleConvNet (ch07: conv 30
 * filters 5×5 → ReLU → max pool 2×2 → Affine 4320→100 → ReLU → Affine 100→10 → SoftmaxWithLoss,
 * Adam lr 0.001, batch 100) on this project's wasm backend (1 and 2 threads; js with --full)
 * against the book's NumPy code (bench/numpy_simple_convnet.py, float64 as the book runs it),
 * NumPy float32 doing our work, JAX (jax.jit) where python3 can import it, and TF.js WASM
 * (tf.conv2d, tf.maxPool).
 *
 * Every implementation starts from the same initial weights (drawn as SimpleConvNet draws them)
 * and trains on the same batches; the losses of every step are compared with the book's code's
 * ("same work check"). A step = gather the batch, gradient (forward with loss, backward), Adam.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scalar, Tensor as TfTensor, Tensor2D, Tensor4D, Variable } from '@tensorflow/tfjs';
import type { Backend } from '../src/kernels/Backend.js';
import { JsBackend } from '../src/kernels/reference/JsBackend.js';
import { createWasmBackend } from '../src/kernels/wasm/index.js';
import { SimpleConvNet } from '../src/nets/SimpleConvNet.js';
import { Adam } from '../src/optimizers/Adam.js';
import { Tensor } from '../src/tensor/Tensor.js';
import { gatherRows } from '../src/tensor/ops.js';
import { toLabeledData } from '../src/data/dataset.js';
import { REMOVED_ENV } from './numpy.js';
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

/** Warm-up steps, then timed runs of `itersPerRun` steps (ms/step = median of runs). */
export interface ConvSettings {
  warmup: number;
  runs: number;
  itersPerRun: number;
}

export function convSettingsFor(quick: boolean, full: boolean): ConvSettings {
  return quick ? { warmup: 2, runs: 3, itersPerRun: 2 } : full ? { warmup: 10, runs: 10, itersPerRun: 10 } : { warmup: 5, runs: 7, itersPerRun: 5 };
}

const totalSteps = (s: ConvSettings) => s.warmup + s.runs * s.itersPerRun;

/** One implementation's SimpleConvNet step. */
export interface ConvResult {
  id: string;
  label: string;
  threads: number;
  stepMs: number;
  stepMsSamples: number[];
  /** The batch loss of every step (the gradient's forward pass, before the update). */
  losses: number[];
  /** The largest |loss − the book's NumPy loss| over the steps. */
  maxLossDiff?: number;
  notes?: string[];
}

export interface ConvRun {
  settings: ConvSettings;
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

/** Runs `step(i)` for the warm-up and the timed runs; ms/step per run and every step's loss. */
function timeSteps(s: ConvSettings, step: (i: number) => number): { stepMsSamples: number[]; losses: number[] } {
  const losses: number[] = [];
  let i = 0;
  for (; i < s.warmup; i++) losses.push(step(i));
  const stepMsSamples: number[] = [];
  for (let r = 0; r < s.runs; r++) {
    const t0 = performance.now();
    for (let j = 0; j < s.itersPerRun; j++, i++) losses.push(step(i));
    stepMsSamples.push((performance.now() - t0) / s.itersPerRun);
  }
  return { stepMsSamples, losses };
}

function checkLoss(who: string, loss: number): number {
  if (!Number.isFinite(loss)) throw new Error(`${who}: training diverged (loss ${loss})`);
  return loss;
}

// ------------------------------------------------------------------------- this project

/** SimpleConvNet on `backend`, trained as a user would: gatherRows, net.gradient, Adam.update. */
function benchOurs(backend: Backend, w: Workload, id: string, label: string, threads: number): ConvResult {
  const { inputDim, filterNum, filterSize, hiddenSize, outputSize, weightInitStd, lr, batchSize: B } = CONV_RECIPE;
  const net = new SimpleConvNet(inputDim, { filterNum, filterSize }, hiddenSize, outputSize, weightInitStd, { backend });
  for (const k of PARAM_NAMES) net.params[k].data.set(w.init[k]); // float64 → float32
  const train = toLabeledData(w.data.train, { backend });
  const adam = new Adam({ lr });
  let xBatch: Tensor | null = null;
  const tBatch = new Int32Array(B);
  const { stepMsSamples, losses } = timeSteps(w.settings, (i) => {
    const index = w.batches.subarray(i * B, (i + 1) * B);
    xBatch = gatherRows(train.x, index, xBatch); // x_batch = x_train[batch_mask]
    for (let j = 0; j < B; j++) tBatch[j] = train.labels[index[j]];
    const grads = net.gradient(xBatch, tBatch);
    adam.update(net.params, grads);
    return checkLoss(label, net.lastLayer.loss!);
  });
  return { id, label, threads, stepMs: median(stepMsSamples), stepMsSamples, losses };
}

// ------------------------------------------------------------------------- NumPy and JAX

const NUMPY_LABELS: Record<string, string> = {
  'f64-book': 'NumPy float64, book code',
  'f32-book': 'NumPy float32, book code',
  f32: 'NumPy float32, same work',
  jax: 'JAX float32, jax.jit (same work)',
};

interface ScriptVariant {
  variant: string;
  stepMsSamples: number[];
  losses: number[];
  skipInputGradient: boolean;
  jax?: string;
  devices?: string[];
}

function pythonEnv(threads: number | null): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (threads !== null) env.OPENBLAS_NUM_THREADS = String(threads);
  for (const name of REMOVED_ENV) delete env[name];
  return env;
}

/** The data, weights and batches as raw files, and the script's manifest; returns the manifest's path. */
function writeInputs(dir: string, w: Workload): string {
  const write = (name: string, a: ArrayBufferView) => writeFileSync(join(dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  write('train-images.u8', w.data.train.images);
  write('train-labels.u8', w.data.train.labels);
  for (const k of PARAM_NAMES) write(`${k}.f64`, w.init[k]);
  write('batches.i32', w.batches);
  const s = w.settings;
  const manifest = {
    trainCount: w.data.train.count, inputDim: CONV_RECIPE.inputDim, shapes: w.shapes,
    batchSize: CONV_RECIPE.batchSize, lr: CONV_RECIPE.lr,
    iters: totalSteps(s), warmup: s.warmup, runs: s.runs, itersPerRun: s.itersPerRun,
  };
  const path = join(dir, 'manifest.json');
  writeFileSync(path, JSON.stringify(manifest));
  return path;
}

function runScript(manifest: string, variants: string[], threads: number | null): ScriptVariant[] {
  const r = spawnSync('python3', [SCRIPT, '--manifest', manifest, '--variants', variants.join(',')], { env: pythonEnv(threads), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.error) throw new Error(`python3 could not start: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`python3 ${SCRIPT} failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return (JSON.parse(r.stdout) as { variants: ScriptVariant[] }).variants;
}

function benchPython(w: Workload, quick: boolean, full: boolean, run: ConvRun): void {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8', env: pythonEnv(1) });
  if (probe.status !== 0) {
    run.skipped.push(`conv: NumPy skipped: ${probe.error ? `python3 not found (${probe.error.message})` : 'python3 cannot import numpy'}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'backprop-conv-bench-'));
  try {
    const manifest = writeInputs(dir, w);
    // 1 BLAS thread: the book's code and NumPy float32; 2 threads (not in --quick): the book's code.
    const plan: [number, string[]][] = [[1, full ? ['f64-book', 'f32-book', 'f32'] : ['f64-book', 'f32']]];
    if (!quick) plan.push([2, ['f64-book']]);
    for (const [threads, variants] of plan) {
      progress(`SimpleConvNet: NumPy ${variants.join(', ')}, OPENBLAS_NUM_THREADS=${threads}`);
      for (const v of runScript(manifest, variants, threads)) {
        run.results.push({
          id: `conv-numpy-${v.variant}-${threads}t`, label: `${NUMPY_LABELS[v.variant]}${threads > 1 ? `, ${threads} threads` : ''}`, threads,
          stepMs: median(v.stepMsSamples), stepMsSamples: v.stepMsSamples, losses: v.losses,
          notes: v.skipInputGradient ? undefined : ['Conv1.backward also computes dx by col2im, as the book does (unused)'],
        });
      }
    }
    const jax = spawnSync('python3', ['-c', 'import jax'], { encoding: 'utf8', env: pythonEnv(null) });
    if (jax.status !== 0) {
      run.notes.push('conv: JAX not installed');
    } else {
      progress('SimpleConvNet: JAX (jax.jit), XLA\'s default threads');
      try {
        const [v] = runScript(manifest, ['jax'], null);
        run.notes.push(`conv: JAX ${v.jax} on ${v.devices!.join(', ')}, XLA's default threads (${CPU_THREADS}); its first step (compilation) is a warm-up step`);
        run.results.push({ id: 'conv-jax', label: NUMPY_LABELS.jax, threads: CPU_THREADS, stepMs: median(v.stepMsSamples), stepMsSamples: v.stepMsSamples, losses: v.losses });
      } catch (e) {
        run.skipped.push(`conv: JAX failed: ${(e as Error).message}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

async function benchTfjsConv(w: Workload, run: ConvRun): Promise<void> {
  let tf: TF;
  try {
    tf = await loadTfWasm();
  } catch (e) {
    run.skipped.push(`conv: TF.js WASM skipped: ${(e as Error).message}`);
    return;
  }
  // A short trial from the initial weights picks the faster gradient code, steps interleaved.
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
  const trainer = makeTfStep(tf, w, mode);
  const { stepMsSamples, losses } = timeSteps(w.settings, trainer.step);
  trainer.dispose();
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  run.results.push({
    id: 'conv-tfjs-wasm', label: `TF.js ${tf.version.tfjs} WASM, ${mode === 'manual' ? 'hand-written grads' : 'tf.valueAndGrads'}`, threads: 1,
    stepMs: median(stepMsSamples), stepMsSamples, losses,
    notes: [`trial ms/step: hand-written ${median(trialMs.manual).toFixed(1)}, tf.valueAndGrads ${median(trialMs.auto).toFixed(1)}; SIMD ${simd}; ` +
      'no Conv2DBackpropFilter kernel in TF.js WASM: dW1 is a tf.conv2d of the batch as channels'],
  });
}

// ------------------------------------------------------------------------- the section

/**
 * Runs every implementation of the SimpleConvNet step: ours (wasm 1 and 2 threads; js only
 * with --full: seconds per step), the book's NumPy code, NumPy float32, JAX, TF.js WASM.
 */
export async function benchConv(data: BenchData, quick: boolean, full: boolean): Promise<ConvRun> {
  const settings = convSettingsFor(quick, full);
  const w: Workload = { data, ...initialConvWeights(), batches: batchSequence(data.train.count, totalSteps(settings)), settings };
  const run: ConvRun = { settings, results: [], skipped: [], notes: [] };
  for (const threads of [1, 2]) {
    let backend;
    try {
      backend = await createWasmBackend({ threads });
    } catch (e) {
      run.skipped.push(`conv: wasm ${threads} thread(s) skipped: it cannot load: ${(e as Error).message}`);
      continue;
    }
    try {
      if (backend.threads !== threads) {
        run.notes.push(`conv: wasm asked for ${threads} threads runs on ${backend.threads} here: no ${threads}-thread row`);
        continue;
      }
      const label = `this project, wasm ${threads} thread${threads > 1 ? 's' : ''}${backend.simd === 'relaxed' ? ', relaxed SIMD (auto)' : ''}`;
      progress(`SimpleConvNet: ${label}`);
      run.results.push(benchOurs(backend, w, `conv-wasm-${threads}t`, label, threads));
    } finally {
      await backend.pool?.close();
    }
  }
  if (full) {
    progress('SimpleConvNet: this project, js backend');
    run.results.push(benchOurs(new JsBackend(), w, 'conv-js', 'this project, js backend', 1));
  } else {
    run.notes.push('conv: the js backend is left out (seconds per step): run with --full');
  }
  benchPython(w, quick, full, run);
  progress('SimpleConvNet: TF.js WASM');
  await benchTfjsConv(w, run);

  const ref = run.results.find((r) => r.id === CONV_REFERENCE_ID);
  if (ref) {
    for (const r of run.results) r.maxLossDiff = Math.max(...r.losses.map((l, i) => Math.abs(l - ref.losses[i])));
  }
  return run;
}

/** ms/step, speed against the book's NumPy code, and the same-work check. */
export function convTable(run: ConvRun, table: (header: string[], rows: string[][]) => string): string {
  const ref = run.results.find((r) => r.id === CONV_REFERENCE_ID);
  const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
  const rows = run.results.map((r) => [
    r.label + (r.id === CONV_REFERENCE_ID ? ' (ref)' : ''),
    String(r.threads),
    fmt(r.stepMs),
    fmt(Math.min(...r.stepMsSamples)),
    ref ? `${(ref.stepMs / r.stepMs).toFixed(2)}×` : '–',
    r.losses.at(-1)!.toFixed(5),
    r.maxLossDiff === undefined ? '–' : r.maxLossDiff.toExponential(1),
  ]);
  return table(['implementation', 'thr', 'ms/step', 'fastest run', 'speed vs book', 'last loss', 'max |Δloss| vs book'], rows);
}

/** "SimpleConvNet step ≥ 4× the book's NumPy code" for each of our rows, against the book's code with at most as many threads. */
export function convTargetChecks(run: ConvRun): TargetCheck[] {
  const target = `SimpleConvNet step ≥${CONV_TARGET}× the book's NumPy code (f64)`;
  return run.results.filter((r) => r.id.startsWith('conv-wasm') || r.id === 'conv-js').map((r) => {
    const book = run.results.filter((x) => x.id.startsWith('conv-numpy-f64-book-') && x.threads <= r.threads).sort((a, b) => a.stepMs - b.stepMs)[0];
    const value = book ? book.stepMs / r.stepMs : null;
    // the target table's columns are the two-layer rows: wasm-1t, wasm-2t, js
    const impl = r.id === 'conv-js' ? 'js' : r.id.replace('conv-', '');
    return { target, impl, value, threshold: CONV_TARGET, unit: '×', pass: value === null ? null : value >= CONV_TARGET, against: book?.id };
  });
}
