import { Tensor } from '../tensor/Tensor.js';
import { Random } from '../random.js';
import { Variable } from '../autograd/index.js';
import { AutogradTwoLayerNet } from '../nets/AutogradTwoLayerNet.js';
import { GraphError } from './errors.js';

/** The sizes of the book's `TwoLayerNet`. */
export interface TwoLayerNetDims {
  /** Rows of the batch (100). */
  batch: number;
  /** Features of each input row (784). */
  inputSize: number;
  /** Hidden units (50). */
  hiddenSize: number;
  /** Classes (10). */
  outputSize: number;
}

/**
 * The book's two-layer net (fig. 5-28) as autograd records it: AutogradTwoLayerNet's loss on a
 * seeded random batch, after backward with retainGrad, so every edge has its shape and gradient.
 * Draw it with renderVariableText, renderVariableSvg or renderVariableDot.
 *
 * @example
 * const L = twoLayerNetLoss({ batch: 100, inputSize: 784, hiddenSize: 50, outputSize: 10 });
 * console.log(renderVariableText(L)); // x (100, 784), W1 (784, 50) … Affine, ReLU, Affine, SoftmaxWithLoss
 */
export function twoLayerNetLoss(dims: TwoLayerNetDims = { batch: 100, inputSize: 784, hiddenSize: 50, outputSize: 10 }): Variable {
  for (const [key, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 1 || v > 100_000) throw new GraphError(`two-layer-net: ${key} must be a whole number from 1 to 100000, got ${v}`);
  }
  const { batch, inputSize, hiddenSize, outputSize } = dims;
  const rng = new Random(0);
  const net = new AutogradTwoLayerNet(inputSize, hiddenSize, outputSize, { rng, dtype: 'float64' });
  const x = Tensor.zeros([batch, inputSize], { dtype: 'float64' });
  const d = x.data;
  for (let i = 0; i < d.length; i++) d[i] = rng.next();
  const t = Array.from({ length: batch }, () => rng.int(outputSize));
  const L = net.loss(new Variable(x, { name: 'x' }), t);
  L.name = 'L';
  L.backward({ retainGrad: true });
  return L;
}
