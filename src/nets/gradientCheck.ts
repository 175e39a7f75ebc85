import type { Tensor } from '../tensor/Tensor.js';
import type { Targets } from '../functions/targets.js';
import { TwoLayerNet, type TwoLayerParams } from './TwoLayerNet.js';

/**
 * The book's gradient_check.py: the mean absolute difference between backprop and numerical
 * gradients, per parameter. Use a float64 net: in float32 the differences are rounding noise.
 */
export function gradientCheck(net: TwoLayerNet, x: Tensor, t: Targets): Record<keyof TwoLayerParams, number> {
  const numerical = net.numericalGradient(x, t);
  const backprop = net.gradient(x, t);
  const diff = {} as Record<keyof TwoLayerParams, number>;
  for (const key of TwoLayerNet.paramNames) {
    const a = backprop[key].data;
    const b = numerical[key].data;
    let s = 0;
    for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
    diff[key] = s / a.length; // np.average(np.abs(grad_backprop - grad_numerical))
  }
  return diff;
}
