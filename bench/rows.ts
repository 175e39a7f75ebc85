/**
 * The training-step and accuracy-pass rows of the two-layer tables: one after another (the
 * default: each row's whole run alone), or in turns (`npm run bench -- --turns`): every
 * implementation's timed runs and passes alternating with the others' (round r starts at row
 * r), so that a change of machine load during the section hits every row alike. (Measured one
 * after another, a 2-core machine shared with other processes moved single rows by 20% and more
 * between minutes of one run.) Turns are not the default: they slowed the 2-thread rows in the
 * runs of 2026-12-02 (our step on 2 threads against 1: 0.95–1.47× in 4 full runs in turns,
 * 1.36–1.67× in 3 one after another; NumPy float64 on 2 threads 0.63–0.89 ms in 6 runs in
 * turns against 0.38–0.72 in 5): a row in turns starts after its process has slept through the
 * others' turns, and this machine's vCPUs come back slowly from a sleep.
 *
 * Each row trains on the shared batch sequence in order (warm-up, then `runs` runs of
 * `itersPerRun` steps), so its numbers are those of the same run measured alone. The first
 * `untimedPerRun` steps of each run are not timed: after another row's turn, the first step
 * costs ~0.3 ms more (threads woken, caches refilled; measured on wasm with 2 threads, the same
 * after an idle or a busy gap), the next few ~20 µs more each.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SPIN_SETTLE_MS } from './python.js';
import { median, progress, totalIters, type ImplResult, type Settings } from './shared.js';

/** One implementation's two-layer training run, stepped on run by run (alone, or in turns with the others). */
export interface TrainingRow {
  id: string;
  label: string;
  threads: number;
  notes?: string[];
  /** Slow (the js backend, TF.js CPU): accuracy passes without a warm-up, `slowEvalRuns` of them. */
  slow?: boolean;
  /** Its threads spin for a while after a run (OpenBLAS on 2 threads): the next row waits SPIN_SETTLE_MS first. */
  spins?: boolean;
  /** The next `count` steps of the batch sequence: the ms of all but the first `untimed` of them, and the sum of all their losses. */
  run(count: number, untimed: number): Promise<{ ms: number; lossSum: number }>;
  /** One accuracy pass over the training and test sets, as trained so far. */
  evaluate(): Promise<{ ms: number; trainAccuracy: number; testAccuracy: number }>;
}

/** `rows` rotated so that round r starts at row r mod n. */
function rotated<T>(rows: readonly T[], r: number): T[] {
  const k = r % rows.length;
  return [...rows.slice(k), ...rows.slice(0, k)];
}

/**
 * Warm-up, then the timed runs and accuracy passes of `rows` in turns (or, `sequential`, each
 * row's alone, one after another); each row's result as ImplResult (ms/iteration and pass ms:
 * medians of its runs and passes).
 */
export async function interleave(rows: readonly TrainingRow[], s: Settings, what: string, sequential = false): Promise<ImplResult[]> {
  if (sequential && rows.length > 1) {
    // each row's whole run alone, one after another (the default; --turns for turns)
    const out: ImplResult[] = [];
    for (const row of rows) out.push(...(await interleave([row], s, `${what}: ${row.label}`)));
    return out;
  }
  const steps = new Map<TrainingRow, number[]>(rows.map((row) => [row, []]));
  const passes = new Map<TrainingRow, number[]>(rows.map((row) => [row, []]));
  const lastLoss = new Map<TrainingRow, number>();
  const accuracy = new Map<TrainingRow, { trainAccuracy: number; testAccuracy: number }>();
  let last: TrainingRow | null = null;
  const turn = async <T>(row: TrainingRow, f: () => Promise<T>): Promise<T> => {
    if (last?.spins && last !== row) await sleep(SPIN_SETTLE_MS);
    last = row;
    return f();
  };
  progress(`${what}: warm-up, ${s.warmup} steps of each row`);
  for (const row of rows) await turn(row, () => row.run(s.warmup, s.warmup));
  for (let r = 0; r < s.runs; r++) {
    progress(`${what}: timed runs, round ${r + 1} of ${s.runs} (${rows.length} rows in turn)`);
    for (const row of rotated(rows, r)) {
      // the first steps of a turn, untimed: the worker threads' wake-up and refilled caches (~0.3 ms, once)
      const { ms, lossSum } = await turn(row, () => row.run(s.itersPerRun, s.untimedPerRun));
      steps.get(row)!.push(ms / (s.itersPerRun - s.untimedPerRun));
      lastLoss.set(row, lossSum / s.itersPerRun);
    }
  }
  progress(`${what}: accuracy passes`);
  for (const row of rows) if (!row.slow) for (let r = 0; r < s.evalWarmup; r++) await turn(row, () => row.evaluate());
  const rounds = Math.max(s.evalRuns, s.slowEvalRuns);
  for (let r = 0; r < rounds; r++) {
    for (const row of rotated(rows, r)) {
      if (r >= (row.slow ? s.slowEvalRuns : s.evalRuns)) continue;
      const { ms, ...acc } = await turn(row, () => row.evaluate());
      passes.get(row)!.push(ms);
      accuracy.set(row, acc);
    }
  }
  return rows.map((row) => ({
    id: row.id, label: row.label, threads: row.threads,
    stepMs: median(steps.get(row)!), stepMsSamples: steps.get(row)!,
    evalMs: median(passes.get(row)!), evalMsSamples: passes.get(row)!,
    trainAccuracy: accuracy.get(row)!.trainAccuracy, testAccuracy: accuracy.get(row)!.testAccuracy,
    lastRunMeanLoss: lastLoss.get(row)!,
    iterations: totalIters(s),
    ...(row.notes ? { notes: row.notes } : {}),
  }));
}

/** A row of an in-process `step(i)` (the loss of batch i) and accuracy pass, timed here. */
export function localRow(
  fields: Pick<TrainingRow, 'id' | 'label' | 'threads' | 'notes' | 'slow'>,
  step: (i: number) => number,
  evaluate: () => [number, number],
): TrainingRow {
  let i = 0;
  return {
    ...fields,
    run: async (count, untimed) => {
      let lossSum = 0;
      for (let j = 0; j < untimed; j++, i++) lossSum += step(i);
      const t = performance.now();
      for (let j = untimed; j < count; j++, i++) lossSum += step(i);
      return { ms: performance.now() - t, lossSum };
    },
    evaluate: async () => {
      const t = performance.now();
      const [trainAccuracy, testAccuracy] = evaluate();
      return { ms: performance.now() - t, trainAccuracy, testAccuracy };
    },
  };
}
