/**
 * Element-wise functions of one tensor that the kernel interface and elementwise.ts do not
 * have (autograd's exp, log, sin, cos, x^c). Each returns a new tensor; like elementwise.ts
 * they loop over `tensor.data` in TypeScript on every backend, allocating before reading.
 */
import { Tensor } from './Tensor.js';

function unary(x: Tensor, fn: (v: number) => number): Tensor {
  const o = Tensor.zeros(x.shape, { dtype: x.dtype, backend: x.backend });
  const [s, z] = [x.data, o.data];
  for (let i = 0; i < z.length; i++) z[i] = fn(s[i]);
  return o;
}

/** eˣ, element-wise. @example exp(Tensor.from([0])) // [1] */
export const exp = (x: Tensor): Tensor => unary(x, Math.exp);
/** ln x, element-wise (NaN below 0, −∞ at 0). @example log(Tensor.from([1])) // [0] */
export const log = (x: Tensor): Tensor => unary(x, Math.log);
/** sin x, element-wise. @example sin(Tensor.from([0])) // [0] */
export const sin = (x: Tensor): Tensor => unary(x, Math.sin);
/** cos x, element-wise. @example cos(Tensor.from([0])) // [1] */
export const cos = (x: Tensor): Tensor => unary(x, Math.cos);
/** x^c for a constant c, element-wise. @example powScalar(Tensor.from([3]), 2) // [9] */
export const powScalar = (x: Tensor, c: number): Tensor => (c === 2 ? unary(x, (v) => v * v) : unary(x, (v) => v ** c));
