/** Element-wise functions of one variable: exp, log, sin, cos, tanh, sigmoid, relu. */
import type { Tensor } from '../../tensor/Tensor.js';
import { relu as reluKernel, reluBackward, sigmoid as sigmoidKernel, sigmoidBackward } from '../../tensor/ops.js';
import { tanh as tanhTensor, tanhBackward } from '../../tensor/elementwise.js';
import { cos as cosTensor, exp as expTensor, log as logTensor, sin as sinTensor } from '../../tensor/unary.js';
import { Function, isRecording } from '../Function.js';
import { pooledTensor } from '../pool.js';
import { Variable, type VariableLike, asVariables } from '../Variable.js';
import { div, mul, neg, sub } from './arithmetic.js';

class Exp extends Function {
  get name(): string { return 'exp'; }
  forward(x: Tensor): Tensor { return expTensor(x); }
  // ∂eˣ/∂x = eˣ = y
  backward(gy: Variable): Variable[] { return [mul(gy, this.output!)]; }
}

class Log extends Function {
  get name(): string { return 'log'; }
  forward(x: Tensor): Tensor { return logTensor(x); }
  // ∂ln x/∂x = 1/x
  backward(gy: Variable): Variable[] { return [div(gy, this.inputs[0])]; }
}

class Sin extends Function {
  get name(): string { return 'sin'; }
  forward(x: Tensor): Tensor { return sinTensor(x); }
  // ∂sin x/∂x = cos x
  backward(gy: Variable): Variable[] { return [mul(gy, cos(this.inputs[0]))]; }
}

class Cos extends Function {
  get name(): string { return 'cos'; }
  forward(x: Tensor): Tensor { return cosTensor(x); }
  // ∂cos x/∂x = −sin x
  backward(gy: Variable): Variable[] { return [mul(gy, neg(sin(this.inputs[0])))]; }
}

/** A gradient computed by the layers' fused kernel, used when the backward pass is not recorded. */
const result = (t: Tensor): Variable => Variable.result(t);

class Tanh extends Function {
  get name(): string { return 'tanh'; }
  forward(x: Tensor): Tensor { return tanhTensor(x, pooledTensor(x.shape, x)); }
  // ∂tanh x/∂x = 1 − y²
  backward(gy: Variable): Variable[] {
    const y = this.output!;
    return [isRecording() ? mul(gy, sub(1, mul(y, y))) : result(tanhBackward(gy.data, y.data, pooledTensor(y.shape, y.data)))];
  }
}

class Sigmoid extends Function {
  get name(): string { return 'sigmoid'; }
  override get symbol(): string { return 'σ'; }
  forward(x: Tensor): Tensor { return sigmoidKernel(x, pooledTensor(x.shape, x)); }
  // ∂σ(x)/∂x = y·(1 − y) (the book's Sigmoid layer)
  backward(gy: Variable): Variable[] {
    const y = this.output!;
    return [isRecording() ? mul(gy, mul(y, sub(1, y))) : result(sigmoidBackward(gy.data, y.data, pooledTensor(y.shape, y.data)))];
  }
}

class Relu extends Function {
  get name(): string { return 'relu'; }
  override get symbol(): string { return 'ReLU'; }
  forward(x: Tensor): Tensor { return reluKernel(x, pooledTensor(x.shape, x)); }
  // ∂max(0, x)/∂x = 1 where y > 0, else 0 (the book's mask)
  backward(gy: Variable): Variable[] { return [new ReluGrad(this.output!.data).apply(gy)]; }
}

/** dout masked where the ReLU's output was ≤ 0: linear in dout, so its backward is itself. */
class ReluGrad extends Function {
  get name(): string { return 'reluGrad'; }
  constructor(private readonly y: Tensor) { super(); }
  forward(gy: Tensor): Tensor { return reluBackward(gy, this.y, pooledTensor(gy.shape, gy)); }
  backward(ggx: Variable): Variable[] { return [new ReluGrad(this.y).apply(ggx)]; }
}

/** eˣ. */
export const exp = (x: VariableLike): Variable => new Exp().apply(...asVariables(x));
/** ln x. */
export const log = (x: VariableLike): Variable => new Log().apply(...asVariables(x));
/** sin x. */
export const sin = (x: VariableLike): Variable => new Sin().apply(...asVariables(x));
/** cos x. */
export const cos = (x: VariableLike): Variable => new Cos().apply(...asVariables(x));
/** tanh x. @example F.tanh(x) // its backward: dout · (1 − y²) */
export const tanh = (x: VariableLike): Variable => new Tanh().apply(...asVariables(x));
/** 1 / (1 + e⁻ˣ), the book's Sigmoid. */
export const sigmoid = (x: VariableLike): Variable => new Sigmoid().apply(...asVariables(x));
/** max(0, x), the book's Relu. */
export const relu = (x: VariableLike): Variable => new Relu().apply(...asVariables(x));
