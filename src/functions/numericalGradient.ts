import { Tensor } from '../tensor/Tensor.js';

/**
 * The central-difference gradient of f with respect to every element of x:
 * ∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h, with h = 1e-4 as in the book.
 *
 * f is called with x changed in place one element at a time (each element is restored
 * afterwards), so f must read x itself: pass a closure over the network whose parameter x is.
 * Use float64 tensors: in float32, h = 1e-4 is lost in rounding.
 *
 * @example numericalGradient(() => x.get(0) ** 2 + x.get(1) ** 2, x) // ≈ [2x0, 2x1]
 */
export function numericalGradient(f: () => number, x: Tensor, h = 1e-4): Tensor {
  const grad = Tensor.zeros(x.shape, { dtype: x.dtype, backend: x.backend });
  const g = grad.data;
  for (let i = 0; i < x.size; i++) {
    const d = x.data; // re-read: f may grow a backend's memory
    const tmp = d[i];
    d[i] = tmp + h;
    const fxh1 = f();
    x.data[i] = tmp - h;
    const fxh2 = f();
    x.data[i] = tmp;
    g[i] = (fxh1 - fxh2) / (2 * h);
  }
  return grad;
}
