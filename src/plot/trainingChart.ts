import { el, type Xml } from '../graph/xml.js';
import type { EpochRecord } from '../train/train.js';

/** What a training chart shows: the loss per iteration and the accuracies per epoch. */
export interface TrainingCurves {
  /** Loss of every iteration (the book's train_loss_list). */
  lossList: ArrayLike<number>;
  history: readonly EpochRecord[];
}

const PANEL_W = 420;
const PANEL_H = 300;
const MARGIN = { left: 56, right: 16, top: 36, bottom: 46 };
/** At most this many points per loss line: each is the mean of its run of iterations. */
const MAX_POINTS = 800;

/**
 * An SVG chart in the style of the book's figures: on the left the loss by iteration, on the
 * right train and test accuracy by epoch. Self-contained: no fonts or scripts to load.
 */
export function renderTrainingChart(curves: TrainingCurves, title = 'training'): string {
  const loss = downsample(curves.lossList);
  const epochs = curves.history.map((r) => r.epoch);
  const lossPanel = panel({
    x0: 0,
    title: 'loss',
    xLabel: 'iterations',
    yLabel: 'loss',
    xMax: Math.max(1, curves.lossList.length),
    yMax: niceMax(Math.max(...loss.map((p) => p[1]), 1e-9)),
    yMin: 0,
    series: [{ points: loss, color: '#1f77b4', dash: undefined, name: 'train loss' }],
  });
  const accPanel = panel({
    x0: PANEL_W,
    title: 'accuracy',
    xLabel: 'epochs',
    yLabel: 'accuracy',
    xMax: Math.max(1, ...epochs),
    yMax: 1,
    yMin: 0,
    legendBottom: true,
    series: [
      { points: curves.history.map((r) => [r.epoch, r.trainAccuracy]), color: '#1f77b4', dash: undefined, name: 'train' },
      { points: curves.history.map((r) => [r.epoch, r.testAccuracy]), color: '#d62728', dash: '6 4', name: 'test' },
    ],
  });
  const width = 2 * PANEL_W;
  const height = PANEL_H + 28;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    el(
      'svg',
      { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}`, 'font-family': 'sans-serif', 'font-size': 12 },
      el('rect', { x: 0, y: 0, width, height, fill: 'white' }),
      el('text', { x: width / 2, y: 18, 'text-anchor': 'middle', 'font-size': 14 }, title),
      el('g', { transform: 'translate(0, 24)' }, lossPanel, accPanel),
    ).xml +
    '\n'
  );
}

interface PanelSpec {
  x0: number;
  title: string;
  xLabel: string;
  yLabel: string;
  xMax: number;
  yMin: number;
  yMax: number;
  series: { points: number[][]; color: string; dash: string | undefined; name: string }[];
  legendBottom?: boolean;
}

function panel(p: PanelSpec): Xml {
  const left = p.x0 + MARGIN.left;
  const right = p.x0 + PANEL_W - MARGIN.right;
  const top = MARGIN.top;
  const bottom = PANEL_H - MARGIN.bottom;
  const sx = (x: number): number => left + ((right - left) * x) / p.xMax;
  const sy = (y: number): number => bottom - ((bottom - top) * (y - p.yMin)) / (p.yMax - p.yMin);
  const parts: Xml[] = [];
  for (const t of ticks(p.yMin, p.yMax)) {
    parts.push(el('line', { x1: left, x2: right, y1: sy(t), y2: sy(t), stroke: '#e6e6e6' }));
    parts.push(el('text', { x: left - 6, y: sy(t) + 4, 'text-anchor': 'end' }, fmt(t)));
  }
  for (const t of ticks(0, p.xMax)) {
    parts.push(el('line', { x1: sx(t), x2: sx(t), y1: bottom, y2: bottom + 4, stroke: '#333' }));
    parts.push(el('text', { x: sx(t), y: bottom + 18, 'text-anchor': 'middle' }, fmt(t)));
  }
  parts.push(el('rect', { x: left, y: top, width: right - left, height: bottom - top, fill: 'none', stroke: '#333' }));
  for (const s of p.series) {
    if (s.points.length === 0) continue;
    const d = s.points.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    parts.push(el('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 1.5, 'stroke-dasharray': s.dash }));
  }
  // legend inside the plot, top right, or bottom right where the curves run high (accuracy)
  p.series.forEach((s, i) => {
    const y = p.legendBottom ? bottom - 10 - (p.series.length - 1 - i) * 16 : top + 14 + i * 16;
    parts.push(el('line', { x1: right - 80, x2: right - 56, y1: y - 4, y2: y - 4, stroke: s.color, 'stroke-width': 2, 'stroke-dasharray': s.dash }));
    parts.push(el('text', { x: right - 50, y }, s.name));
  });
  parts.push(el('text', { x: (left + right) / 2, y: PANEL_H - 8, 'text-anchor': 'middle' }, p.xLabel));
  parts.push(el('text', { x: p.x0 + 14, y: (top + bottom) / 2, 'text-anchor': 'middle', transform: `rotate(-90 ${p.x0 + 14} ${(top + bottom) / 2})` }, p.yLabel));
  parts.push(el('text', { x: (left + right) / 2, y: top - 10, 'text-anchor': 'middle', 'font-weight': 'bold' }, p.title));
  return el('g', {}, ...parts);
}

/** [iteration, loss] points: runs of iterations averaged so that at most MAX_POINTS remain. */
function downsample(values: ArrayLike<number>): number[][] {
  const n = values.length;
  const step = Math.max(1, Math.ceil(n / MAX_POINTS));
  const out: number[][] = [];
  for (let i = 0; i < n; i += step) {
    let s = 0;
    const end = Math.min(n, i + step);
    for (let j = i; j < end; j++) s += values[j];
    out.push([(i + end) / 2, s / (end - i)]);
  }
  return out;
}

/** About five round tick values from lo to hi. */
function ticks(lo: number, hi: number): number[] {
  const span = hi - lo;
  const raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= 6)!;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function niceMax(v: number): number {
  const mag = 10 ** Math.floor(Math.log10(v));
  return [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * mag).find((m) => m >= v)!;
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 ? `${v / 1000}k` : String(Number(v.toPrecision(4)));
}
