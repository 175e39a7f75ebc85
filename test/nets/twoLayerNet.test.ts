import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TwoLayerNet } from '../../src/nets/TwoLayerNet.js';
import { gradientCheck } from '../../src/nets/gradientCheck.js';
import { loadBundledDigits } from '../../src/data/bundledDigits.js';
import { subset } from '../../src/data/split.js';
import { oneHot, toLabeledData } from '../../src/data/dataset.js';
import { argmaxRows, axpyInto, gatherRows } from '../../src/tensor/ops.js';
import { Random } from '../../src/random.js';
import { train } from '../../src/train/train.js';
import { allBackends } from '../kernels/backends.js';
import { randn, countCorrectRowByRow } from '../helpers.js';

const backends = await allBackends();
const digits = loadBundledDigits();

for (const backend of backends) {
  describe(`TwoLayerNet (backend ${backend.name})`, () => {
    it('the book\'s initialisation: W = 0.01·randn, b = 0, shapes (784, 50), (50), (50, 10), (10)', () => {
      const net = new TwoLayerNet(784, 50, 10, 0.01, { seed: 5, backend });
      const { W1, b1, W2, b2 } = net.params;
      assert.deepEqual([W1.shape, b1.shape, W2.shape, b2.shape], [[784, 50], [50], [50, 10], [10]]);
      assert.ok(b1.data.every((v) => v === 0) && b2.data.every((v) => v === 0));
      const w = Array.from(W1.data);
      const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
      assert.ok(Math.abs(std - 0.01) < 0.0003, `std ${std}`);
      assert.deepEqual(Array.from(new TwoLayerNet(784, 50, 10, 0.01, { seed: 5, backend }).params.W2.data), Array.from(W2.data));
    });

    it('gradient check on 3 real digits, 784-50-10 in float64: every mean difference below 1e-6', () => {
      const data = toLabeledData(digits.train, { dtype: 'float64', backend });
      const index = Int32Array.from([0, 1, 2]);
      const net = new TwoLayerNet(784, 50, 10, 0.01, { seed: 0, dtype: 'float64', backend });
      const diff = gradientCheck(net, gatherRows(data.x, index), index.map((i) => data.labels[i]));
      for (const [key, d] of Object.entries(diff)) assert.ok(d < 1e-6, `${key}: ${d}`);
      // W1, W2 are far tighter: only b2 carries the guard's systematic ~1e-7
      assert.ok(diff.W1 < 1e-8 && diff.W2 < 1e-7, JSON.stringify(diff));
    });

    it('backprop equals numerical gradients on a small random net with larger weights (std 0.3)', () => {
      const rng = new Random(3);
      // weights std 0.3: scores stay moderate, so the log's 1e-7 guard (ignored by backprop) stays negligible
      const net = new TwoLayerNet(7, 5, 4, 0.3, { seed: 1, dtype: 'float64', backend });
      const x = randn([6, 7], rng, backend);
      const t = oneHot([0, 3, 2, 1, 3, 0], 4, { dtype: 'float64', backend });
      const numeric = net.numericalGradient(x, t);
      const grads = net.gradient(x, t);
      for (const key of TwoLayerNet.paramNames) {
        const a = grads[key].data;
        const b = numeric[key].data;
        for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6, `${key}[${i}]: ${a[i]} vs ${b[i]}`);
      }
    });

    for (const dtype of ['float32', 'float64'] as const) {
      it(`the fused gradient and accuracy are bit-identical to the layers called one by one (${dtype})`, () => {
        const data = toLabeledData(subset(digits.train, Int32Array.from({ length: 1500 }, (_, i) => i)), { dtype, backend });
        const index = Int32Array.from({ length: 100 }, (_, i) => (i * 37) % 1500);
        const x = gatherRows(data.x, index);
        const t = index.map((i) => data.labels[i]);
        const net = new TwoLayerNet(784, 50, 10, 0.3, { seed: 4, dtype, backend }); // large weights: many ReLUs off
        // the wasm backend's product with the digits' zero pixels skipped (Affine1.sparseInput), float32
        const counter = backend as { sparseProducts?: number };
        const sparseBefore = counter.sparseProducts;
        const grads = net.gradient(x, t);
        if (sparseBefore !== undefined) assert.equal(counter.sparseProducts! - sparseBefore, dtype === 'float32' ? 2 : 0, 'x · W1 and xᵀ · dout skipped the zero pixels');
        // The unfused reference: the book's loop over the layers, each layer's own forward and
        // backward, its first product over every pixel.
        const ref = new TwoLayerNet(784, 50, 10, 0.3, { seed: 4, dtype, backend });
        ref.layers.Affine1.sparseInput = false;
        let out = x;
        for (const layer of [ref.layers.Affine1, ref.layers.Relu1, ref.layers.Affine2]) out = layer.forward(out);
        const loss = ref.lastLayer.forward(out, t);
        let dout = ref.lastLayer.backward(1);
        for (const layer of [ref.layers.Affine2, ref.layers.Relu1, ref.layers.Affine1]) dout = layer.backward(dout);
        assert.equal(net.lastLayer.loss, loss);
        assert.deepEqual(net.layers.Relu1.out!.data, ref.layers.Relu1.out!.data, 'hidden activations');
        const off = ref.layers.Relu1.out!.data.filter((v) => v === 0).length;
        assert.ok(off > 100 && off < 4900, `the ReLU mask should matter: ${off} of 5000 off`);
        const refGrads = { W1: ref.layers.Affine1.dW!, b1: ref.layers.Affine1.db!, W2: ref.layers.Affine2.dW!, b2: ref.layers.Affine2.db! };
        for (const key of TwoLayerNet.paramNames) assert.deepEqual(grads[key].data, refGrads[key].data, `${key}: not bit-identical`);
        // accuracy (fused inference on row views) counts as predict row by row
        assert.equal(net.accuracy(data.x, data.labels), countCorrectRowByRow(ref, data.x, data.labels) / 1500);
      });
    }

    it('same seed, same loss sequence; another seed, another', () => {
      const small = { train: toLabeledData(subset(digits.train, Int32Array.from({ length: 500 }, (_, i) => i)), { backend }), test: toLabeledData(subset(digits.test, [0, 1, 2, 3]), { backend }) };
      const run = (seed: number): number[] => {
        const rng = new Random(seed);
        const net = new TwoLayerNet(784, 20, 10, 0.01, { rng, backend });
        return Array.from(train(net, small, { iters: 30, batchSize: 50, lr: 0.1, rng }).lossList);
      };
      const a = run(7);
      assert.deepEqual(run(7), a);
      assert.notDeepEqual(run(8), a);
    });

    it('train() gives the book\'s loop written out, bit for bit (each batch drawn a step ahead of its iteration)', () => {
      const small = { train: toLabeledData(subset(digits.train, Int32Array.from({ length: 500 }, (_, i) => i)), { backend }), test: toLabeledData(subset(digits.test, [0, 1, 2, 3]), { backend }) };
      const [iters, B, lr] = [8, 100, 0.1];
      const rngA = new Random(5);
      const net = new TwoLayerNet(784, 20, 10, 0.01, { rng: rngA, backend });
      const { lossList } = train(net, small, { iters, batchSize: B, lr, rng: rngA });
      // train_neuralnet.py: batch_mask = np.random.choice(train_size, batch_size), gradient, W -= lr · dW
      const rng = new Random(5);
      const ref = new TwoLayerNet(784, 20, 10, 0.01, { rng, backend });
      const [index, t] = [new Int32Array(B), new Int32Array(B)];
      for (let i = 0; i < iters; i++) {
        rng.choice(500, B, index);
        for (let j = 0; j < B; j++) t[j] = small.train.labels[index[j]];
        const grads = ref.gradient(gatherRows(small.train.x, index), t);
        assert.equal(lossList[i], ref.lastLayer.loss, `iteration ${i + 1}`);
        for (const key of TwoLayerNet.paramNames) axpyInto(-lr, grads[key], ref.params[key]);
      }
      for (const key of TwoLayerNet.paramNames) assert.deepEqual(net.params[key].data, ref.params[key].data, key);
    });

    it('a short training run on 2,000 digits beats chance (0.1) by a wide margin', () => {
      const small = { train: toLabeledData(subset(digits.train, Int32Array.from({ length: 2000 }, (_, i) => i)), { backend }), test: toLabeledData(digits.test, { backend }) };
      const rng = new Random(1);
      const net = new TwoLayerNet(784, 50, 10, 0.01, { rng, backend });
      const before = net.accuracy(small.test.x, small.test.labels);
      const { final, history } = train(net, small, { iters: 400, batchSize: 100, lr: 0.1, rng });
      assert.ok(before < 0.2, `untrained accuracy ${before}`);
      assert.ok(final.testAccuracy > 0.8, `test accuracy ${final.testAccuracy}`);
      assert.ok(history[history.length - 1].loss < history[0].loss / 3, 'loss falls');
    });

    it('accuracy over more rows than one evaluation chunk equals per-row counting', () => {
      const data = toLabeledData(digits.test, { backend }); // 2,000 rows: two chunks of 1,000
      const net = new TwoLayerNet(784, 10, 10, 0.1, { seed: 2, backend });
      const acc = net.accuracy(data.x, data.labels);
      assert.equal(acc, countCorrectRowByRow(net, data.x, data.labels) / data.labels.length);
    });

    it('accuracy (fused products, zero pixels skipped, 4,000-row chunks into reused buffers) predicts every row as the layers\' forward does', () => {
      for (const dtype of ['float32', 'float64'] as const) {
        const net = new TwoLayerNet(784, 50, 10, 0.3, { seed: 4, dtype, backend });
        // more rows than a chunk (a short last chunk), then fewer (views of the kept buffers), then one
        for (const rows of [9001, 2000, 4000, 1]) {
          const x = toLabeledData(subset(digits.train, Int32Array.from({ length: rows }, (_, i) => (i * 7) % 8000)), { dtype, backend }).x;
          // the unfused reference: the book's predict, the layers' forward one after another, on all rows at once
          const predicted = argmaxRows(net.predict(x));
          if (rows > 1) assert.ok(new Set(predicted).size >= 5, 'the predictions should vary');
          // accuracy against the reference's own predictions is 1 exactly when every row is predicted alike
          assert.equal(net.accuracy(x, predicted), 1, `${dtype}, ${rows} rows`);
        }
      }
    });

    it('bad constructor arguments and inputs are clear errors', () => {
      assert.throws(() => new TwoLayerNet(784, 0, 10), /hiddenSize must be a whole number > 0, got 0/);
      assert.throws(() => new TwoLayerNet(784, 50, 10, -1), /weightInitStd must be a finite number > 0/);
      const net = new TwoLayerNet(784, 50, 10, 0.01, { backend });
      assert.throws(() => net.gradient(randn([2, 783], new Random(0), backend).clone({ dtype: 'float32' }), [1, 2]), /input shape \[2,783\] does not match inputSize 784/);
    });
  });
}
