/**
 * The whole book run as a user times it: `backprop train --seed 1 --iters 3000 --report FILE`
 * on the bundled digits (8,000 / 2,000, split seed 0), the CLI's own clock (the report's
 * final.seconds: first iteration to the final evaluation, an accuracy pass over every row of
 * both sets at every epoch included), against ch05/train_neuralnet.py's loop in NumPy
 * (bench/numpy_two_layer.py --book-run) on the same images, iterations and evaluations, timed
 * by that script's own clock: float64 (the book's code) and float32 (the same work as ours).
 *
 * NumPy runs as bench/numpy.ts runs it: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (which force
 * slower kernels on this machine) removed from the subprocess's environment only,
 * OPENBLAS_NUM_THREADS 1 and 2. Runs alternate (ours, then each NumPy variant), so that a change
 * of machine load hits all alike; each figure is the median of its runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundledDigits } from '../src/data/bundledDigits.js';
import { BOOK_DEFAULTS } from '../src/train/train.js';
import { pythonEnv } from './python.js';
import { RECIPE, childOutput, median, progress } from './shared.js';
import type { TargetCheck } from './report.js';
import { table } from './report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./numpy_two_layer.py', import.meta.url));
/** The run: `backprop train --seed 1 --iters 3000` (the other settings are the CLI's defaults, the book's). */
export const BOOK_RUN = { seed: 1, iters: 3000 } as const;
/** The CLI as `npm run backprop` starts it (the sources under tsx: the same code as the package's dist/). */
const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/run.ts')];

/** One configuration's runs. */
export interface BookRunRow {
  id: string;
  label: string;
  threads: number;
  /** Seconds of each run, by the run's own report; the median. */
  samples: number[];
  seconds: number;
  trainAccuracy: number;
  testAccuracy: number;
  evaluations: number;
}

/** The book run's configurations, its targets checked, and what was left out. */
export interface BookRunResult {
  command: string;
  rows: BookRunRow[];
  checks: TargetCheck[];
  /** Why NumPy did not run, or null. */
  numpyMissing: string | null;
  /** Runs cut short, and why. */
  notes: string[];
}

/** One `backprop train` run; its report's seconds and accuracies. */
function runOurs(dir: string, threads: number | null): { seconds: number; trainAccuracy: number; testAccuracy: number; evaluations: number } {
  const report = join(dir, 'report.json');
  const args = [...CLI, 'train', '--seed', String(BOOK_RUN.seed), '--iters', String(BOOK_RUN.iters), '--quiet', '--report', report];
  if (threads !== null) args.push('--threads', String(threads));
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  childOutput('backprop train', r);
  const rep = JSON.parse(readFileSync(report, 'utf8')) as { final: { seconds: number; trainAccuracy: number; testAccuracy: number }; history: unknown[] };
  return { seconds: rep.final.seconds, trainAccuracy: rep.final.trainAccuracy, testAccuracy: rep.final.testAccuracy, evaluations: rep.history.length };
}

/** One NumPy book run of `variant` on `threads` BLAS threads. */
function runNumpy(manifest: string, variant: string, threads: number): { seconds: number; trainAccuracy: number; testAccuracy: number; evaluations: number } {
  const r = spawnSync('python3', [SCRIPT, '--book-run', manifest, '--variant', variant], { env: pythonEnv(threads), encoding: 'utf8', maxBuffer: 1 << 24 });
  return (JSON.parse(childOutput(`python3 ${SCRIPT} --book-run`, r)) as { bookRun: { seconds: number; trainAccuracy: number; testAccuracy: number; evaluations: number } }).bookRun;
}

const NUMPY_VARIANTS = [
  ['f64-book', 'NumPy float64, book code'],
  ['f32', 'NumPy float32, same work'],
] as const;

/**
 * The book run `runs` times for each configuration, alternating: ours on the default threads
 * and on 1 thread, NumPy's float64 and float32 on each of `numpyThreads` BLAS threads
 * (NumPy only where `numpyMissing` is null).
 */
export function benchBookRun(runs: number, numpyMissing: string | null, ourThreads: number, numpyThreads: readonly number[] = [1, 2]): BookRunResult {
  const dir = mkdtempSync(join(tmpdir(), 'backprop-book-run-'));
  try {
    const { train, test } = loadBundledDigits({ splitSeed: 0 });
    const write = (name: string, a: ArrayBufferView) => writeFileSync(join(dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    write('train-images.u8', train.images);
    write('train-labels.u8', train.labels);
    write('test-images.u8', test.images);
    write('test-labels.u8', test.labels);
    const manifest = join(dir, 'book.json');
    writeFileSync(manifest, JSON.stringify({
      trainCount: train.count, testCount: test.count, inputSize: RECIPE.inputSize, hiddenSize: BOOK_DEFAULTS.hidden, outputSize: RECIPE.outputSize,
      batchSize: BOOK_DEFAULTS.batchSize, lr: BOOK_DEFAULTS.lr, weightInitStd: BOOK_DEFAULTS.weightInitStd, iters: BOOK_RUN.iters, seed: BOOK_RUN.seed,
    }));
    type Config = { id: string; label: string; threads: number; run: () => ReturnType<typeof runOurs> };
    const configs: Config[] = [
      { id: `wasm-${ourThreads}t`, label: `this project, backprop train (default backend, ${ourThreads} thread${ourThreads > 1 ? 's' : ''})`, threads: ourThreads, run: () => runOurs(dir, null) },
    ];
    if (ourThreads > 1) configs.push({ id: 'wasm-1t', label: 'this project, backprop train --threads 1', threads: 1, run: () => runOurs(dir, 1) });
    if (numpyMissing === null) {
      for (const threads of numpyThreads) {
        for (const [variant, label] of NUMPY_VARIANTS) {
          configs.push({ id: `numpy-${variant}-${threads}t`, label: `${label}, ${threads} thread${threads > 1 ? 's' : ''}`, threads, run: () => runNumpy(manifest, variant, threads) });
        }
      }
    }
    const got = new Map<string, ReturnType<typeof runOurs>[]>();
    const dropped: string[] = [];
    for (let r = 0; r < runs; r++) {
      progress(`book run ${r + 1} / ${runs}: ${configs.map((c) => c.id).join(', ')}`);
      for (const c of configs) {
        if (dropped.includes(c.id)) continue;
        const list = got.get(c.id) ?? [];
        list.push(c.run());
        got.set(c.id, list);
        // OpenBLAS's second thread starved by other processes can take 10× longer: one such run is enough
        const one = got.get(c.id.replace(/-2t$/, '-1t'));
        if (c.id.startsWith('numpy') && c.threads > 1 && one && list[0].seconds > 3 * one[0].seconds) dropped.push(c.id);
      }
    }
    const rows: BookRunRow[] = configs.map((c) => {
      const list = got.get(c.id)!;
      const last = list[list.length - 1];
      const samples = list.map((x) => x.seconds);
      return { id: c.id, label: c.label, threads: c.threads, samples, seconds: median(samples), trainAccuracy: last.trainAccuracy, testAccuracy: last.testAccuracy, evaluations: last.evaluations };
    });
    const notes = dropped.map((id) => `${id}: one run only (over 3× its 1-thread time: its second BLAS thread was starved)`);
    return { command: `backprop train --seed ${BOOK_RUN.seed} --iters ${BOOK_RUN.iters}`, rows, checks: bookRunChecks(rows), numpyMissing, notes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The targets: ≥1.5× NumPy float64 and ≥1.0× NumPy float32, each against NumPy's best on at most as many threads. */
function bookRunChecks(rows: BookRunRow[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const r of rows.filter((x) => x.id.startsWith('wasm'))) {
    for (const [variant, threshold, what] of [['f64-book', 1.5, 'NumPy f64 (book code)'], ['f32', 1, 'NumPy f32 (same work)']] as const) {
      const best = rows.filter((x) => x.id.startsWith(`numpy-${variant}-`) && x.threads <= r.threads).sort((a, b) => a.seconds - b.seconds)[0];
      const value = best ? best.seconds / r.seconds : null;
      out.push({
        target: `whole book run ≥${threshold.toFixed(1)}× ${what}`, impl: r.id, value, threshold, unit: '×',
        pass: value === null ? null : value >= threshold, against: best?.id,
      });
    }
  }
  return out;
}

/** The section of the report: each configuration's seconds, accuracies, and the ratios with PASS/MISS. */
export function bookRunTable(b: BookRunResult): string {
  const ours = b.rows.find((r) => r.id.startsWith('wasm') && r.threads > 1) ?? b.rows[0];
  const rows = b.rows.map((r) => {
    const check = b.checks.filter((c) => c.impl === r.id).map((c) => `${c.value === null ? 'no data' : `${c.value.toFixed(2)}×`} ${c.pass ? 'PASS' : 'MISS'} (${c.target.replace('whole book run ', '')})`);
    return [
      r.label, String(r.threads), r.seconds.toFixed(2), r.samples.map((s) => s.toFixed(2)).join(' '),
      r.id.startsWith('numpy') ? `${(r.seconds / ours.seconds).toFixed(2)}×` : check.join('; ') || '–',
      r.trainAccuracy.toFixed(4), r.testAccuracy.toFixed(4), String(r.evaluations),
    ];
  });
  return table(['run', 'thr', 's (median)', 's (runs)', 'ratio (NumPy s / ours s)', 'train acc', 'test acc', 'evaluations'], rows);
}
