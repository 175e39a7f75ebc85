/**
 * The NumPy reference: bench/numpy_two_layer.py run with python3, on the same images, initial
 * weights and batch sequence (written to a temporary directory as raw files). Its training rows
 * are served by long-lived python3 processes (one per BLAS thread count), which bench/rows.ts
 * steps like ours (in turns with them under --turns); its products and JAX's row run as one-shot
 * subprocesses.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PythonServer, REMOVED_ENV, canImport, pythonEnv } from './python.js';
import type { TrainingRow } from './rows.js';
import { MATMUL_SHAPES, RECIPE, childOutput, lastLines, median, totalIters, type ImplResult, type Workload } from './shared.js';

const SCRIPT = fileURLToPath(new URL('./numpy_two_layer.py', import.meta.url));
const JAX_SCRIPT = fileURLToPath(new URL('./jax_two_layer.py', import.meta.url));

/** What numpy_two_layer.py --info reports. */
export interface NumpyInfo {
  python: string;
  numpy: string;
  blas: { name?: string; version?: string };
  openblas: { library?: string; core?: string; threads?: number; config?: string };
  env: Record<string, string | null>;
}

/** The NumPy (and JAX) rows of a bench run, and what the report says of them. */
export interface NumpyRun {
  info: NumpyInfo;
  results: ImplResult[];
  /** "JAX not installed", or what went wrong, or JAX's version and devices when its row ran. */
  jaxNote: string;
  /** The environment changes made for the subprocess, as printed. */
  envNote: string;
}

/** What jax_two_layer.py prints. */
interface JaxOutput {
  jax: string;
  devices: string[];
  stepMsSamples: number[];
  evalMsSamples: number[];
  trainAccuracy: number;
  testAccuracy: number;
  lastRunMeanLoss: number;
  iterations: number;
}

function runScript<T>(args: string[], threads: number): T {
  const r = spawnSync('python3', [SCRIPT, ...args], { env: pythonEnv(threads), encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(childOutput(`python3 ${SCRIPT}`, r)) as T;
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

/** The BLAS thread counts and variants of the NumPy rows (--quick: 1 thread only; on a busy 2-core machine OpenBLAS's second thread can take seconds). */
export function numpyPlan(quick: boolean): [number, string[]][] {
  const plan: [number, string[]][] = [[1, ['f64-book', 'f32-book', 'f32']], [2, ['f64-book', 'f32']]];
  return plan.filter(([t]) => t === 1 || !quick);
}

/**
 * The NumPy side of one workload: its inputs written once to a temporary directory, then the
 * training rows (`rows`: one server per thread count, stepped by bench/rows.ts), the float32
 * products (`matmul`) and JAX's jit of the step (`jax`); `close` stops the servers and removes
 * the directory.
 */
export class NumpySide {
  private readonly dir = mkdtempSync(join(tmpdir(), 'backprop-bench-'));
  private readonly manifestPath: string;
  private readonly servers: PythonServer[] = [];
  /** numpy_two_layer.py's machine report (set by `rows`). */
  info: NumpyInfo | null = null;

  constructor(private readonly w: Workload) {
    const s = w.settings;
    const { train, test } = w.data;
    const write = (name: string, a: ArrayBufferView) => writeFileSync(join(this.dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
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
      batchSize: RECIPE.batchSize, lr: RECIPE.lr, iters: totalIters(s),
      // the timing of jax_two_layer.py's own run (the NumPy rows are stepped by bench/rows.ts)
      warmup: s.warmup, runs: s.runs, itersPerRun: s.itersPerRun, evalWarmup: s.evalWarmup, evalRuns: s.evalRuns,
      matmulShapes: MATMUL_SHAPES, matmulSamples: s.matmulSamples, matmulSampleMs: s.matmulSampleMs,
    };
    this.manifestPath = join(this.dir, 'manifest.json');
    writeFileSync(this.manifestPath, JSON.stringify(manifest));
  }

  /** The training rows of numpyPlan, served (the processes start and load the data here). */
  async rows(): Promise<TrainingRow[]> {
    const rows: TrainingRow[] = [];
    for (const [threads, variants] of numpyPlan(this.w.settings.quick)) {
      const server = new PythonServer(SCRIPT, ['--manifest', this.manifestPath, '--variants', variants.join(','), '--serve'], threads);
      this.servers.push(server);
      const ready = await server.next<{ info: NumpyInfo; variants: { variant: string; skipInputGradient: boolean }[] }>();
      this.info ??= ready.info;
      for (const v of ready.variants) {
        rows.push({
          id: `numpy-${v.variant}-${threads}t`,
          label: `${LABELS[v.variant]}${threads > 1 ? `, ${threads} threads` : ''}`,
          threads, spins: threads > 1, // one BLAS thread: no thread of OpenBLAS's own to spin
          notes: v.skipInputGradient ? undefined : ['computes Affine1 dx as the book does (unused)'],
          run: (count, untimed) => server.request<{ ms: number; lossSum: number }>(`run ${v.variant} ${count} ${untimed}`),
          evaluate: () => server.request<{ ms: number; trainAccuracy: number; testAccuracy: number }>(`eval ${v.variant}`),
        });
      }
    }
    return rows;
  }

  /** Float32 GFLOPS of MATMUL_SHAPES with `threads` BLAS threads. */
  matmul(threads: number): Record<string, number> {
    return runScript<{ matmul: Record<string, number> }>(['--manifest', this.manifestPath, '--matmul'], threads).matmul;
  }

  /** JAX on CPU, jax.jit of the same step (gather inside), where python3 can import it: its row, and a line saying what ran. */
  jax(): { result: ImplResult | null; note: string } {
    if (!canImport('jax')) return { result: null, note: 'JAX not installed' };
    const r = spawnSync('python3', [JAX_SCRIPT, '--manifest', this.manifestPath], { env: pythonEnv(2), encoding: 'utf8', maxBuffer: 1 << 24 });
    let out: string;
    try {
      out = childOutput('JAX', r);
    } catch (e) {
      return { result: null, note: (e as Error).message };
    }
    const v = JSON.parse(lastLines(out, 1)) as JaxOutput;
    return {
      note: `JAX ${v.jax} on ${v.devices.join(', ')}, XLA's default threads`,
      result: {
        id: 'jax-f32', label: 'JAX float32, jax.jit (same work)', threads: 2,
        stepMs: median(v.stepMsSamples), stepMsSamples: v.stepMsSamples,
        evalMs: median(v.evalMsSamples), evalMsSamples: v.evalMsSamples,
        trainAccuracy: v.trainAccuracy, testAccuracy: v.testAccuracy,
        lastRunMeanLoss: v.lastRunMeanLoss, iterations: v.iterations,
      },
    };
  }

  close(): void {
    for (const s of this.servers) s.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The environment changes made for the subprocesses, as the report prints them. */
export function numpyEnvNote(quick: boolean): string {
  const removed = REMOVED_ENV.map((n) => `${n}${process.env[n] !== undefined ? ` (was ${process.env[n]})` : ' (not set here)'}`).join(', ');
  return `python3 ran with ${removed} removed from its environment only, OPENBLAS_NUM_THREADS=${numpyPlan(quick).map(([t]) => t).join(' then ')}`;
}
