/** Reductions over axes: sum, mean, max, each with DeZero's signature (x, axis?, keepdims?). */
import type { Tensor } from '../../tensor/Tensor.js';
import { equalMask, maxTo, reducedShape, sumTo as sumTensor } from '../../tensor/broadcast.js';
import { Function } from '../Function.js';
import { Variable, type VariableLike, asVariables } from '../Variable.js';
import { div, mul } from './arithmetic.js';
import { broadcastTo, reshape } from './shape.js';

/** Axes to reduce: one, several, or all (omitted or null). */
export type Axis = number | readonly number[] | null | undefined;

class Sum extends Function {
  get name(): string { return 'sum'; }
  constructor(private readonly axis: Axis, private readonly keepdims: boolean) { super(); }
  override get symbol(): string { return 'Σ'; }
  forward(x: Tensor): Tensor {
    const { keep, drop } = reducedShape('sum', x.shape, this.axis);
    const s = sumTensor(x, keep);
    return this.keepdims ? s : s.reshape(drop);
  }
  // every summed element gets dout: reshape to the kept dimensions, then broadcast
  backward(gy: Variable): Variable[] {
    const x = this.inputs[0];
    return [broadcastTo(reshape(gy, reducedShape('sum', x.shape, this.axis).keep), x.shape)];
  }
}

class Max extends Function {
  get name(): string { return 'max'; }
  constructor(private readonly axis: Axis, private readonly keepdims: boolean) { super(); }
  forward(x: Tensor): Tensor {
    const { keep, drop } = reducedShape('max', x.shape, this.axis);
    const m = maxTo(x, keep);
    return this.keepdims ? m : m.reshape(drop);
  }
  // dout goes to the elements equal to the maximum (every one of them on a tie, as DeZero)
  backward(gy: Variable): Variable[] {
    const x = this.inputs[0];
    const { keep } = reducedShape('max', x.shape, this.axis);
    const mask = Variable.constant(equalMask(x.data, this.output!.data.reshape(keep)));
    return [mul(broadcastTo(reshape(gy, keep), x.shape), mask)];
  }
}

/** Σ x over `axis` (every axis when omitted). @example F.sum(x, 0) // column sums; F.sum(x) // a scalar */
export const sum = (x: VariableLike, axis?: Axis, keepdims = false): Variable => new Sum(axis, keepdims).apply(...asVariables(x));

/** The mean over `axis` (every axis when omitted): sum / count. */
export function mean(x: VariableLike, axis?: Axis, keepdims = false): Variable {
  const [v] = asVariables(x);
  const { drop } = reducedShape('mean', v.shape, axis);
  const count = v.size / drop.reduce((p, d) => p * d, 1);
  return div(sum(v, axis, keepdims), count);
}

/** The largest element over `axis` (every axis when omitted); NaN propagates. */
export const max = (x: VariableLike, axis?: Axis, keepdims = false): Variable => new Max(axis, keepdims).apply(...asVariables(x));
