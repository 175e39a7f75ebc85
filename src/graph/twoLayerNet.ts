import { GraphError } from './errors.js';
import { formatShape } from './format.js';
import { FONT_SIZE, textWidth } from './layout.js';
import { GRAD_COLOR } from './renderDot.js';
import { ARROW_DEFS } from './renderSvg.js';
import { type Xml, el } from './xml.js';

/** A named tensor and its shape; `trainable` ones get a gradient (`dW1`) in backward. */
export interface TensorSpec {
  /** The book's name (x, W1, b1, …). */
  name: string;
  /** Its shape. */
  shape: number[];
  /** Whether it is a parameter (gets a gradient). */
  trainable?: boolean;
}

/** A chain of layers, drawn as boxes: the input, then each layer with its parameters and output. */
export interface LayerGraph {
  /** The caption. */
  title: string;
  /** The input tensor. */
  input: TensorSpec;
  /** Each layer: its name, its parameters and its output. */
  layers: { name: string; params: TensorSpec[]; out: TensorSpec }[];
}

/** The sizes of the book's `TwoLayerNet`. */
export interface TwoLayerNetDims {
  /** Rows per batch (100). */
  batch: number;
  /** Features per row (784). */
  inputSize: number;
  /** Hidden units (50). */
  hiddenSize: number;
  /** Classes (10). */
  outputSize: number;
}

/**
 * The layer-level graph of the book's two-layer net (fig. 5-28 and ch05/two_layer_net.py):
 * Affine1 → Relu1 → Affine2 → SoftmaxWithLoss, with the shape of every tensor.
 *
 * @example
 * const g = twoLayerNetGraph({ batch: 100, inputSize: 784, hiddenSize: 50, outputSize: 10 });
 * g.layers.map((l) => l.name); // ['Affine1', 'Relu1', 'Affine2', 'SoftmaxWithLoss']
 * renderLayersText(g);         // 'TwoLayerNet: batch 100, …\n…x (100, 784)…'
 */
export function twoLayerNetGraph(dims: TwoLayerNetDims = { batch: 100, inputSize: 784, hiddenSize: 50, outputSize: 10 }): LayerGraph {
  for (const [key, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 1) throw new GraphError(`twoLayerNetGraph: ${key} must be a positive integer, got ${v}`);
  }
  const { batch: N, inputSize: I, hiddenSize: H, outputSize: O } = dims;
  return {
    title: `TwoLayerNet: batch ${N}, input ${I}, hidden ${H}, output ${O}`,
    input: { name: 'x', shape: [N, I] },
    layers: [
      { name: 'Affine1', params: [{ name: 'W1', shape: [I, H], trainable: true }, { name: 'b1', shape: [H], trainable: true }], out: { name: 'h', shape: [N, H] } },
      { name: 'Relu1', params: [], out: { name: 'a', shape: [N, H] } },
      { name: 'Affine2', params: [{ name: 'W2', shape: [H, O], trainable: true }, { name: 'b2', shape: [O], trainable: true }], out: { name: 'y', shape: [N, O] } },
      { name: 'SoftmaxWithLoss', params: [{ name: 't', shape: [N, O] }], out: { name: 'L', shape: [] } },
    ],
  };
}

const spec = (t: TensorSpec): string => `${t.name} ${formatShape(t.shape)}`;
const grads = (params: TensorSpec[]): string[] => params.filter((p) => p.trainable).map((p) => `d${spec(p)}`);
/** What flows right along each edge, and what flows back left (dout, dx at the input). */
function edgeLabels(g: LayerGraph): { forward: string[]; backward: string[] } {
  const tensors = [g.input, ...g.layers.map((l) => l.out)];
  return {
    forward: tensors.map((t) => formatShape(t.shape)),
    backward: tensors.map((t, k) => (k === 0 ? `d${spec(t)}` : k === tensors.length - 1 ? 'dout 1' : `dout ${formatShape(t.shape)}`)),
  };
}

/**
 * A layer graph for a terminal: forward going down on the left, backward going up on the
 * right, with each layer's parameters and their gradients.
 */
export function renderLayersText(g: LayerGraph): string {
  const { backward } = edgeLabels(g);
  const last = g.layers[g.layers.length - 1].out;
  const rows: [string, string][] = [['forward ↓', 'backward ↑'], [spec(g.input), backward[0]]];
  g.layers.forEach((l, k) => {
    rows.push([`[${l.name}]${l.params.map((p) => `  ${spec(p)}`).join('')}`, grads(l.params).join('  ')]);
    rows.push([l.out === last ? spec(l.out) : `  ${formatShape(l.out.shape)}`, backward[k + 1]]);
  });
  const width = Math.max(...rows.map(([a]) => [...a].length)) + 4;
  return [g.title, '', ...rows.map(([a, b]) => `${a.padEnd(width)}${b}`.trimEnd())].join('\n');
}

/** A layer graph in Graphviz DOT: boxes left to right, shapes on forward edges, red dout edges back. */
export function renderLayersDot(g: LayerGraph): string {
  const { forward, backward } = edgeLabels(g);
  const last = g.layers[g.layers.length - 1].out;
  const chain = [g.input.name, ...g.layers.map((l) => l.name), last.name];
  const lines = [`digraph "${g.title}" {`, '  rankdir=LR;', '  node [shape=box, fontname="sans-serif"];', '  edge [fontname="sans-serif"];'];
  lines.push(`  "${g.input.name}" [shape=plaintext];`, `  "${last.name}" [shape=plaintext];`);
  for (const l of g.layers) {
    for (const p of l.params) lines.push(`  "${p.name}" [shape=plaintext, label="${spec(p)}"];`, `  "${p.name}" -> "${l.name}";`);
  }
  for (let k = 0; k + 1 < chain.length; k++) {
    lines.push(`  "${chain[k]}" -> "${chain[k + 1]}" [label="${forward[k]}"];`);
    lines.push(`  "${chain[k + 1]}" -> "${chain[k]}" [label="${backward[k]}", color="${GRAD_COLOR}", fontcolor="${GRAD_COLOR}", constraint=false];`);
  }
  return [...lines, '}'].join('\n');
}

/**
 * A layer graph as a self-contained SVG: layers as boxes left to right with their parameters
 * above and the parameters' gradients below in red; between boxes, the forward shape above a
 * black arrow and the backward `dout` below a red arrow pointing back.
 */
export function renderLayersSvg(g: LayerGraph): string {
  const { forward, backward } = edgeLabels(g);
  const last = g.layers[g.layers.length - 1].out;
  const lineH = FONT_SIZE + 4, boxH = 44, pad = 12;
  const cols = [
    { name: g.input.name, box: false, above: [] as string[], below: [] as string[] },
    ...g.layers.map((l) => ({ name: l.name, box: true, above: l.params.map(spec), below: grads(l.params) })),
    { name: last.name, box: false, above: [], below: [] },
  ];
  const half = cols.map((c) => textWidth(c.name) / 2 + (c.box ? pad : 0));
  const widths = cols.map((c, k) => Math.max(2 * half[k], ...c.above.map(textWidth), ...c.below.map(textWidth)));
  const nAbove = Math.max(...cols.map((c) => c.above.length)), nBelow = Math.max(...cols.map((c) => c.below.length));
  const cy = 16 + nAbove * lineH + boxH / 2 + 6;
  const centers: number[] = [];
  let x = 16;
  cols.forEach((_, k) => {
    centers.push(x + widths[k] / 2);
    x += widths[k] + (k < forward.length ? Math.max(textWidth(forward[k]), textWidth(backward[k])) + 40 : 0);
  });
  const width = x + 16, height = cy + boxH / 2 + Math.max(1, nBelow) * lineH + 16;
  const baseline = FONT_SIZE * 0.35;
  const parts: Xml[] = [];
  cols.forEach((c, k) => {
    const cx = centers[k];
    if (c.box) parts.push(el('rect', { x: cx - half[k], y: cy - boxH / 2, width: 2 * half[k], height: boxH, fill: 'white', stroke: 'black' }));
    parts.push(el('text', { x: cx, y: cy + baseline, 'text-anchor': 'middle' }, c.name));
    c.above.forEach((t, j) => parts.push(el('text', { x: cx, y: cy - boxH / 2 - 6 - (c.above.length - 1 - j) * lineH, 'text-anchor': 'middle' }, t)));
    c.below.forEach((t, j) => parts.push(el('text', { x: cx, y: cy + boxH / 2 + FONT_SIZE + 4 + j * lineH, 'text-anchor': 'middle', fill: GRAD_COLOR }, t)));
  });
  forward.forEach((f, k) => {
    const x1 = centers[k] + half[k] + 4, x2 = centers[k + 1] - half[k + 1] - 4, mx = (x1 + x2) / 2;
    parts.push(el('g', { class: 'edge' },
      el('line', { x1, y1: cy - 8, x2, y2: cy - 8, stroke: 'black', 'marker-end': 'url(#bp-arrow)' }),
      el('text', { x: mx, y: cy - 13, 'text-anchor': 'middle' }, f),
      el('line', { x1: x2, y1: cy + 8, x2: x1, y2: cy + 8, stroke: GRAD_COLOR, 'marker-end': 'url(#bp-arrow-grad)' }),
      el('text', { x: mx, y: cy + 8 + FONT_SIZE + 2, 'text-anchor': 'middle', fill: GRAD_COLOR }, backward[k])));
  });
  return el('svg', { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${Math.round(width * 10) / 10} ${Math.round(height * 10) / 10}`, 'font-family': 'sans-serif', 'font-size': FONT_SIZE },
    el('title', {}, g.title), ARROW_DEFS, ...parts).xml + '\n';
}
