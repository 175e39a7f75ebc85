import { type Node, topoSort } from './node.js';
import { type DrawNode, type NodeText, SCALAR_TEXT } from './picture.js';

/** The default text of the drawings: a scalar graph's numbers. */
const scalar = <T extends DrawNode<T>>(): NodeText<T> => SCALAR_TEXT as unknown as NodeText<T>;

/** Binding strength of infix operators, as the parser reads them. */
const PRECEDENCE: Partial<Record<string, number>> = { add: 1, sub: 1, mul: 2, div: 2, pow: 4, powConst: 4 };

/**
 * The expression a graph computes, with the book's symbols and only the parentheses it needs;
 * `parseExpression` reads it back into the same graph.
 *
 * @example
 * expressionOf(appleOrangeGraph()); // '(apple × apple_num + orange × orange_num) × tax'
 */
export function expressionOf(root: Node): string {
  // returns the text and its precedence (5: an atom, 3: a negative constant)
  const show = (n: Node): [string, number] => {
    if (!n.inputs.length) return [n.label, n.op === 'const' && n.value < 0 ? 3 : 5];
    const p = PRECEDENCE[n.op];
    if (p === undefined) return [`${n.op}(${n.inputs.map((i) => show(i)[0]).join(', ')})`, 5];
    const wrap = ([text, q]: [string, number], min: number): string => (q >= min ? text : `(${text})`);
    const [x, y] = n.inputs.map(show);
    if (n.op === 'powConst') return [`${wrap(x, 5)}${n.label}`, p];
    // left-associative: a − (b − c) keeps its parentheses; ^ is right-associative
    return p === 4 ? [`${wrap(x, 5)} ^ ${wrap(y, 3)}`, p] : [`${wrap(x, p)} ${n.label} ${wrap(y, p + 1)}`, p];
  };
  return show(root)[0];
}

/**
 * A name for every node, for listings: its own name, else `t1`, `t2`, … in topological order
 * (`out` for an unnamed root).
 */
export function nodeNames<T extends DrawNode<T> = Node>(root: T, text: NodeText<T> = scalar<T>()): Map<T, string> {
  let k = 0;
  return new Map(topoSort(root).map((n) => [n, n.name ?? (text.kind(n) === 'const' ? n.label : n === root ? 'out' : `t${++k}`)]));
}

/**
 * The graph for a terminal: the expression, then every node in topological order (left to
 * right in the picture) with its operation, inputs, forward value and gradient, then the
 * root's value and its gradient with respect to each input. Run `backward(root)` first.
 *
 * @example
 * const price = appleGraph();
 * backward(price);
 * renderText(price);
 * // price = apple × apple_num × tax
 * //
 * // node         op     inputs            value  grad
 * // apple        input                      100   2.2
 * // …
 * // price        ×      apple_price, tax    220     1
 * //
 * // price = 220
 * // ∂price/∂apple     = 2.2
 * // …
 */
export function renderText<T extends DrawNode<T> = Node>(root: T, text: NodeText<T> = scalar<T>()): string {
  const names = nodeNames(root, text);
  const name = (n: T): string => names.get(n)!;
  const rows = [['node', 'op', 'inputs', 'value', 'grad']];
  for (const n of topoSort(root)) {
    rows.push([name(n), n.inputs.length ? n.label : text.kind(n), n.inputs.map(name).join(', '), text.value(n), text.grad(n)]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...r[c]].length)));
  const table = rows.map((r) => r.map((cell, c) => (c >= 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd());
  const inputs = topoSort(root).filter((n) => text.kind(n) === 'input');
  const lhs = inputs.map((n) => `∂${name(root)}/∂${name(n)}`);
  const lhsWidth = Math.max(0, ...lhs.map((s) => [...s].length));
  return [
    `${name(root)} = ${text.expression(root)}`,
    '',
    ...table,
    '',
    `${name(root)} = ${text.value(root)}`,
    ...inputs.map((n, k) => `${lhs[k].padEnd(lhsWidth)} = ${text.grad(n)}`),
  ].join('\n');
}
