/**
 * The NumPy reference: bench/numpy_two_layer.py run with python3 as a subprocess, on the same
 * images, initial weights and batch sequence (written to a temporary directory as raw files).
 *
 * OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the subprocess's environment only:
 * set, they force OpenBLAS onto slower kernels than the CPU supports. OPENBLAS_NUM_THREADS
 * fixes the BLAS threads (1, then 2).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MATMUL_SHAPES, RECIPE, median, totalIters, type ImplResult, type Workload } from './shared.js';

const SCRIPT = fileURLToPath(new URL('./numpy_two_layer.py', import.meta.url));
const JAX_SCRIPT = fileURLToPath(new URL('./jax_two_layer.py', import.meta.url));
/** Removed from the Python subprocess's environment (never from ours). */
export const REMOVED_ENV = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;

/** What numpy_two_layer.py --info reports. */
export interface NumpyInfo {
  python: string;
  numpy: string;
  blas: { name?: string; version?: string };
  openblas: { library?: string; core?: string; threads?: number; config?: string };
  env: Record<string, string | null>;
}

interface VariantOutput {
  variant: string;
  dtype: string;
  skipInputGradient: boolean;
  stepMsSamples: number[];
  evalMsSamples: number[];
  trainAccuracy: number;
  testAccuracy: number;
  lastRunMeanLoss: number;
  iterations: number;
}

interface ScriptOutput {
  info: NumpyInfo;
  variants?: VariantOutput[];
  matmul?: Record<string, number>;
}

export interface NumpyRun {
  info: NumpyInfo;
  results: ImplResult[];
  /** "JAX not installed", or what went wrong, or JAX's version and devices when its row ran. */
  jaxNote: string;
  /** The environment changes made for the subprocess, as printed. */
  envNote: string;
}

function pythonEnv(threads: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(threads) };
  for (const name of REMOVED_ENV) delete env[name];
  return env;
}

function runScript(args: string[], threads: number): ScriptOutput {
  const r = spawnSync('python3', [SCRIPT, ...args], { env: pythonEnv(threads), encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.error) throw new Error(`python3 could not start: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`python3 ${SCRIPT} failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout) as ScriptOutput;
}

/** Null when python3 with NumPy is usable, else why not. */
export function numpyUnavailable(): string | null {
  const r = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8', env: pythonEnv(1) });
  if (r.error) return `python3 not found (${r.error.message})`;
  if (r.status !== 0) return `python3 cannot import numpy (${r.stderr.trim().split('\n').pop()})`;
  return null;
}

const LABELS: Record<string, string> = {
  'f64-book': 'NumPy float64, book code',
  'f32-book': 'NumPy float32, book code',
  f32: 'NumPy float32, same work',
};

/**
 * Runs the NumPy variants with 1 BLAS thread (float64 and float32, the book's code as is, and
 * float32 doing exactly our work) and, unless --quick, with 2 threads (float64 book code,
 * float32 same work), plus float32 matrix products at each thread count (unless `matmul` is
 * false) and JAX's jit of the step where python3 imports it (unless `jax` is false).
 */
export function benchNumpy(w: Workload, options: { matmul?: boolean; jax?: boolean } = {}): NumpyRun {
  const { matmul = true, jax = true } = options;
  const dir = mkdtempSync(join(tmpdir(), 'backprop-bench-'));
  try {
    const s = w.settings;
    const { train, test } = w.data;
    const write = (name: string, a: ArrayBufferView) => writeFileSync(join(dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    write('train-images.u8', train.images);
    write('train-labels.u8', train.labels);
    write('test-images.u8', test.images);
    write('test-labels.u8', test.labels);
    write('W1.f64', w.init.W1);
    write('W2.f64', w.init.W2);
    write('batches.i32', w.batches);
    const manifest = {
      trainCount: train.count, testCount: test.count,
      inputSize: RECIPE.inputSize, hiddenSize: RECIPE.hiddenSize, outputSize: RECIPE.outputSize,
      batchSize: RECIPE.batchSize, lr: RECIPE.lr,
      iters: totalIters(s), warmup: s.warmup, runs: s.runs, itersPerRun: s.itersPerRun,
      evalWarmup: s.evalWarmup, evalRuns: s.evalRuns,
      matmulShapes: MATMUL_SHAPES, matmulSamples: s.matmulSamples, matmulSampleMs: s.matmulSampleMs,
    };
    const manifestPath = join(dir, 'manifest.json');
    writeFileSync(manifestPath, JSON.stringify(manifest));

    const results: ImplResult[] = [];
    let info: NumpyInfo | null = null;
    // --quick skips 2 threads: on a busy 2-core machine OpenBLAS's second thread can take seconds.
    const runs = ([[1, ['f64-book', 'f32-book', 'f32']], [2, ['f64-book', 'f32']]] as const).filter(([t]) => t === 1 || !s.quick);
    for (const [threads, variants] of runs) {
      const out = runScript(['--manifest', manifestPath, '--variants', variants.join(','), ...(matmul ? ['--matmul'] : [])], threads);
      info ??= out.info;
      for (const v of out.variants ?? []) {
        results.push({
          id: `numpy-${v.variant}-${threads}t`,
          label: `${LABELS[v.variant]}${threads > 1 ? `, ${threads} threads` : ''}`,
          threads,
          stepMs: median(v.stepMsSamples), stepMsSamples: v.stepMsSamples,
          evalMs: median(v.evalMsSamples), evalMsSamples: v.evalMsSamples,
          trainAccuracy: v.trainAccuracy, testAccuracy: v.testAccuracy,
          lastRunMeanLoss: v.lastRunMeanLoss, iterations: v.iterations,
          // The products are float32: attach them to the float32 same-work row of each thread count.
          matmul: v.variant === 'f32' ? out.matmul : undefined,
          notes: v.skipInputGradient ? undefined : ['computes Affine1 dx as the book does (unused)'],
        });
      }
    }
    // JAX on CPU, jax.jit of the same step (gather inside), where python3 can import it.
    let jaxNote: string;
    const probe = jax ? spawnSync('python3', ['-c', 'import jax'], { encoding: 'utf8', env: pythonEnv(1) }) : null;
    if (probe === null) {
      jaxNote = 'JAX not run';
    } else if (probe.status !== 0) {
      jaxNote = 'JAX not installed';
    } else {
      const r = spawnSync('python3', [JAX_SCRIPT, '--manifest', manifestPath], { env: pythonEnv(2), encoding: 'utf8', maxBuffer: 1 << 24 });
      if (r.status !== 0) {
        jaxNote = `JAX failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`;
      } else {
        const v = JSON.parse(r.stdout.trim().split('\n').pop()!) as VariantOutput & { jax: string; devices: string[] };
        jaxNote = `JAX ${v.jax} on ${v.devices.join(', ')}, XLA's default threads`;
        results.push({
          id: 'jax-f32', label: 'JAX float32, jax.jit (same work)', threads: 2,
          stepMs: median(v.stepMsSamples), stepMsSamples: v.stepMsSamples,
          evalMs: median(v.evalMsSamples), evalMsSamples: v.evalMsSamples,
          trainAccuracy: v.trainAccuracy, testAccuracy: v.testAccuracy,
          lastRunMeanLoss: v.lastRunMeanLoss, iterations: v.iterations,
        });
      }
    }
    const removed = REMOVED_ENV.map((n) => `${n}${process.env[n] !== undefined ? ` (was ${process.env[n]})` : ' (not set here)'}`).join(', ');
    const envNote = `python3 ran with ${removed} removed from its environment only, OPENBLAS_NUM_THREADS=${runs.map(([t]) => t).join(' then ')}`;
    return { info: info!, results, envNote, jaxNote };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
