/**
 * The operations of autograd, by family (one file each in functions/). Each accepts a
 * Variable, a Tensor, a number or nested arrays wherever a value is expected.
 *
 * @example
 * import { Variable, F } from 'backprop-ts';
 * const x = new Variable([[1, 2, 3]]);
 * const y = F.sum(F.mul(2, F.exp(x)));
 */
export { add, sub, mul, div, neg, pow } from './functions/arithmetic.js';
export { exp, log, sin, cos, tanh, sigmoid, relu } from './functions/math.js';
export { reshape, transpose, broadcastTo, sumTo, getItem, type RowIndex, type RowSlice } from './functions/shape.js';
export { sum, mean, max, type Axis } from './functions/reduce.js';
export { matmul, linear } from './functions/matmul.js';
export { softmax, logSoftmax, softmaxCrossEntropy, meanSquaredError } from './functions/loss.js';
export { dropout, batchNorm, type DropoutOptions, type BatchNormOptions } from './functions/layers.js';
export { conv2d, im2col, pooling } from './functions/conv.js';
