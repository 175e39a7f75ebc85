import { AddLayer } from '../layers/AddLayer.js';
import { MulLayer } from '../layers/MulLayer.js';
import { formatNumber } from './format.js';

/** The name of a node's operation. `input` and `const` are leaves; the rest compute. */
export type Op =
  | 'input' | 'const'
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max'
  | 'exp' | 'log' | 'powConst' | 'neg' | 'reciprocal' | 'sigmoid' | 'relu';

/**
 * One operation: its symbol in pictures, its forward function and its local backward rule.
 * `backward` gets the upstream gradient `dout`, the input values, the node's own output and
 * its constant parameter (the exponent of `powConst`), and returns one gradient per input.
 */
export interface OpRule {
  /** The operator as drawn: '+', '×', 'exp', …. */
  symbol(param?: number): string;
  /** The output from the input values. */
  forward(xs: readonly number[], param?: number): number;
  /** One gradient per input: dout times the local derivative. */
  backward(dout: number, xs: readonly number[], out: number, param?: number): number[];
}

const leaf: OpRule = {
  symbol: () => '',
  forward: () => { throw new Error('a leaf has no forward rule'); },
  backward: () => [],
};

/**
 * The operation table. Add and multiply delegate to the book's `AddLayer` and `MulLayer`;
 * each other rule is one line of calculus, given in its comment.
 *
 * @example
 * OPS.mul.backward(1.1, [100, 2], 200); // [2.2, 110.00000000000001], via MulLayer
 */
export const OPS: Readonly<Record<Op, OpRule>> = {
  input: leaf,
  const: leaf,
  add: { // dx = dout, dy = dout
    symbol: () => '+',
    forward: ([x, y]) => new AddLayer().forward(x, y),
    backward: (dout) => new AddLayer().backward(dout),
  },
  sub: { // dx = dout, dy = −dout
    symbol: () => '−',
    forward: ([x, y]) => x - y,
    backward: (dout) => [dout, -dout],
  },
  mul: { // dx = dout·y, dy = dout·x
    symbol: () => '×',
    forward: ([x, y]) => new MulLayer().forward(x, y),
    backward: (dout, [x, y]) => {
      const layer = new MulLayer();
      layer.forward(x, y);
      return layer.backward(dout);
    },
  },
  div: { // dx = dout/y, dy = −dout·x/y²
    symbol: () => '÷',
    forward: ([x, y]) => x / y,
    backward: (dout, [x, y]) => [dout / y, (-dout * x) / (y * y)],
  },
  pow: { // x^y: dx = dout·y·x^(y−1), dy = dout·x^y·ln x (0 where x^y = 0)
    symbol: () => '^',
    forward: ([x, y]) => x ** y,
    backward: (dout, [x, y], out) => [dout * y * x ** (y - 1), out === 0 ? 0 : dout * out * Math.log(x)],
  },
  max: { // the larger input takes all of dout (the first one on a tie)
    symbol: () => 'max',
    forward: ([x, y]) => Math.max(x, y),
    backward: (dout, [x, y]) => (x >= y ? [dout, 0] : [0, dout]),
  },
  exp: { // dx = dout·exp(x) = dout·out
    symbol: () => 'exp',
    forward: ([x]) => Math.exp(x),
    backward: (dout, _xs, out) => [dout * out],
  },
  log: { // dx = dout/x
    symbol: () => 'log',
    forward: ([x]) => Math.log(x),
    backward: (dout, [x]) => [dout / x],
  },
  powConst: { // x^c: dx = dout·c·x^(c−1)
    symbol: (c = NaN) => `^${formatNumber(c)}`,
    forward: ([x], c = NaN) => x ** c,
    backward: (dout, [x], _out, c = NaN) => [dout * c * x ** (c - 1)],
  },
  neg: { // dx = −dout
    symbol: () => 'neg',
    forward: ([x]) => -x,
    backward: (dout) => [-dout],
  },
  reciprocal: { // y = 1/x: dx = −dout·y² (the book's "/" node)
    symbol: () => '1/x',
    forward: ([x]) => 1 / x,
    backward: (dout, _xs, out) => [-dout * out * out],
  },
  sigmoid: { // y = 1/(1 + exp(−x)): dx = dout·y·(1 − y)
    symbol: () => 'σ',
    forward: ([x]) => 1 / (1 + Math.exp(-x)),
    backward: (dout, _xs, out) => [dout * out * (1 - out)],
  },
  relu: { // dx = dout where x > 0, else 0 (the book's mask x <= 0)
    symbol: () => 'ReLU',
    forward: ([x]) => Math.max(0, x),
    backward: (dout, [x]) => [x > 0 ? dout : 0],
  },
};
