// Section 5.7.3: checking backprop against numerical gradients (gradient_check.py).
// Runs in float64: in float32 the differences would be rounding noise.
import { TwoLayerNet, gradientCheck, loadBundledDigits, toLabeledData, ops } from '../src/node.js';

const { train } = loadBundledDigits();
const data = toLabeledData(train, { dtype: 'float64' });
const index = Int32Array.from([0, 1, 2]);
const xBatch = ops.gatherRows(data.x, index); // x_train[:3]
const tBatch = index.map((i) => data.labels[i]); // t_train[:3]

const network = new TwoLayerNet(784, 50, 10, 0.01, { seed: 0, dtype: 'float64' });
const diff = gradientCheck(network, xBatch, tBatch);
for (const [key, d] of Object.entries(diff)) console.log(`${key}:${d.toExponential(2)}`);
