// Section 7.5: checking SimpleConvNet's backward pass against numerical gradients
// (ch07/gradient_check.py): a small net, one 10×10 image of uniform noise, 10 filters 3×3,
// 10 hidden units, in float64; prints the mean |numerical − backprop| of each parameter.
// With the book's weight std 0.01 the inputs of the ReLUs are ~1e-3, so for many seeds one of
// them, or two values of a max-pool window, lies within h = 1e-4 of its kink: the central
// difference there straddles two slopes and misses backprop by up to ~1e-3 on that element
// (with seed 0, W1 shows 8e-7; with seed 9, b2 1.5e-4). Seed 3 has no value that close.
import { Random, SimpleConvNet, Tensor } from '../src/node.js';

const network = new SimpleConvNet([1, 10, 10], { filterNum: 10, filterSize: 3, pad: 0, stride: 1 }, 10, 10, 0.01, { seed: 3, dtype: 'float64' });

const rng = new Random(1);
const X = Tensor.from(Array.from({ length: 100 }, () => rng.next()), [1, 1, 10, 10], { dtype: 'float64' }); // np.random.rand(100).reshape((1, 1, 10, 10))
const T = Int32Array.from([1]);

const gradNum = network.numericalGradient(X, T);
const grad = network.gradient(X, T);

for (const key of SimpleConvNet.paramNames) {
  const a = gradNum[key].data;
  const b = grad[key].data;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  console.log(key, (s / a.length).toExponential(2)); // np.abs(grad_num[key] - grad[key]).mean()
}
