import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/Tensor.js';
import { MultiLayerNet, type MultiLayerNetOptions } from '../../src/nets/MultiLayerNet.js';
import type { NamedTensors } from '../../src/optimizers/Optimizer.js';
import { Dropout } from '../../src/layers/Dropout.js';
import { BatchNormalization } from '../../src/layers/BatchNormalization.js';
import { sumOfSquares } from '../../src/tensor/elementwise.js';
import { Random } from '../../src/random.js';
import type { Backend } from '../../src/kernels/Backend.js';
import { allBackends } from '../kernels/backends.js';
import { loadBundledDigits } from '../../src/data/bundledDigits.js';
import { subset } from '../../src/data/split.js';
import { toLabeledData } from '../../src/data/dataset.js';
import { argmaxRows } from '../../src/tensor/ops.js';
import { assertClose, randn, snapshot, meanAbsDiff } from '../helpers.js';

const backends = await allBackends();

/**
 * Backprop against central differences for every parameter: mean |diff| < 1e-6, each element
 * within 1e-5·(1 + |g|). The differences (~1e-7, up to ~1e-6 with batch norm on 4 rows) come from
 * the book's 1e-7 guard inside the log, which backprop ignores, and from h = 1e-4 itself.
 */
function checkGradients(net: MultiLayerNet, x: Tensor, t: number[], what: string): void {
  const numeric = net.numericalGradient(x, t);
  const grads = net.gradient(x, t);
  assert.deepEqual(Object.keys(grads), Object.keys(net.params));
  for (const key of Object.keys(net.params)) {
    const d = meanAbsDiff(grads[key].data, numeric[key].data);
    assert.ok(d < 1e-6, `${what} ${key}: mean difference ${d}`);
    assertClose(grads[key].data, numeric[key].data, 1e-5, `${what} ${key}`);
  }
}

/** A fixed 0/1 mask for each Dropout layer, so the loss is a function of the parameters alone. */
function fixMasks(net: MultiLayerNet, batch: number, rng: Random): void {
  net.hiddenSizeList.forEach((n, i) => {
    const dropout = net.namedLayers[`Dropout${i + 1}`] as Dropout;
    const mask = Tensor.zeros([batch, n], { dtype: 'float64', backend: net.params.W1.backend });
    mask.data.set(Array.from({ length: batch * n }, () => (rng.next() > dropout.dropoutRatio ? 1 : 0)));
    dropout.fixedMask = mask;
  });
}

/** out = input · W + b for rows of n features, written out. */
function layerOut(input: number[], n: number, W: Tensor, b: Tensor): number[] {
  const [rows, cols] = [input.length / n, W.shape[1]];
  const out: number[] = [];
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    let s = b.data[c];
    for (let k = 0; k < n; k++) s += input[r * n + k] * W.data[k * cols + c];
    out.push(s);
  }
  return out;
}

/**
 * The scores of a ReLU MultiLayerNet with batch norm and dropout in inference, by hand:
 * Affine → BN with the running statistics (the book's ε, 10e-7) → relu → ×(1 − ratio) → … → Affine.
 */
function inferenceByHand(net: MultiLayerNet, x: Tensor, ratio: number): number[] {
  let h = snapshot(x);
  const sizes = [x.shape[1], ...net.hiddenSizeList];
  for (let i = 1; i <= net.hiddenSizeList.length; i++) {
    const n = sizes[i];
    h = layerOut(h, sizes[i - 1], net.params[`W${i}`], net.params[`b${i}`]).map((v, k) => {
      const j = k % n;
      const [m, va, g, be] = [net.buffers[`runningMean${i}`], net.buffers[`runningVar${i}`], net.params[`gamma${i}`], net.params[`beta${i}`]].map((u) => u.data[j]);
      return Math.max(0, g * ((v - m) / Math.sqrt(va + 10e-7)) + be) * (1 - ratio);
    });
  }
  const last = net.hiddenSizeList.length + 1;
  return layerOut(h, sizes[sizes.length - 1], net.params[`W${last}`], net.params[`b${last}`]);
}

function small(backend: Backend, options: MultiLayerNetOptions): MultiLayerNet {
  return new MultiLayerNet(6, [5, 4], 3, { seed: 1, dtype: 'float64', backend, ...options });
}

for (const backend of backends) {
  describe(`MultiLayerNet (backend ${backend.name})`, () => {
    const rng = new Random(17);
    const x = randn([4, 6], rng, backend);
    const t = [0, 2, 1, 2];

    it('the book\'s layout and names: W1 b1 … W4 b4, gamma/beta with batch norm, running statistics as buffers', () => {
      const net = new MultiLayerNet(784, [100, 50, 20], 10, { useBatchnorm: true, useDropout: true, backend });
      assert.deepEqual(Object.keys(net.params), ['W1', 'b1', 'gamma1', 'beta1', 'W2', 'b2', 'gamma2', 'beta2', 'W3', 'b3', 'gamma3', 'beta3', 'W4', 'b4']);
      assert.deepEqual(Object.keys(net.namedLayers), [
        'Affine1', 'BatchNorm1', 'Activation_function1', 'Dropout1',
        'Affine2', 'BatchNorm2', 'Activation_function2', 'Dropout2',
        'Affine3', 'BatchNorm3', 'Activation_function3', 'Dropout3', 'Affine4',
      ]);
      assert.deepEqual(Object.keys(net.buffers), ['runningMean1', 'runningVar1', 'runningMean2', 'runningVar2', 'runningMean3', 'runningVar3']);
      assert.deepEqual([net.params.W1.shape, net.params.W4.shape, net.params.gamma2.shape], [[784, 100], [20, 10], [50]]);
      assert.ok(net.params.gamma1.data.every((v) => v === 1) && net.params.beta1.data.every((v) => v === 0) && net.params.b1.data.every((v) => v === 0));
      assert.equal(net.params.W1, (net.namedLayers.Affine1 as unknown as { W: Tensor }).W, 'params share the layers\' tensors');
      assert.equal(net.buffers.runningVar2, (net.namedLayers.BatchNorm2 as BatchNormalization).runningVar);
      assert.equal(net.hiddenLayerNum, 3);
      const plain = new MultiLayerNet(4, [3], 2, { backend });
      assert.deepEqual(Object.keys(plain.params), ['W1', 'b1', 'W2', 'b2']);
      assert.deepEqual(plain.buffers, {});
    });

    it('initial weights: he √(2/n) by default, xavier √(1/n), or a fixed std; same seed, same weights', () => {
      const std = (W: Tensor): number => Math.sqrt(sumOfSquares(W) / W.size);
      const he = new MultiLayerNet(400, [200], 10, { seed: 3, backend });
      assert.ok(Math.abs(std(he.params.W1) / Math.sqrt(2 / 400) - 1) < 0.02);
      assert.ok(Math.abs(std(he.params.W2) / Math.sqrt(2 / 200) - 1) < 0.1);
      const xavier = new MultiLayerNet(400, [200], 10, { seed: 3, weightInitStd: 'sigmoid', activation: 'sigmoid', backend });
      assert.ok(Math.abs(std(xavier.params.W1) / Math.sqrt(1 / 400) - 1) < 0.02);
      const fixed = new MultiLayerNet(400, [200], 10, { seed: 3, weightInitStd: 0.01, backend });
      assert.ok(Math.abs(std(fixed.params.W1) / 0.01 - 1) < 0.02);
      // the same draws, scaled: W = scale · randn
      assertClose(snapshot(xavier.params.W1), snapshot(he.params.W1).map((v) => v / Math.SQRT2), 1e-6, 'xavier = he/√2');
      assert.deepEqual(snapshot(new MultiLayerNet(400, [200], 10, { seed: 3, backend }).params.W2), snapshot(he.params.W2));
      assert.notDeepEqual(snapshot(new MultiLayerNet(400, [200], 10, { seed: 4, backend }).params.W2), snapshot(he.params.W2));
    });

    for (const [activation, init] of [['relu', 'he'], ['sigmoid', 'xavier'], ['tanh', 'xavier']] as const) {
      it(`gradient check (float64): ${activation} with ${init} weights`, () => {
        checkGradients(small(backend, { activation, weightInitStd: init }), x, t, activation);
      });
    }

    it('gradient check (float64): weight decay λ = 0.1 adds ½λΣ‖W‖² to the loss and λW to each dW', () => {
      const net = small(backend, { weightDecayLambda: 0.1, activation: 'tanh', weightInitStd: 'xavier' });
      checkGradients(net, x, t, 'weight decay');
      const plain = small(backend, { activation: 'tanh', weightInitStd: 'xavier' });
      const squares = ['W1', 'W2', 'W3'].reduce((s, k) => s + sumOfSquares(net.params[k]), 0);
      assert.ok(Math.abs(net.loss(x, t) - plain.loss(x, t) - 0.05 * squares) < 1e-14);
      assert.equal(net.lastLoss, net.loss(x, t));
      const gPlain = snapshot(plain.gradient(x, t).W2);
      const g = net.gradient(x, t);
      assertClose(snapshot(g.W2), gPlain.map((v, k) => v + 0.1 * net.params.W2.data[k]), 1e-14, 'dW2 + λW2');
      assert.deepEqual(snapshot(g.b2), snapshot(plain.gradient(x, t).b2), 'biases carry no decay');
    });

    it('gradient check (float64): batch norm and dropout (fixed masks) together, with weight decay', () => {
      for (const activation of ['relu', 'sigmoid', 'tanh'] as const) {
        const net = small(backend, { activation, useBatchnorm: true, useDropout: true, dropoutRatio: 0.3, weightDecayLambda: 0.01, weightInitStd: activation === 'relu' ? 'he' : 'xavier' });
        fixMasks(net, 4, new Random(2));
        checkGradients(net, x, t, `batch norm + dropout, ${activation}`);
      }
    });

    it('gradient check on batch norm alone (float64)', () => {
      checkGradients(small(backend, { useBatchnorm: true, activation: 'tanh', weightInitStd: 'xavier' }), x, t, 'batch norm');
    });

    it('accuracy (the first Affine skipping zero pixels) predicts every row as predict does', () => {
      const digits = loadBundledDigits();
      for (const dtype of ['float32', 'float64'] as const) {
        for (const options of [{}, { useBatchnorm: true, useDropout: true, dropoutRatio: 0.3 }]) {
          const net = new MultiLayerNet(784, [100, 30], 10, { seed: 3, dtype, backend, weightInitStd: 0.3, ...options });
          const xb = toLabeledData(subset(digits.train, Int32Array.from({ length: 64 }, (_, i) => i)), { dtype, backend }).x;
          for (let i = 0; i < 2; i++) net.gradient(xb, Array.from({ length: 64 }, (_, j) => digits.train.labels[j])); // running statistics
          const x = toLabeledData(subset(digits.test, Int32Array.from({ length: 2500 }, (_, i) => i % 2000)), { dtype, backend }).x;
          const predicted = argmaxRows(net.predict(x)); // all rows at once, through every layer's forward
          assert.ok(new Set(predicted).size >= 5, 'the predictions should vary');
          assert.equal(net.accuracy(x, predicted), 1, `${dtype} ${JSON.stringify(options)}: accuracy against predict's own predictions`);
        }
      }
    });

    it('inference (predict, accuracy) uses the running statistics and scales dropout, changing no state', () => {
      const net = small(backend, { useBatchnorm: true, useDropout: true, dropoutRatio: 0.5 });
      for (let i = 0; i < 3; i++) net.gradient(randn([8, 6], rng, backend), [0, 1, 2, 0, 1, 2, 0, 1]);
      const state = net.getState();
      const rngState = net.rng.getState();
      const y1 = snapshot(net.predict(x));
      const y2 = snapshot(net.predict(x, false));
      assert.deepEqual(y1, y2, 'inference is deterministic');
      assert.deepEqual(net.rng.getState(), rngState, 'no masks drawn');
      assert.deepEqual(snapshot(net.buffers.runningMean1), snapshot(state.buffers.runningMean1), 'running statistics unchanged');
      assertClose(y1, inferenceByHand(net, x, 0.5), 1e-12, 'inference by hand');
      // training mode draws masks and moves the running statistics
      net.predict(x, true);
      assert.notDeepEqual(net.rng.getState(), rngState);
      assert.notDeepEqual(snapshot(net.buffers.runningMean1), snapshot(state.buffers.runningMean1));
    });

    it('a bare loss(x, t) is inference, as the book\'s loss(x, t, train_flg=False): no masks drawn, running statistics kept', () => {
      const net = small(backend, { useBatchnorm: true, useDropout: true, dropoutRatio: 0.3, weightDecayLambda: 0.05 });
      for (let i = 0; i < 3; i++) net.gradient(randn([8, 6], rng, backend), [0, 1, 2, 0, 1, 2, 0, 1]);
      const buffers = Object.fromEntries(Object.entries(net.buffers).map(([k, b]) => [k, snapshot(b)]));
      const rngState = net.rng.getState();
      // the book: −Σ log(softmax(y)[t] + 1e-7) / N + ½λ Σ‖W‖², with y the inference scores
      const y = inferenceByHand(net, x, 0.3);
      let cross = 0;
      t.forEach((label, r) => {
        const row = y.slice(r * 3, r * 3 + 3);
        const max = Math.max(...row);
        const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
        cross -= Math.log(Math.exp(row[label] - max) / sum + 1e-7);
      });
      const squares = ['W1', 'W2', 'W3'].reduce((s, k) => s + snapshot(net.params[k]).reduce((a, v) => a + v * v, 0), 0);
      const expected = cross / t.length + 0.5 * 0.05 * squares;
      const loss = net.loss(x, t);
      assert.ok(Math.abs(loss - expected) < 1e-12, `loss ${loss}, by hand ${expected}`);
      assert.equal(net.loss(x, t), loss, 'the same value again: nothing random');
      assert.equal(net.loss(x, t, false), loss);
      assert.deepEqual(net.rng.getState(), rngState, 'no dropout masks drawn');
      for (const [k, b] of Object.entries(net.buffers)) assert.deepEqual(snapshot(b), buffers[k], `${k} unchanged`);
      // train = true is the training pass: it draws masks and moves the running statistics
      const trained = net.loss(x, t, true);
      assert.notEqual(trained, loss);
      assert.notDeepEqual(net.rng.getState(), rngState);
      assert.notDeepEqual(snapshot(net.buffers.runningMean1), buffers.runningMean1);
    });

    it('same seed, same results: gradients with dropout and batch norm repeat exactly', () => {
      const run = (seed: number): number[] => {
        const net = new MultiLayerNet(6, [5, 4], 3, { seed, useDropout: true, useBatchnorm: true, backend });
        const x32 = x.clone({ dtype: 'float32' });
        const out: number[] = [];
        for (let i = 0; i < 3; i++) {
          const g = net.gradient(x32, t);
          out.push(net.lastLoss!, ...snapshot(g.W1), ...snapshot(g.gamma2));
        }
        return out;
      };
      assert.deepEqual(run(5), run(5));
      assert.notDeepEqual(run(5), run(6));
    });

    it('getState/setState copy parameters, buffers and the mask generator', () => {
      const a = small(backend, { useBatchnorm: true, useDropout: true });
      a.gradient(x, t);
      const state = a.getState();
      assert.deepEqual(Object.keys(state.params), Object.keys(a.params));
      assert.deepEqual(Object.keys(state.buffers), ['runningMean1', 'runningVar1', 'runningMean2', 'runningVar2']);
      assert.deepEqual(Object.keys(state.random), ['rng1', 'rng2'], 'one entry per Dropout layer (here both share the net\'s generator)');
      assert.notEqual(state.params.W1, a.params.W1, 'copies');
      const b = new MultiLayerNet(6, [5, 4], 3, { seed: 99, dtype: 'float64', backend, useBatchnorm: true, useDropout: true });
      b.setState(state);
      const ga: NamedTensors = a.gradient(x, t);
      const snapA = Object.fromEntries(Object.entries(ga).map(([k, v]) => [k, snapshot(v)]));
      const gb = b.gradient(x, t);
      for (const k of Object.keys(gb)) assert.deepEqual(snapshot(gb[k]), snapA[k], k);
      assert.throws(() => new MultiLayerNet(6, [5, 3], 3, { backend, useBatchnorm: true, useDropout: true }).setState(state), {
        name: 'ShapeError', message: "setState: the saved params 'W2' has shape [5,4] but the network's has [5,3]",
      });
      assert.throws(() => new MultiLayerNet(6, [5, 4], 3, { backend }).setState(state), /setState: the saved params have 'gamma1', which this network does not \(it has W1, b1, W2, b2, W3, b3\)/);
      assert.throws(() => b.setState({ ...state, params: { W1: state.params.W1 } }), /setState: the saved params lack 'b1' \(saved: W1\)/);
    });

    it('bad settings get clear errors', () => {
      assert.throws(() => new MultiLayerNet(0, [5], 3), /MultiLayerNet: inputSize must be a whole number > 0, got 0/);
      assert.throws(() => new MultiLayerNet(4, [5, 2.5], 3), /MultiLayerNet: hiddenSizeList\[1\] must be a whole number > 0, got 2.5/);
      assert.throws(() => new MultiLayerNet(4, [5], -3), /MultiLayerNet: outputSize must be a whole number > 0, got -3/);
      assert.throws(() => new MultiLayerNet(4, [5], 3, { activation: 'elu' as 'relu' }), /MultiLayerNet: unknown activation 'elu' \(expected relu, sigmoid or tanh\)/);
      assert.throws(() => new MultiLayerNet(4, [5], 3, { weightInitStd: 'glorot' as 'xavier' }), /weight init: unknown 'glorot'/);
      assert.throws(() => new MultiLayerNet(4, [5], 3, { weightDecayLambda: -1 }), /weightDecayLambda must be a finite number ≥ 0, got -1/);
      assert.throws(() => new MultiLayerNet(4, [5], 3, { useDropout: true, dropoutRatio: 1 }), /Dropout: the ratio must be in \[0, 1\), got 1/);
      assert.throws(() => new MultiLayerNet(4, [5], 3, { backend }).gradient(Tensor.zeros([2, 5], { backend }), [0, 1]), /Affine: input has 5 features but W expects 4/);
    });
  });
}
