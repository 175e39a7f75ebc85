import { type Node, topoSort } from './node.js';
import { type DrawNode, type NodeText, SCALAR_TEXT } from './picture.js';

/** Gradient colour in every picture (the book draws backward in red). */
export const GRAD_COLOR = '#d62728';

const quote = (s: string): string => `"${s.replace(/[\\"]/g, '\\$&')}"`;
const html = (s: string): string => s.replace(/[&<>]/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt' }[c]};`);
const edgeLabel = (value: string, grad: string): string =>
  `<${html(value)}<BR/><FONT COLOR="${GRAD_COLOR}">${html(grad)}</FONT>>`;

/**
 * The graph in Graphviz DOT, left to right: operations as circles, inputs and constants as
 * plain labels, each edge labelled with its forward value and, below it in red, its gradient.
 * Run `backward(root)` first. Render with `dot -Tsvg`.
 *
 * @example
 * renderDot(appleGraph()); // 'digraph "price" {\n  rankdir=LR;\n …  n0 -> n2 [label=<100<BR/>…'
 *
 * `text` says what the edges carry (numbers for scalar graphs, shapes for autograd graphs).
 */
export function renderDot<T extends DrawNode<T> = Node>(root: T, text: NodeText<T> = SCALAR_TEXT as unknown as NodeText<T>): string {
  const order = topoSort(root);
  const id = new Map(order.map((n, k) => [n, `n${k}`]));
  const lines = [
    `digraph ${quote(root.name ?? 'graph')} {`,
    '  rankdir=LR;',
    `  label=${quote(text.expression(root))};`,
    '  node [shape=circle, fontname="sans-serif"];',
    '  edge [fontname="sans-serif"];',
  ];
  for (const n of order) lines.push(`  ${id.get(n)} [label=${quote(n.label)}${n.inputs.length ? '' : ', shape=plaintext'}];`);
  for (const n of order) {
    const grads = text.edgeGrads(n);
    n.inputs.forEach((i, k) => lines.push(`  ${id.get(i)} -> ${id.get(n)} [label=${edgeLabel(text.value(i), grads[k] ?? '')}];`));
  }
  lines.push(`  out [label=${quote(root.name ?? '')}, shape=plaintext];`);
  lines.push(`  ${id.get(root)} -> out [label=${edgeLabel(text.value(root), text.grad(root))}];`, '}');
  return lines.join('\n');
}
