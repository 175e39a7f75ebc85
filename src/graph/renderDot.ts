import { edgeGrads } from './backward.js';
import { formatNumber } from './format.js';
import { type Node, topoSort } from './node.js';
import { expressionOf } from './renderText.js';

/** Gradient colour in every picture (the book draws backward in red). */
export const GRAD_COLOR = '#d62728';

const quote = (s: string): string => `"${s.replace(/[\\"]/g, '\\$&')}"`;
const html = (s: string): string => s.replace(/[&<>]/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt' }[c]};`);
const edgeLabel = (value: number, grad: number): string =>
  `<${html(formatNumber(value))}<BR/><FONT COLOR="${GRAD_COLOR}">${html(formatNumber(grad))}</FONT>>`;

/**
 * The graph in Graphviz DOT, left to right: operations as circles, inputs and constants as
 * plain labels, each edge labelled with its forward value and, below it in red, its gradient.
 * Run `backward(root)` first. Render with `dot -Tsvg`.
 *
 * @example
 * renderDot(appleGraph()); // 'digraph "price" {\n  rankdir=LR;\n …  n0 -> n2 [label=<100<BR/>…'
 */
export function renderDot(root: Node): string {
  const order = topoSort(root);
  const id = new Map(order.map((n, k) => [n, `n${k}`]));
  const lines = [
    `digraph ${quote(root.name ?? 'graph')} {`,
    '  rankdir=LR;',
    `  label=${quote(expressionOf(root))};`,
    '  node [shape=circle, fontname="sans-serif"];',
    '  edge [fontname="sans-serif"];',
  ];
  for (const n of order) lines.push(`  ${id.get(n)} [label=${quote(n.label)}${n.inputs.length ? '' : ', shape=plaintext'}];`);
  for (const n of order) {
    const grads = edgeGrads(n);
    n.inputs.forEach((i, k) => lines.push(`  ${id.get(i)} -> ${id.get(n)} [label=${edgeLabel(i.value, grads[k])}];`));
  }
  lines.push(`  out [label=${quote(root.name ?? '')}, shape=plaintext];`);
  lines.push(`  ${id.get(root)} -> out [label=${edgeLabel(root.value, root.grad)}];`, '}');
  return lines.join('\n');
}
