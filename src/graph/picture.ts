import { edgeGrads } from './backward.js';
import { formatNumber } from './format.js';
import type { Node } from './node.js';
import { expressionOf } from './renderText.js';

/** A node as the drawings see it: its inputs, the label in its circle (or a leaf's name) and its own name. */
export interface DrawNode<T> {
  /** The nodes whose outputs this one takes, in order (none for a leaf). */
  readonly inputs: readonly T[];
  /** What its circle shows (an operation's symbol), or a leaf's name. */
  readonly label: string;
  /** Its own name, if it has one (`price`, `L`). */
  readonly name?: string | undefined;
}

/**
 * What the drawings write about a graph's nodes: one machinery (layout, text, DOT, SVG) draws
 * scalar graphs (SCALAR_TEXT: numbers) and autograd graphs (shapes and small tensors).
 */
export interface NodeText<T extends DrawNode<T>> {
  /** 'input', 'const', or the operation: the first two are leaves; the SVG group's class. */
  kind(n: T): string;
  /** What flows out of n, written above its outgoing edges. */
  value(n: T): string;
  /** The gradient at n's output, written below its outgoing edges. */
  grad(n: T): string;
  /** What n passed back to each of its inputs in backward. */
  edgeGrads(n: T): string[];
  /** The expression the graph computes. */
  expression(root: T): string;
}

/** Scalar graphs: values and gradients as the book prints numbers. */
export const SCALAR_TEXT: NodeText<Node> = {
  kind: (n) => n.op,
  value: (n) => formatNumber(n.value),
  grad: (n) => formatNumber(n.grad),
  edgeGrads: (n) => edgeGrads(n).map(formatNumber),
  expression: (root) => expressionOf(root),
};
