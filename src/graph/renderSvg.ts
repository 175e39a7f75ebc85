import { FONT_SIZE, type GraphLayout, layoutGraph } from './layout.js';
import type { Node } from './node.js';
import { type DrawNode, type NodeText, SCALAR_TEXT } from './picture.js';
import { GRAD_COLOR } from './renderDot.js';
import { type Xml, el } from './xml.js';

const arrowhead = (id: string, fill: string): Xml =>
  el('marker', { id, viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' },
    el('path', { d: 'M0,0L10,5L0,10z', fill }));

/** The arrowheads the pictures' edges end in: `url(#bp-arrow)` black, `url(#bp-arrow-grad)` red. */
export const ARROW_DEFS = el('defs', {}, arrowhead('bp-arrow', 'black'), arrowhead('bp-arrow-grad', GRAD_COLOR));

/** Centred edge text with a white outline, so a label stays readable where it crosses a line. */
export const HALO = { 'text-anchor': 'middle', stroke: 'white', 'stroke-width': 3, 'paint-order': 'stroke' } as const;

/**
 * An arrow from (x1, y1) to (x2, y2) with a forward value above its middle in black and a
 * gradient below it in red, as the book labels its graphs.
 */
export function labelledArrow(x1: number, y1: number, x2: number, y2: number, above: string, below: string, attrs: Record<string, string | number> = {}): Xml {
  const mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
  return el('g', attrs,
    el('line', { x1, y1, x2, y2, stroke: 'black', 'marker-end': 'url(#bp-arrow)' }),
    el('text', { class: 'value', x: mx, y: my - 5, ...HALO }, above),
    el('text', { class: 'grad', x: mx, y: my + FONT_SIZE + 2, fill: GRAD_COLOR, ...HALO }, below));
}

/**
 * The graph as a self-contained SVG in the book's style: operations as circles with their
 * symbol, inputs as names on the left, forward values above the edges in black and gradients
 * below in red, columns by depth. Run `backward(root)` first. Nodes carry `data-node` (their
 * topological index) and edges `data-from`/`data-to`, for an interactive page.
 *
 * @example
 * const price = appleGraph();
 * backward(price);
 * writeFileSync('apple.svg', renderSvg(price));
 *
 * `text` says what the edges carry (numbers for scalar graphs, shapes for autograd graphs).
 */
export function renderSvg<T extends DrawNode<T> = Node>(
  root: T, layout?: GraphLayout<T> | null, text: NodeText<T> = SCALAR_TEXT as unknown as NodeText<T>,
): string {
  const { width, height, nodes, output } = layout ?? layoutGraph(root, text);
  const index = new Map(nodes.map((b, k) => [b.node, k]));
  const edges: Xml[] = [];
  for (const b of nodes) {
    const grads = text.edgeGrads(b.node);
    b.node.inputs.forEach((input, k) => {
      const a = nodes[index.get(input)!];
      const len = Math.hypot(b.x - a.x, b.y - a.y) || 1, ux = (b.x - a.x) / len, uy = (b.y - a.y) / len;
      edges.push(labelledArrow(a.x + ux * a.r, a.y + uy * a.r, b.x - ux * b.r, b.y - uy * b.r,
        text.value(input), grads[k] ?? '', { class: 'edge', 'data-from': index.get(input)!, 'data-to': index.get(b.node)! }));
    });
  }
  edges.push(labelledArrow(output.x1, output.y, output.x2, output.y, text.value(root), text.grad(root), { class: 'edge output' }));
  const baseline = FONT_SIZE * 0.35; // shifts text down so its middle sits on y
  const shapes = nodes.map((b, k) =>
    b.r
      ? el('g', { class: 'node', 'data-node': k },
          el('circle', { cx: b.x, cy: b.y, r: b.r, fill: 'white', stroke: 'black' }),
          el('text', { x: b.x, y: b.y + baseline, 'text-anchor': 'middle' }, b.node.label))
      : el('g', { class: text.kind(b.node), 'data-node': k }, el('text', { x: b.x - 4, y: b.y + baseline, 'text-anchor': 'end' }, b.node.label)));
  const rootName = root.name ? [el('text', { x: output.x2 + 6, y: output.y + baseline }, root.name)] : [];
  return el('svg', { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${Math.round(width * 10) / 10} ${Math.round(height * 10) / 10}`, 'font-family': 'sans-serif', 'font-size': FONT_SIZE },
    el('title', {}, `${root.name ?? 'out'} = ${text.expression(root)}`), ARROW_DEFS, ...edges, ...shapes, ...rootName).xml + '\n';
}
