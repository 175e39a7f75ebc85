import { el, type Xml } from '../graph/xml.js';

/** A marker drawn on a line's points, as matplotlib's 'o', 'x', 's', 'D', '+'. */
export type Marker = 'circle' | 'cross' | 'square' | 'diamond' | 'plus';

/** One line of a chart. */
export interface LineSeries {
  /** The legend entry; series without a name get none (contour lines, reference marks). */
  name?: string;
  /** [x, y] points in order; non-finite points break the line. */
  points: readonly (readonly [number, number])[];
  /** Stroke colour (a CSS colour); default: the next of the book's matplotlib colours. */
  color?: string;
  /** SVG stroke-dasharray, e.g. '6 4'. */
  dash?: string;
  /** Stroke width (1.5); 0 draws markers only. */
  width?: number;
  /** A marker on the points (none by default). */
  marker?: Marker;
  /** A marker on every k-th point, starting with the first (1: every point), as matplotlib's markevery. */
  markEvery?: number;
}

/** One plot: its lines, titles and ranges. */
export interface ChartPanel {
  /** The lines. */
  series: readonly LineSeries[];
  /** The title above the plot. */
  title?: string;
  /** The x axis label. */
  xLabel?: string;
  /** The y axis label. */
  yLabel?: string;
  /** The x axis range; default 0 (or the least x, if negative) to the greatest x, rounded up. */
  xRange?: readonly [number, number];
  /** The y axis range (the book's plt.ylim); default as xRange. Lines outside it are clipped. */
  yRange?: readonly [number, number];
  /**
   * Where the legend goes: 'best' (default, as matplotlib's plt.legend()) picks the corner or
   * side where it covers the least of the lines; 'none' leaves it out.
   */
  legend?: 'best' | 'top-right' | 'bottom-right' | 'none';
}

/** The layout of a chart of one or more panels. */
export interface LineChartOptions {
  /** A title above all panels. */
  title?: string;
  /** Panels per row (2 when there are several, like the book's plt.subplot(2, 2, i)). */
  columns?: number;
  /** Width of each panel, in px (480). */
  panelWidth?: number;
  /** Height of each panel, in px (340). */
  panelHeight?: number;
}

/** matplotlib's default colour cycle, so charts look like the book's figures. */
export const SERIES_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'] as const;

const MARGIN = { left: 56, right: 16, top: 36, bottom: 46 };

/**
 * An SVG line chart of one or more panels, in the style of the book's matplotlib figures:
 * axes with round ticks, one line per series with optional markers, a legend of the named
 * series. Self-contained (no fonts or scripts to load); lines are clipped to each plot area.
 *
 * @example
 * const svg = renderLineChart({
 *   series: [{ name: 'SGD', points: sgd.map((y, i) => [i, y]), marker: 'circle', markEvery: 100 }],
 *   xLabel: 'iterations', yLabel: 'loss', yRange: [0, 1],
 * });
 * writeFileAtomic('loss.svg', svg);
 */
export function renderLineChart(panels: ChartPanel | readonly ChartPanel[], options: LineChartOptions = {}): string {
  const list: readonly ChartPanel[] = Array.isArray(panels) ? panels : [panels as ChartPanel];
  if (list.length === 0) throw new RangeError('renderLineChart: give at least one panel');
  const columns = Math.max(1, Math.min(list.length, options.columns ?? (list.length > 1 ? 2 : 1)));
  const rows = Math.ceil(list.length / columns);
  const pw = options.panelWidth ?? 480;
  const ph = options.panelHeight ?? 340;
  const top = options.title ? 24 : 0;
  const width = columns * pw;
  const height = rows * ph + top;
  const drawn = list.map((p, i) => el('g', { transform: `translate(${(i % columns) * pw}, ${top + Math.floor(i / columns) * ph})` }, panel(p, pw, ph, i)));
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    el(
      'svg',
      { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}`, 'font-family': 'sans-serif', 'font-size': 12 },
      el('rect', { x: 0, y: 0, width, height, fill: 'white' }),
      ...(options.title ? [el('text', { x: width / 2, y: 18, 'text-anchor': 'middle', 'font-size': 14 }, options.title)] : []),
      ...drawn,
    ).xml +
    '\n'
  );
}

/**
 * The book's smooth_curve (common/util.py): a Kaiser window of 11 points (β = 2), the series
 * mirrored at both ends as NumPy's `np.r_[x[10:0:-1], x, x[-1:-11:-1]]` does, so the result
 * has the input's length. Series shorter than the window are returned as they are.
 */
export function smoothCurve(x: ArrayLike<number>): number[] {
  const windowLen = 11;
  const n = x.length;
  if (n < windowLen) return Array.from(x);
  const w = kaiser(windowLen, 2);
  const sum = w.reduce((a, b) => a + b, 0);
  // s = x[10], …, x[1], x[0], …, x[n−1], x[n−1], …, x[n−10]
  const s = (m: number): number => (m < windowLen - 1 ? x[windowLen - 1 - m] : m < n + windowLen - 1 ? x[m - (windowLen - 1)] : x[2 * n + windowLen - 2 - m]);
  const half = (windowLen - 1) / 2;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let j = 0; j < windowLen; j++) acc += w[j] * s(i + half + j); // np.convolve(w / w.sum(), s, 'valid')[5:-5]
    out[i] = acc / sum;
  }
  return out;
}

/** NumPy's np.kaiser(M, β): I0(β·√(1 − (2n/(M−1) − 1)²)) / I0(β). */
function kaiser(M: number, beta: number): number[] {
  return Array.from({ length: M }, (_, n) => besselI0(beta * Math.sqrt(1 - (2 * n / (M - 1) - 1) ** 2)) / besselI0(beta));
}

/** The modified Bessel function I0 by its power series Σ ((x/2)^k / k!)². */
function besselI0(x: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / 2 / k) ** 2;
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function panel(p: ChartPanel, pw: number, ph: number, index: number): Xml {
  const left = MARGIN.left;
  const right = pw - MARGIN.right;
  const top = MARGIN.top;
  const bottom = ph - MARGIN.bottom;
  const finite = (k: 0 | 1): number[] => p.series.flatMap((s) => s.points.map((pt) => pt[k]).filter(Number.isFinite));
  const [x0, x1] = p.xRange ?? autoRange(finite(0));
  const [y0, y1] = p.yRange ?? autoRange(finite(1));
  if (!(x1 > x0 && y1 > y0)) throw new RangeError(`renderLineChart: empty axis range x [${x0}, ${x1}], y [${y0}, ${y1}]`);
  const sx = (x: number): number => left + ((right - left) * (x - x0)) / (x1 - x0);
  const sy = (y: number): number => bottom - ((bottom - top) * (y - y0)) / (y1 - y0);
  const clipId = `plot-area-${index + 1}`;
  const parts: Xml[] = [
    el('clipPath', { id: clipId }, el('rect', { x: left, y: top, width: right - left, height: bottom - top })),
  ];
  for (const t of ticks(y0, y1)) {
    parts.push(el('line', { x1: left, x2: right, y1: sy(t), y2: sy(t), stroke: '#e6e6e6' }));
    parts.push(el('text', { x: left - 6, y: sy(t) + 4, 'text-anchor': 'end' }, fmt(t)));
  }
  for (const t of ticks(x0, x1)) {
    parts.push(el('line', { x1: sx(t), x2: sx(t), y1: bottom, y2: bottom + 4, stroke: '#333' }));
    parts.push(el('text', { x: sx(t), y: bottom + 18, 'text-anchor': 'middle' }, fmt(t)));
  }
  parts.push(el('rect', { x: left, y: top, width: right - left, height: bottom - top, fill: 'none', stroke: '#333' }));

  const colored = p.series.map((s, i) => ({ ...s, color: s.color ?? SERIES_COLORS[i % SERIES_COLORS.length] }));
  const lines: Xml[] = [];
  for (const s of colored) {
    const width = s.width ?? 1.5;
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (!(Number.isFinite(x) && Number.isFinite(y))) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
      pen = true;
    }
    if (d && width > 0) lines.push(el('path', { d, fill: 'none', stroke: s.color, 'stroke-width': width, 'stroke-dasharray': s.dash }));
    if (s.marker) {
      const every = Math.max(1, Math.floor(s.markEvery ?? 1));
      s.points.forEach(([x, y], i) => {
        if (i % every === 0 && Number.isFinite(x) && Number.isFinite(y)) lines.push(marker(s.marker!, sx(x), sy(y), s.color));
      });
    }
  }
  parts.push(el('g', { 'clip-path': `url(#${clipId})` }, ...lines));

  const named = colored.filter((s) => s.name !== undefined);
  if (p.legend !== 'none' && named.length > 0) {
    // 12 px sans-serif runs up to about 7.5 px a letter ("Momentum": 60 px)
    const boxW = 38 + Math.ceil(Math.max(...named.map((s) => s.name!.length)) * 7.5) + 10;
    const boxH = named.length * 16 + 8;
    const place = (pos: LegendPosition): [number, number] => [
      pos[1] === 'left' ? left + 6 : pos[1] === 'center' ? (left + right - boxW) / 2 : right - boxW - 6,
      pos[0] === 'top' ? top + 6 : pos[0] === 'middle' ? (top + bottom - boxH) / 2 : bottom - boxH - 6,
    ];
    const plotted = colored.map((s) => s.points.map(([x, y]): [number, number] => [sx(x), sy(y)]));
    const [bx, by] = p.legend === 'bottom-right' ? place(['bottom', 'right'])
      : p.legend === 'top-right' ? place(['top', 'right'])
      : bestPlace(LEGEND_POSITIONS.map(place), boxW, boxH, plotted, [left, top, right, bottom]);
    parts.push(el('rect', { x: bx, y: by, width: boxW, height: boxH, fill: 'white', 'fill-opacity': 0.85, stroke: '#ccc' }));
    named.forEach((s, i) => {
      const y = by + 16 + i * 16;
      parts.push(el('line', { x1: bx + 6, x2: bx + 30, y1: y - 4, y2: y - 4, stroke: s.color, 'stroke-width': 2, 'stroke-dasharray': s.dash }));
      if (s.marker) parts.push(marker(s.marker, bx + 18, y - 4, s.color));
      parts.push(el('text', { x: bx + 38, y }, s.name!));
    });
  }
  if (p.xLabel) parts.push(el('text', { x: (left + right) / 2, y: ph - 8, 'text-anchor': 'middle' }, p.xLabel));
  if (p.yLabel) parts.push(el('text', { x: 14, y: (top + bottom) / 2, 'text-anchor': 'middle', transform: `rotate(-90 14 ${(top + bottom) / 2})` }, p.yLabel));
  if (p.title) parts.push(el('text', { x: (left + right) / 2, y: top - 10, 'text-anchor': 'middle', 'font-weight': 'bold' }, p.title));
  return el('g', {}, ...parts);
}

type LegendPosition = readonly ['top' | 'middle' | 'bottom', 'left' | 'center' | 'right'];

/** matplotlib's candidates for loc='best', in its order of preference (ties go to the first). */
const LEGEND_POSITIONS: readonly LegendPosition[] = [
  ['top', 'right'], ['top', 'left'], ['bottom', 'left'], ['bottom', 'right'], ['middle', 'right'],
  ['middle', 'left'], ['bottom', 'center'], ['top', 'center'], ['middle', 'center'],
];

/**
 * The legend's top-left corner, among `candidates`, that covers the least of the lines: each
 * line is walked in steps of at most 2 px (in pixels, clipped to the plot area) and the
 * steps inside the box are counted, as matplotlib's loc='best' counts covered vertices.
 */
function bestPlace(candidates: [number, number][], w: number, h: number, lines: [number, number][][], [l, t, r, b]: number[]): [number, number] {
  const covered = candidates.map(() => 0);
  const visit = (x: number, y: number): void => {
    if (x < l || x > r || y < t || y > b) return;
    candidates.forEach(([cx, cy], k) => {
      if (x >= cx && x <= cx + w && y >= cy && y <= cy + h) covered[k]++;
    });
  };
  for (const line of lines) {
    for (let i = 0; i < line.length; i++) {
      const [x, y] = line[i];
      if (!(Number.isFinite(x) && Number.isFinite(y))) continue;
      const prev = line[i - 1];
      if (!prev || !(Number.isFinite(prev[0]) && Number.isFinite(prev[1]))) {
        visit(x, y);
        continue;
      }
      const steps = Math.min(10000, Math.max(1, Math.ceil(Math.hypot(x - prev[0], y - prev[1]) / 2)));
      for (let j = 1; j <= steps; j++) visit(prev[0] + ((x - prev[0]) * j) / steps, prev[1] + ((y - prev[1]) * j) / steps);
    }
  }
  return candidates[covered.indexOf(Math.min(...covered))];
}

function marker(kind: Marker, x: number, y: number, color: string): Xml {
  const r = 3.5;
  switch (kind) {
    case 'circle':
      return el('circle', { cx: x, cy: y, r, fill: color, stroke: color });
    case 'square':
      return el('rect', { x: x - r, y: y - r, width: 2 * r, height: 2 * r, fill: color });
    case 'diamond':
      return el('path', { d: `M${x},${y - r - 1}L${x + r + 1},${y}L${x},${y + r + 1}L${x - r - 1},${y}Z`, fill: color });
    case 'cross':
      return el('path', { d: `M${x - r},${y - r}L${x + r},${y + r}M${x - r},${y + r}L${x + r},${y - r}`, stroke: color, 'stroke-width': 1.5 });
    case 'plus':
      return el('path', { d: `M${x - r - 1},${y}L${x + r + 1},${y}M${x},${y - r - 1}L${x},${y + r + 1}`, stroke: color, 'stroke-width': 1.5 });
  }
}

/** From 0 (or the least value, if negative) to the greatest value, rounded to a nice number. */
function autoRange(values: number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  const lo = Math.min(0, ...values);
  const hi = Math.max(...values);
  const top = hi > 0 ? niceMax(hi) : 0;
  const bottom = lo < 0 ? -niceMax(-lo) : 0;
  return top > bottom ? [bottom, top] : [bottom, bottom + 1];
}

/** About five round tick values from lo to hi. */
function ticks(lo: number, hi: number): number[] {
  const span = hi - lo;
  const mag = 10 ** Math.floor(Math.log10(span / 5));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= 6)!;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function niceMax(v: number): number {
  const mag = 10 ** Math.floor(Math.log10(v));
  return [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * mag).find((m) => m >= v * (1 - 1e-12))!;
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 ? `${v / 1000}k` : String(Number(v.toPrecision(4)));
}
