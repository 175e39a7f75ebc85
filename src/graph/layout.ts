import { type Node as ScalarNode, topoSort } from './node.js';
import { type DrawNode, type NodeText, SCALAR_TEXT } from './picture.js';

/** Where a node is drawn. Leaves (inputs, constants) have `r = 0`: their label ends at (x, y). */
export interface LayoutNode<T = ScalarNode> {
  /** The node drawn. */
  node: T;
  /** Column: the longest path from the inputs; a leaf sits one column before its first consumer. */
  layer: number;
  /** Centre x, in px. */
  x: number;
  /** Centre y, in px. */
  y: number;
  /** Circle radius in px (0 for a leaf). */
  r: number;
}

/** A drawing plan for a scalar graph: the canvas size, every node, and the root's output arrow. */
export interface GraphLayout<T = ScalarNode> {
  /** Canvas width, in px. */
  width: number;
  /** Canvas height, in px. */
  height: number;
  /** In topological order. */
  nodes: LayoutNode<T>[];
  /** The root's output arrow: from x1 to x2 at height y. */
  output: { x1: number; x2: number; y: number };
}

/** Font size of every label, in px. */
export const FONT_SIZE = 13;
/** Estimated width of a label in px (a generous average glyph width, so boxes never undercount). */
export const textWidth = (text: string): number => [...text].length * FONT_SIZE * 0.62;

/**
 * Lays a graph out left to right, in the book's style: column = depth, nodes of a column spread
 * vertically, each computed node near the middle of its inputs, never closer than one row.
 * Gaps grow with the longest label, so circles and labels do not overlap.
 *
 * @example
 * const { nodes, width, height } = layoutGraph(appleGraph());
 * nodes.map((b) => b.layer); // [0, 0, 1, 1, 2]: apple, apple_num, ×, tax, ×
 *
 * `text` says what the edges carry (numbers for scalar graphs, shapes for autograd graphs).
 */
export function layoutGraph<T extends DrawNode<T> = ScalarNode>(root: T, text: NodeText<T> = SCALAR_TEXT as unknown as NodeText<T>): GraphLayout<T> {
  const order = topoSort(root);
  type Node = T;
  const layer = new Map<Node, number>();
  for (const n of order) layer.set(n, n.inputs.length ? 1 + Math.max(...n.inputs.map((i) => layer.get(i)!)) : 0);
  // a leaf sits just left of its first consumer, as the book draws `tax` beside the last ×
  const leafLayer = new Map<Node, number>();
  for (const n of order) {
    for (const i of n.inputs) if (!i.inputs.length) leafLayer.set(i, Math.min(leafLayer.get(i) ?? Infinity, layer.get(n)! - 1));
  }
  for (const [leaf, l] of leafLayer) layer.set(leaf, l);

  const radius = (n: Node): number => (n.inputs.length ? Math.max(20, textWidth(n.label) / 2 + 6) : 0);
  const maxR = Math.max(20, ...order.map(radius));
  const edgeText = Math.max(...order.map((n) => Math.max(textWidth(text.value(n)), textWidth(text.grad(n)))));
  const leaves = order.filter((n) => !n.inputs.length);
  const colGap = Math.max(110, 2 * maxR + edgeText + 30, ...leaves.map((n) => textWidth(n.label) + maxR + 24));
  const rowGap = 2 * maxR + 3 * FONT_SIZE + 6;

  // y within each column: near the mean y of a node's neighbours (inputs for an operation,
  // consumers for a leaf), at least a row apart; three sweeps settle the leaves beside their uses
  const columns: Node[][] = [];
  for (const n of order) (columns[layer.get(n)!] ??= []).push(n);
  const consumers = new Map<Node, Node[]>(order.map((n) => [n, []]));
  for (const n of order) for (const i of n.inputs) consumers.get(i)!.push(n);
  const y = new Map<Node, number>();
  const meanY = (ns: readonly Node[]): number => ns.reduce((s, n) => s + y.get(n)!, 0) / ns.length;
  for (let sweep = 0; sweep < 3; sweep++) {
    for (const col of columns) {
      const want: number[] = [];
      for (const n of col) {
        const uses = consumers.get(n)!;
        want.push(n.inputs.length ? meanY(n.inputs)
          : sweep && uses.length ? meanY(uses) + rowGap / 2 // a leaf a little below its use, like `tax`
          : (want.at(-1) ?? -rowGap) + rowGap); // first sweep: below whatever precedes it
      }
      const rank = col.map((_, k) => k).sort((a, b) => want[a] - want[b] || a - b);
      let at = -Infinity, shift = 0;
      for (const k of rank) {
        at = Math.max(want[k], at + rowGap);
        y.set(col[k], at);
        shift += (at - want[k]) / col.length;
      }
      for (const n of col) y.set(n, y.get(n)! - shift); // keep the column centred on what it wanted
    }
  }
  const minY = Math.min(...y.values());
  for (const [n, v] of y) y.set(n, v - minY);

  const left = 16 + Math.max(0, ...leaves.filter((n) => layer.get(n) === 0).map((n) => textWidth(n.label) + 6));
  const top = maxR + 2 * FONT_SIZE;
  const nodes = order.map((n) => ({ node: n, layer: layer.get(n)!, x: left + layer.get(n)! * colGap, y: top + y.get(n)!, r: radius(n) }));
  const rootBox = nodes[nodes.length - 1];
  const output = { x1: rootBox.x + rootBox.r, x2: rootBox.x + rootBox.r + Math.max(60, edgeText + 24), y: rootBox.y };
  const width = output.x2 + (root.name ? textWidth(root.name) + 8 : 0) + 16;
  const height = top + Math.max(...nodes.map((b) => b.y - top)) + maxR + 2 * FONT_SIZE;
  return { width, height, nodes, output };
}
