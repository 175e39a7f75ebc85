// Section 6.3: checking batch normalization's backward pass against numerical gradients
// (batch_norm_gradient_check.py): MultiLayerNet(784, [100, 100], 10) with a BatchNormalization
// layer before each hidden ReLU, in float64, printing the mean |backprop − numerical| of every
// parameter: W1 b1 gamma1 beta1 W2 b2 gamma2 beta2 W3 b3.
// The book checks one sample, x_train[:1]; but over a batch of one, batch norm subtracts each
// unit's only value, so nothing before it matters (those gradients are zero both ways) and the
// next ReLU sits exactly at its kink, where the central difference gives ½ and backprop 0.
// Three samples, as chapter 5's gradient check, make every gradient count.
import { MultiLayerNet, loadBundledDigits, ops, toLabeledData } from '../src/node.js';

const { train } = loadBundledDigits();
const data = toLabeledData(train, { dtype: 'float64' });
const index = Int32Array.from({ length: 3 }, (_, i) => i);
const xBatch = ops.gatherRows(data.x, index); // x_train[:3]
const tBatch = index.map((i) => data.labels[i]); // t_train[:3]

const network = new MultiLayerNet(784, [100, 100], 10, { useBatchnorm: true, seed: 0, dtype: 'float64' });

const gradNumerical = network.numericalGradient(xBatch, tBatch);
const gradBackprop = network.gradient(xBatch, tBatch);

for (const key of Object.keys(gradNumerical)) {
  const a = gradBackprop[key].data;
  const b = gradNumerical[key].data;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  console.log(`${key}:${(s / a.length).toExponential(2)}`); // np.average(np.abs(grad_backprop[key] - grad_numerical[key]))
}

