import { GraphError } from './errors.js';
import { formatNumber } from './format.js';
import { forwardValue } from './finite.js';
import { OPS, type Op } from './ops.js';

/**
 * A node of a scalar computational graph: its operation, its inputs, its forward value and,
 * after `backward`, the gradient of the root with respect to it.
 *
 * Build nodes with `input`, `constant` and the operations below rather than with `new`.
 *
 * @example
 * const x = input('x', 3);
 * const y = mul(x, x);       // y.value === 9, y.label === '×'
 * backward(y);               // x.grad === 6
 */
export class Node {
  /** ∂root/∂this, written by `backward`. */
  grad = 0;
  /** A name for pictures: the variable of an input, or a book name like `apple_price`. */
  name: string | undefined;

  constructor(
    /** The operation ('input', 'const', 'add', 'mul', …). */
    readonly op: Op,
    /** The nodes it is computed from (none for a leaf). */
    readonly inputs: readonly Node[],
    /** The forward value. */
    public value: number,
    /** The constant parameter of the operation (the exponent of `powConst`). */
    readonly param?: number,
  ) {}

  /** Gives the node a name and returns it: `mul(a, b).named('apple_price')`. */
  named(name: string): this {
    this.name = name;
    return this;
  }

  /** What a picture writes in the node: `×`, `+`, `exp`, an input's name or a constant's value. */
  get label(): string {
    if (this.op === 'input') return this.name ?? '?';
    if (this.op === 'const') return formatNumber(this.value);
    return OPS[this.op].symbol(this.param);
  }

  /**
   * Sets the value of an input or constant. Call `recompute(root)` afterwards to update the
   * nodes computed from it.
   */
  setValue(value: number): void {
    if (this.inputs.length) {
      throw new GraphError(`cannot set the value of a '${this.label}' node: it is computed; set one of its inputs instead`);
    }
    this.value = checkFinite(this.name ?? 'constant', value);
  }
}

function checkFinite(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new GraphError(`input '${name}': value must be a finite number, got ${String(value)}`);
  }
  return value;
}

/** A node, or a number that becomes a constant node. */
export type Operand = Node | number;

const node = (x: Operand): Node => (typeof x === 'number' ? constant(x) : x);

/**
 * Applies an operation to input nodes and computes its forward value; a value that is not a
 * finite number (`log(-1)`, `1 ÷ 0`) is a GraphError saying why.
 *
 * @example
 * apply('add', [input('a', 1), input('b', 2)]).value; // 3
 */
export function apply(op: Op, operands: readonly Operand[], param?: number): Node {
  const inputs = operands.map(node);
  return new Node(op, inputs, forwardValue(op, inputs.map((n) => n.value), param), param);
}

/** A named input: `input('apple', 100)`. The value must be a finite number. */
export const input = (name: string, value: number): Node => new Node('input', [], checkFinite(name, value)).named(name);
/** A constant leaf: `constant(2)`. */
export const constant = (value: number): Node => new Node('const', [], checkFinite('constant', value));

/** x + y, backward by the book's `AddLayer`. */
export const add = (x: Operand, y: Operand): Node => apply('add', [x, y]);
/** x − y. */
export const sub = (x: Operand, y: Operand): Node => apply('sub', [x, y]);
/** x · y, backward by the book's `MulLayer`. */
export const mul = (x: Operand, y: Operand): Node => apply('mul', [x, y]);
/** x / y. */
export const div = (x: Operand, y: Operand): Node => apply('div', [x, y]);
/** max(x, y); the gradient goes to the larger input. */
export const max = (x: Operand, y: Operand): Node => apply('max', [x, y]);
/** e^x. */
export const exp = (x: Operand): Node => apply('exp', [x]);
/** ln x. */
export const log = (x: Operand): Node => apply('log', [x]);
/** −x. */
export const neg = (x: Operand): Node => apply('neg', [x]);
/** 1/x. */
export const reciprocal = (x: Operand): Node => apply('reciprocal', [x]);
/** 1 / (1 + e^−x). */
export const sigmoid = (x: Operand): Node => apply('sigmoid', [x]);
/** max(0, x). */
export const relu = (x: Operand): Node => apply('relu', [x]);

/**
 * x^y. A number exponent makes one `powConst` node (`^2`); a node exponent makes a `pow`
 * node that also passes a gradient to the exponent.
 *
 * @example
 * pow(input('x', 3), 2).label;              // '^2'
 * pow(input('x', 2), input('y', 3)).value;  // 8
 */
export function pow(x: Operand, y: Operand): Node {
  return typeof y === 'number' ? apply('powConst', [x], y) : apply('pow', [x, y]);
}

/** A node of any graph topoSort can order (a scalar Node, an autograd Variable's node): it knows its inputs. */
export interface GraphVertex<T> {
  /** The nodes it is computed from. */
  readonly inputs: readonly T[];
}

/**
 * Every node the root depends on, inputs before the nodes computed from them (depth-first,
 * inputs in order), ending with the root.
 *
 * @example
 * topoSort(mul(input('a', 1), input('b', 2))).map((n) => n.label); // ['a', 'b', '×']
 */
export function topoSort<T extends GraphVertex<T>>(root: T): T[] {
  const order: T[] = [];
  const seen = new Set<T>();
  const visit = (n: T): void => {
    if (seen.has(n)) return;
    seen.add(n);
    n.inputs.forEach(visit);
    order.push(n);
  };
  visit(root);
  return order;
}

/** The named inputs of the graph, in topological order. */
export function graphInputs(root: Node): Node[] {
  return topoSort(root).filter((n) => n.op === 'input');
}

/**
 * Recomputes every forward value from the inputs (after `setValue`) and returns the root's.
 * A value that is not a finite number is a GraphError, and no computed node changes.
 *
 * @example
 * const x = input('x', 2), y = mul(x, 3);
 * x.setValue(5);
 * recompute(y); // 15
 */
export function recompute(root: Node): number {
  // New values are kept aside until all are known: a GraphError (log of a negative) leaves
  // every computed node as it was.
  const fresh = new Map<Node, number>();
  const valueOf = (n: Node): number => fresh.get(n) ?? n.value;
  for (const n of topoSort(root)) {
    if (n.inputs.length) fresh.set(n, forwardValue(n.op, n.inputs.map(valueOf), n.param));
  }
  for (const [n, v] of fresh) n.value = v;
  return root.value;
}

/**
 * Sets inputs by name and recomputes the graph; returns the root's new value. A name the
 * graph has no input for is an error listing the inputs it has.
 *
 * @example
 * evaluate(appleGraph(), { apple: 150 }); // 330 (to float64 rounding)
 */
export function evaluate(root: Node, values: Readonly<Record<string, number>>): number {
  const byName = new Map(graphInputs(root).map((n) => [n.name, n]));
  for (const [name, value] of Object.entries(values)) {
    const n = byName.get(name);
    if (!n) throw new GraphError(`the graph has no input '${name}'; its inputs are ${[...byName.keys()].join(', ') || 'none'}`);
    n.setValue(value);
  }
  return recompute(root);
}
