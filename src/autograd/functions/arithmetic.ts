/**
 * Arithmetic with NumPy broadcasting: add, sub, mul, div, neg, pow. The gradient of an input
 * that was broadcast is summed back to its shape (sumTo).
 */
import type { Tensor } from '../../tensor/Tensor.js';
import { arithmetic } from '../../tensor/broadcast.js';
import { scale } from '../../tensor/elementwise.js';
import { powScalar } from '../../tensor/unary.js';
import { Function } from '../Function.js';
import { type Variable, type VariableLike, asVariables } from '../Variable.js';
import { sumTo } from './shape.js';

/** gx summed back to the shape of the input it belongs to. */
const unbroadcast = (gx: Variable, x: Variable): Variable => sumTo(gx, x.shape);

class Add extends Function {
  get name(): string { return 'add'; }
  override get symbol(): string { return '+'; }
  forward(a: Tensor, b: Tensor): Tensor { return arithmetic('add', a, b); }
  // ∂(a + b)/∂a = ∂(a + b)/∂b = 1
  backward(gy: Variable): Variable[] { return this.inputs.map((x) => unbroadcast(gy, x)); }
}

class Sub extends Function {
  get name(): string { return 'sub'; }
  override get symbol(): string { return '−'; }
  forward(a: Tensor, b: Tensor): Tensor { return arithmetic('sub', a, b); }
  // ∂(a − b)/∂a = 1, ∂(a − b)/∂b = −1
  backward(gy: Variable): Variable[] { return [unbroadcast(gy, this.inputs[0]), unbroadcast(neg(gy), this.inputs[1])]; }
}

class Mul extends Function {
  get name(): string { return 'mul'; }
  override get symbol(): string { return '×'; }
  forward(a: Tensor, b: Tensor): Tensor { return arithmetic('mul', a, b); }
  // ∂(a·b)/∂a = b, ∂(a·b)/∂b = a: each input gets dout times the other (the book's MulLayer)
  backward(gy: Variable): (Variable | null)[] {
    const [a, b] = this.inputs;
    return [this.needsGrad(0) ? unbroadcast(mul(gy, b), a) : null, this.needsGrad(1) ? unbroadcast(mul(gy, a), b) : null];
  }
}

class Div extends Function {
  get name(): string { return 'div'; }
  override get symbol(): string { return '÷'; }
  forward(a: Tensor, b: Tensor): Tensor { return arithmetic('div', a, b); }
  // ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²
  backward(gy: Variable): (Variable | null)[] {
    const [a, b] = this.inputs;
    const ga = div(gy, b);
    return [this.needsGrad(0) ? unbroadcast(ga, a) : null, this.needsGrad(1) ? unbroadcast(neg(mul(ga, div(a, b))), b) : null];
  }
}

class Neg extends Function {
  get name(): string { return 'neg'; }
  forward(x: Tensor): Tensor { return scale(x, -1); }
  // ∂(−x)/∂x = −1
  backward(gy: Variable): Variable[] { return [neg(gy)]; }
}

class Pow extends Function {
  get name(): string { return 'pow'; }
  constructor(readonly c: number) { super(); }
  override get symbol(): string { return `^${this.c}`; }
  forward(x: Tensor): Tensor { return powScalar(x, this.c); }
  // ∂xᶜ/∂x = c·xᶜ⁻¹
  backward(gy: Variable): Variable[] { return [mul(gy, mul(this.c, pow(this.inputs[0], this.c - 1)))]; }
}

/** a + b, broadcasting. @example F.add(x, 1) */
export const add = (a: VariableLike, b: VariableLike): Variable => new Add().apply(...asVariables(a, b));
/** a − b, broadcasting. @example F.sub(1, x) */
export const sub = (a: VariableLike, b: VariableLike): Variable => new Sub().apply(...asVariables(a, b));
/** a · b element-wise, broadcasting. @example F.mul(2, x) */
export const mul = (a: VariableLike, b: VariableLike): Variable => new Mul().apply(...asVariables(a, b));
/** a / b, broadcasting. @example F.div(1, F.add(1, F.exp(F.neg(x)))) // sigmoid, as fig. 5-19 */
export const div = (a: VariableLike, b: VariableLike): Variable => new Div().apply(...asVariables(a, b));
/** −x. */
export const neg = (x: VariableLike): Variable => new Neg().apply(...asVariables(x));
/** xᶜ for a constant exponent c. @example F.pow(x, 3) */
export function pow(x: VariableLike, c: number): Variable {
  if (typeof c !== 'number' || !Number.isFinite(c)) throw new TypeError(`pow: the exponent must be a finite number, got ${String(c)}`);
  return new Pow(c).apply(...asVariables(x));
}
