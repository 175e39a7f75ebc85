/**
 * Autograd graphs drawn by the machinery of the scalar ones (layout, text, DOT, SVG): each
 * operation a circle with its symbol, each leaf variable a name, every edge labelled with its
 * tensor's shape (fig. 5-25: X (2,), W (2, 3)) and, for tensors of a few elements, their
 * values; below it in red the gradient that flowed back. Run `backward({ retainGrad: true })`
 * first, so the intermediate gradients are still there to draw.
 */
import type { Tensor } from '../tensor/Tensor.js';
import type { Function, Variable } from '../autograd/index.js';
import { formatShape } from './format.js';
import type { NodeText } from './picture.js';
import { renderText } from './renderText.js';
import { renderDot } from './renderDot.js';
import { renderSvg } from './renderSvg.js';

/** A node of an autograd picture: an operation (with the variable it made) or a leaf variable. */
export interface AutogradNode {
  /** The nodes of the operation's inputs (none for a leaf). */
  readonly inputs: readonly AutogradNode[];
  /** The operation's symbol, or the leaf's name. */
  readonly label: string;
  /** The variable's own name, if it has one. */
  readonly name?: string | undefined;
  /** The variable this node outputs: the operation's result, or the leaf itself. */
  readonly variable: Variable;
  /** The operation, or null for a leaf. */
  readonly fn: Function | null;
}

/** Tensors of at most this many elements are drawn with their values. */
export const SMALL_TENSOR = 4;

const short = (v: number): string => (Number.isFinite(v) ? String(Number(v.toPrecision(4))) : String(v));

/**
 * A tensor as an edge shows it: a 0-D one by its value; else its shape, then its values when it
 * has at most SMALL_TENSOR elements (4 significant digits).
 *
 * @example formatTensor(Tensor.from([[1, 2, 3]]))       // '(1, 3) [[1,2,3]]'
 * @example formatTensor(Tensor.zeros([100, 784]))       // '(100, 784)'
 */
export function formatTensor(t: Tensor): string {
  if (t.ndim === 0) return short(t.data[0]);
  const shape = formatShape(t.shape);
  if (t.size > SMALL_TENSOR) return shape;
  const d = t.data;
  let k = 0;
  const nest = (dim: number): string => (dim === t.ndim ? short(d[k++]) : `[${Array.from({ length: t.shape[dim] }, () => nest(dim + 1)).join(',')}]`);
  return `${shape} ${nest(0)}`;
}

/**
 * The picture graph of everything `root` was computed from: one node per operation and per
 * leaf variable (a variable used twice is one node, with two outgoing edges).
 */
export function autogradGraph(root: Variable): AutogradNode {
  const memo = new Map<Variable, AutogradNode>();
  let unnamed = 0;
  const build = (v: Variable): AutogradNode => {
    let n = memo.get(v);
    if (n) return n;
    const f = v.creator;
    n = f
      ? { inputs: f.inputs.map(build), label: f.symbol, name: v.name, variable: v, fn: f }
      : { inputs: [], label: v.name ?? (v.requiresGrad ? `v${++unnamed}` : formatTensor(v.data)), name: v.name, variable: v, fn: null };
    memo.set(v, n);
    return n;
  };
  return build(root);
}

const PRECEDENCE: Partial<Record<string, number>> = { add: 1, sub: 1, mul: 2, div: 2, matmul: 2 };

/** The expression an autograd graph computes: `relu(x · W1 + b1) · W2 + b2`. */
export function autogradExpression(root: AutogradNode): string {
  const show = (n: AutogradNode): [string, number] => {
    if (!n.fn) return [n.label, 5];
    const p = PRECEDENCE[n.fn.name];
    const args = n.inputs.map(show);
    if (p === undefined) return [`${n.fn.name}(${args.map((a) => a[0]).join(', ')})`, 5];
    const wrap = ([text, q]: [string, number], min: number): string => (q >= min ? text : `(${text})`);
    return [`${wrap(args[0], p)} ${n.label} ${wrap(args[1], p + 1)}`, p];
  };
  return show(root)[0];
}

/** What autograd pictures write: shapes (and small values) forward, gradients backward. */
export const AUTOGRAD_TEXT: NodeText<AutogradNode> = {
  kind: (n) => (n.fn ? n.fn.name : n.variable.requiresGrad ? 'input' : 'const'),
  value: (n) => formatTensor(n.variable.data),
  grad: (n) => (n.variable.grad ? formatTensor(n.variable.grad.data) : ''),
  edgeGrads: (n) => n.inputs.map((_, k) => {
    const g = n.fn?.inputGrads?.[k];
    return g ? formatTensor(g.data) : '';
  }),
  expression: autogradExpression,
};

/**
 * An autograd computation for a terminal: the expression, then each node with its operation,
 * inputs, value (shape) and gradient, then ∂root/∂ each leaf.
 *
 * @example
 * const loss = F.sum(F.relu(F.matmul(x, W)));
 * loss.backward({ retainGrad: true });
 * console.log(renderVariableText(loss));
 */
export const renderVariableText = (root: Variable): string => renderText(autogradGraph(root), AUTOGRAD_TEXT);
/** An autograd computation in Graphviz DOT: shapes on the edges, gradients below them in red. */
export const renderVariableDot = (root: Variable): string => renderDot(autogradGraph(root), AUTOGRAD_TEXT);
/** An autograd computation as a self-contained SVG in the book's style (see renderSvg). */
export const renderVariableSvg = (root: Variable): string => renderSvg(autogradGraph(root), null, AUTOGRAD_TEXT);
