import { Tensor, type TensorOptions } from '../tensor/Tensor.js';
import { ShapeError, fmtShape } from '../tensor/ShapeError.js';
import type { Random } from '../random.js';

/**
 * How initial weights are scaled (the book's `weight_init_std`): a fixed standard deviation,
 * or a name: 'relu' and 'he' give √(2/n) (He), 'sigmoid' and 'xavier' give √(1/n) (Xavier),
 * with n the number of inputs of each neuron (fan-in). Names are case-insensitive.
 */
export type WeightInit = 'relu' | 'he' | 'sigmoid' | 'xavier' | number;

/**
 * The standard deviation of a layer's initial weights, as the book's MultiLayerNet computes it.
 *
 * @example
 * weightStd('he', 784);     // √(2/784) ≈ 0.0505
 * weightStd('xavier', 100); // √(1/100) = 0.1
 * weightStd(0.01, 784);     // 0.01
 */
export function weightStd(init: WeightInit, fanIn: number): number {
  if (typeof init === 'number') {
    if (!(init > 0 && Number.isFinite(init))) throw new RangeError(`weight init: a standard deviation must be a finite number > 0, got ${init}`);
    return init;
  }
  if (!(Number.isInteger(fanIn) && fanIn > 0)) throw new RangeError(`weight init: the fan-in must be a whole number > 0, got ${fanIn}`);
  switch (String(init).toLowerCase()) {
    case 'relu':
    case 'he':
      return Math.sqrt(2.0 / fanIn); // He: √(2/n), for ReLU
    case 'sigmoid':
    case 'xavier':
      return Math.sqrt(1.0 / fanIn); // Xavier: √(1/n), for sigmoid and tanh
    default:
      throw new RangeError(`weight init: unknown '${init}' (expected 'relu', 'he', 'sigmoid', 'xavier' or a standard deviation > 0)`);
  }
}

/**
 * The fan-in of a weight tensor: rows of an Affine weight (in, out); C·FH·FW of a convolution
 * filter (FN, C, FH, FW), as the book's deep_convnet counts `pre_node_nums`.
 */
export function fanIn(shape: readonly number[]): number {
  if (shape.length === 2) return shape[0];
  if (shape.length >= 3) return shape.slice(1).reduce((a, b) => a * b, 1);
  throw new ShapeError(`weight init: cannot tell the fan-in of shape ${fmtShape(shape)}; give it as options.fanIn`);
}

/**
 * A weight tensor of normal deviates scaled by `weightStd(init, n)`: W = std · randn(shape),
 * drawn in row-major order from the seeded generator.
 *
 * @example
 * const W1 = initWeight([784, 100], 'he', new Random(0));           // std √(2/784)
 * const W = initWeight([30, 1, 5, 5], 0.01, rng, { dtype: 'float64' }); // a convolution filter
 */
export function initWeight(shape: readonly number[], init: WeightInit, rng: Random, options: TensorOptions & { fanIn?: number } = {}): Tensor {
  const std = weightStd(init, typeof init === 'number' ? 1 : options.fanIn ?? fanIn(shape));
  const W = Tensor.zeros(shape, options);
  const d = W.data;
  for (let i = 0; i < d.length; i++) d[i] = std * rng.normal();
  return W;
}
