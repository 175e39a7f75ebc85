/** A small SVG line chart for the training curves: axes, ticks, grid, lines and a legend. */
import { formatNumber } from '../src/graph/format.js';
import { type Xml, el } from '../src/graph/xml.js';

export interface Series {
  name: string;
  /** A CSS colour. */
  color: string;
  points: readonly (readonly [x: number, y: number])[];
  /** Mark each point with a dot (for a few points, such as one per epoch). */
  dots?: boolean;
}

export interface ChartOptions {
  xLabel: string;
  yLabel: string;
  /** The y range; by default 0 up to the largest value. */
  yMin?: number;
  yMax?: number;
  /** The x range's end; by default the largest x (at least 1). */
  xMax?: number;
  /** Whole-number x ticks only (epochs). */
  integerX?: boolean;
  /** Width in px the chart is drawn for, so that its text stays 12 px (default 480). */
  width?: number;
  /** Text for a screen reader: what the chart shows now. */
  description: string;
}

const H = 240;
const PAD = { left: 52, right: 12, top: 28, bottom: 40 };

/**
 * Tick positions from min to max at a step of 1, 2 or 5 × 10^k giving about `count` ticks,
 * the step at least `minStep`.
 */
export function ticks(min: number, max: number, count = 5, minStep = 0): number[] {
  const raw = Math.max(minStep, (max - min) / count || 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** The chart as SVG markup, scaled to its container by its viewBox. */
export function lineChart(series: readonly Series[], o: ChartOptions): string {
  const W = Math.round(Math.min(800, Math.max(280, o.width ?? 480)));
  const all = series.flatMap((s) => s.points);
  const xMax = o.xMax ?? Math.max(1, ...all.map((p) => p[0]));
  const yMin = o.yMin ?? 0;
  const yMax = o.yMax ?? Math.max(yMin + 1e-9, ...all.map((p) => p[1]));
  const sx = (x: number): number => PAD.left + (x / xMax) * (W - PAD.left - PAD.right);
  const sy = (y: number): number => H - PAD.bottom - ((y - yMin) / (yMax - yMin)) * (H - PAD.top - PAD.bottom);
  const parts: Xml[] = [];
  for (const y of ticks(yMin, yMax, 4)) {
    parts.push(el('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: sy(y), y2: sy(y) }));
    parts.push(el('text', { x: PAD.left - 6, y: sy(y) + 4, 'text-anchor': 'end' }, formatNumber(y)));
  }
  for (const x of ticks(0, xMax, Math.max(2, Math.floor(W / 90)), o.integerX ? 1 : 0)) {
    parts.push(el('line', { class: 'axis', x1: sx(x), x2: sx(x), y1: H - PAD.bottom, y2: H - PAD.bottom + 4 }));
    parts.push(el('text', { x: sx(x), y: H - PAD.bottom + 16, 'text-anchor': 'middle' }, formatNumber(x)));
  }
  parts.push(el('path', { class: 'axis', d: `M${PAD.left},${PAD.top - 8}V${H - PAD.bottom}H${W - PAD.right}`, fill: 'none' }));
  parts.push(el('text', { x: (PAD.left + W - PAD.right) / 2, y: H - 6, 'text-anchor': 'middle' }, o.xLabel));
  parts.push(el('text', { x: 12, y: (PAD.top + H - PAD.bottom) / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${(PAD.top + H - PAD.bottom) / 2})` }, o.yLabel));
  series.forEach((s, k) => {
    const xy = s.points.map(([x, y]) => [sx(x), sy(Math.min(yMax, Math.max(yMin, y)))] as const);
    const round = (v: number): number => Math.round(v * 10) / 10;
    if (xy.length > 1) parts.push(el('polyline', { points: xy.map(([x, y]) => `${round(x)},${round(y)}`).join(' '), fill: 'none', stroke: s.color, 'stroke-width': 2 }));
    if (s.dots) for (const [cx, cy] of xy) parts.push(el('circle', { cx, cy, r: 3, fill: s.color }));
    const lx = W - PAD.right - 90 * (series.length - k);
    parts.push(el('line', { x1: lx, x2: lx + 18, y1: 12, y2: 12, stroke: s.color, 'stroke-width': 3 }));
    parts.push(el('text', { x: lx + 22, y: 16 }, s.name));
  });
  return el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': o.description, class: 'chart', 'font-size': 12 }, ...parts).xml;
}

/**
 * At most `buckets` points from a long list of per-iteration values: the mean of each run of
 * consecutive values, at the run's last iteration (1-based).
 */
export function downsample(values: ArrayLike<number>, count: number, buckets = 300): [number, number][] {
  const size = Math.max(1, Math.ceil(count / buckets));
  const out: [number, number][] = [];
  for (let start = 0; start < count; start += size) {
    const end = Math.min(count, start + size);
    let sum = 0;
    for (let i = start; i < end; i++) sum += values[i];
    out.push([end, sum / (end - start)]);
  }
  return out;
}
