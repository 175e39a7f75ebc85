/**
 * The printed report: tables of the results, each figure also as a ratio to NumPy float32
 * (1 thread, same work) of the same run, and the targets as PASS/MISS (reported, never asserted).
 */
import { MATMUL_SHAPES, MNIST_SHAPE_KEYS, type ImplResult } from './shared.js';
import type { FullRunResult, MemoryResult } from './ours.js';

/** The id of the reference every ratio is taken against. */
export const REFERENCE_ID = 'numpy-f32-1t';

/** A plain-text table with aligned columns (markdown-compatible). */
export function table(header: string[], rows: string[][], rightAlignFrom = 1): string {
  const widths = header.map((h, i) => Math.max(len(h), ...rows.map((r) => len(r[i] ?? ''))));
  const pad = (s: string, i: number) => (i >= rightAlignFrom ? ' '.repeat(widths[i] - len(s)) + s : s + ' '.repeat(widths[i] - len(s)));
  const line = (cells: string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i >= rightAlignFrom ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Display width: code points (the tables use ·, ᵀ, ², × which are one column each). */
function len(s: string): number {
  return [...s].length;
}

const fmtMs = (ms: number | undefined) => (ms === undefined ? '–' : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(3));
const fmtX = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`);
const fmtAcc = (a: number | undefined) => (a === undefined ? '–' : a.toFixed(4));
const fmtMB = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** Speed relative to the reference: reference time / time (or GFLOPS / reference GFLOPS); > 1 is faster. */
function speedup(refMs: number | undefined, ms: number | undefined): number | undefined {
  return refMs === undefined || ms === undefined ? undefined : refMs / ms;
}

export function trainingTable(results: ImplResult[]): string {
  const ref = results.find((r) => r.id === REFERENCE_ID);
  const rows = results
    .filter((r) => r.stepMs !== undefined)
    .map((r) => [
      r.label + (r.id === REFERENCE_ID ? ' (ref)' : ''),
      String(r.threads),
      fmtMs(r.stepMs),
      fmtX(speedup(ref?.stepMs, r.stepMs)),
      fmtMs(r.evalMs),
      fmtX(speedup(ref?.evalMs, r.evalMs)),
      fmtAcc(r.trainAccuracy),
      fmtAcc(r.testAccuracy),
      r.lastRunMeanLoss === undefined ? '–' : r.lastRunMeanLoss.toFixed(5),
    ]);
  return table(['implementation', 'thr', 'ms/iter', 'speed vs ref', 'acc. pass ms', 'speed vs ref', 'train acc', 'test acc', 'loss, last run'], rows);
}

export function matmulTable(results: ImplResult[]): string {
  const ref = results.find((r) => r.id === REFERENCE_ID)?.matmul;
  const rows = results
    .filter((r) => r.matmul)
    .map((r) => [
      r.label.replace(', same work', '') + (r.id === REFERENCE_ID ? ' (ref)' : ''),
      String(r.threads),
      ...MATMUL_SHAPES.map((s) => {
        const g = r.matmul![s.key];
        if (g === undefined) return 'skipped (--quick)';
        return `${g >= 10 ? g.toFixed(1) : g.toFixed(2)} (${fmtX(ref ? g / ref[s.key] : undefined)})`;
      }),
    ]);
  return table(['implementation', 'thr', ...MATMUL_SHAPES.map((s) => s.label)], rows);
}

export function memoryTable(m: MemoryResult): string {
  const row = (name: string, p: MemoryResult['start']) => [name, fmtMB(p.wasmMemoryBytes), fmtMB(p.wasmLiveBytes), fmtMB(p.rssBytes)];
  return table(
    ['point', 'wasm memory MB', 'wasm live blocks MB', 'process RSS MB'],
    [row('start (data loaded, net built)', m.start), row(`after ${Math.floor(m.iterations / 10).toLocaleString('en')} iterations`, m.afterTenth), row(`end (${m.iterations.toLocaleString('en')} iterations)`, m.end)],
  );
}

export function fullRunTable(runs: FullRunResult[]): string {
  const js = runs.find((r) => r.backend === 'js');
  return table(
    ['backend', 'thr', 'wall s', 'speed vs js', 'train acc', 'test acc'],
    runs.map((r) => [r.backend, String(r.threads), r.seconds.toFixed(1), fmtX(js ? js.seconds / r.seconds : undefined), fmtAcc(r.trainAccuracy), fmtAcc(r.testAccuracy)]),
  );
}

/** Targets are listed in the order of the brief: step, accuracy pass, products, full run. */
const TARGET_ORDER = ['training step ≥2', 'training step no slower', 'training step ≥4', 'accuracy pass', 'matmul', '2 threads', 'full default run', 'whole book run', 'SimpleConvNet'];
const order = (target: string) => TARGET_ORDER.findIndex((p) => target.startsWith(p));

/** One target checked on one of our implementations. */
export interface TargetCheck {
  target: string;
  impl: string;
  /** The measured ratio or GFLOPS, and the threshold it is held against. */
  value: number | null;
  threshold: number;
  unit: '×' | 'GFLOPS';
  pass: boolean | null;
  against?: string;
}

/**
 * The targets, for each of our implementations. NumPy comparisons are against NumPy's fastest
 * figure with at most as many threads (so 2-thread wasm meets the better of NumPy's 1 and 2 threads).
 */
export function checkTargets(results: ImplResult[], ours: ImplResult[], full: FullRunResult[] | null): TargetCheck[] {
  const byId = new Map(results.map((r) => [r.id, r]));
  const bestNumpy = (variant: string, threads: number, key: 'stepMs' | 'evalMs'): ImplResult | undefined => {
    const candidates = results.filter((r) => r.id.startsWith(`numpy-${variant}-`) && r.threads <= threads && r[key] !== undefined);
    return candidates.sort((a, b) => a[key]! - b[key]!)[0];
  };
  const out: TargetCheck[] = [];
  const ratio = (target: string, impl: ImplResult, other: ImplResult | undefined, key: 'stepMs' | 'evalMs', threshold: number) => {
    const value = other && impl[key] !== undefined ? other[key]! / impl[key]! : null;
    out.push({ target, impl: impl.id, value, threshold, unit: '×', pass: value === null ? null : value >= threshold, against: other?.id });
  };
  const wasm1 = byId.get('wasm-1t');
  for (const r of ours) {
    ratio('training step ≥2× faster than NumPy f64 (book code)', r, bestNumpy('f64-book', r.threads, 'stepMs'), 'stepMs', 2);
    ratio('training step no slower than NumPy f32 (same work)', r, bestNumpy('f32', r.threads, 'stepMs'), 'stepMs', 1);
    ratio('training step ≥4× faster than TF.js WASM', r, byId.get('tfjs-wasm'), 'stepMs', 4);
    ratio('accuracy pass no slower than NumPy f32', r, bestNumpy('f32', r.threads, 'evalMs'), 'evalMs', 1);
    if (r.threads === 1 && r.matmul) {
      const value = Math.min(...MNIST_SHAPE_KEYS.map((k) => r.matmul![k]));
      out.push({ target: 'matmul ≥40 GFLOPS on every MNIST shape, 1 thread (slowest shape)', impl: r.id, value, threshold: 40, unit: 'GFLOPS', pass: value >= 40 });
    }
    if (r.threads > 1 && r.matmul && wasm1?.matmul) {
      const value = r.matmul['1000^3'] / wasm1.matmul['1000^3'];
      out.push({ target: '2 threads ≥1.7× one thread on (1000×1000)²', impl: r.id, value, threshold: 1.7, unit: '×', pass: value >= 1.7, against: wasm1.id });
    }
    if (r.threads > 1 && r.id === `wasm-${r.threads}t` && wasm1?.stepMs !== undefined) ratio('2 threads ≥1.7× one thread, training step', r, wasm1, 'stepMs', 1.7);
    if (full) {
      const js = full.find((f) => f.backend === 'js');
      const mine = full.find((f) => f.backend !== 'js' && f.threads === r.threads && r.id.startsWith('wasm'));
      if (js && mine) {
        const value = js.seconds / mine.seconds;
        out.push({ target: 'full default run (--full) ≥5× faster than js', impl: r.id, value, threshold: 5, unit: '×', pass: value >= 5, against: 'js' });
      }
    }
  }
  return out;
}

export function targetTable(checks: TargetCheck[], ours: ImplResult[]): string {
  const targets = [...new Set(checks.map((c) => c.target))].sort((a, b) => order(a) - order(b));
  const rows = targets.map((t) => [
    t,
    ...ours.map((r) => {
      const c = checks.find((x) => x.target === t && x.impl === r.id);
      if (!c) return 'n/a';
      if (c.value === null) return 'no data';
      const v = c.unit === 'GFLOPS' ? `${c.value.toFixed(1)} GF` : fmtX(c.value);
      return `${v} ${c.pass ? 'PASS' : 'MISS'}`;
    }),
  ]);
  return table(['target', ...ours.map((r) => r.label.replace('this project, ', ''))], rows);
}
