import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/Tensor.js';
import { Affine } from '../../src/layers/Affine.js';
import { Relu } from '../../src/layers/Relu.js';
import { Sigmoid } from '../../src/layers/Sigmoid.js';
import { SoftmaxWithLoss } from '../../src/layers/SoftmaxWithLoss.js';
import type { Layer } from '../../src/layers/Layer.js';
import { numericalGradient } from '../../src/functions/numericalGradient.js';
import { Random } from '../../src/random.js';
import { allBackends } from '../kernels/backends.js';
import { assertClose, randn, snapshot, weightedSum } from '../helpers.js';

const backends = await allBackends();

for (const backend of backends) {
  describe(`layers against numerical gradients (float64, backend ${backend.name})`, () => {
    const rng = new Random(11);

    for (const [name, make] of [['Relu', () => new Relu()], ['Sigmoid', () => new Sigmoid()]] as const) {
      it(`${name}.backward matches the central difference`, () => {
        const layer: Layer = make();
        const x = randn([4, 7], rng, backend);
        const g = randn([4, 7], rng, backend);
        const loss = (): number => weightedSum(layer.forward(x), g);
        const numeric = numericalGradient(loss, x);
        layer.forward(x);
        const xBefore = snapshot(x);
        const gBefore = snapshot(g);
        const dx = layer.backward(g);
        assertClose(dx.data, numeric.data, 1e-7, `${name} dx`);
        assert.deepEqual(snapshot(g), gBefore, 'backward must not modify dout');
        assert.deepEqual(snapshot(x), xBefore, 'forward must not modify x');
      });
    }

    it('Relu: an input of exactly 0 gets gradient 0 (the book\'s mask is x <= 0)', () => {
      const relu = new Relu();
      const x = Tensor.from([[-1, 0, 2]], undefined, { dtype: 'float64', backend });
      assert.deepEqual(Array.from(relu.forward(x).data), [0, 0, 2]);
      assert.deepEqual(Array.from(relu.backward(Tensor.from([[5, 5, 5]], undefined, { dtype: 'float64', backend })).data), [0, 0, 5]);
    });

    it('Sigmoid: y(0) = 0.5 and dx = dout·y·(1−y) = 0.25', () => {
      const s = new Sigmoid();
      assert.equal(s.forward(Tensor.from([0], undefined, { dtype: 'float64', backend })).data[0], 0.5);
      assert.equal(s.backward(Tensor.from([1], undefined, { dtype: 'float64', backend })).data[0], 0.25);
    });

    it('Affine: dx, dW and db match the central difference', () => {
      const W = randn([6, 5], rng, backend);
      const b = randn([5], rng, backend);
      const x = randn([3, 6], rng, backend);
      const g = randn([3, 5], rng, backend);
      const affine = new Affine(W, b);
      const loss = (): number => weightedSum(affine.forward(x), g);
      const [nx, nW, nb] = [numericalGradient(loss, x), numericalGradient(loss, W), numericalGradient(loss, b)];
      affine.forward(x);
      const gBefore = snapshot(g);
      const dx = affine.backward(g);
      assertClose(dx.data, nx.data, 1e-7, 'Affine dx');
      assertClose(affine.dW!.data, nW.data, 1e-7, 'Affine dW');
      assertClose(affine.db!.data, nb.data, 1e-7, 'Affine db');
      assert.deepEqual(snapshot(g), gBefore, 'backward must not modify dout');
    });

    it('Affine: input of any rank is flattened; dx gets the input shape back', () => {
      const W = randn([12, 4], rng, backend);
      const b = randn([4], rng, backend);
      const x = randn([2, 1, 3, 4], rng, backend);
      const g = randn([2, 4], rng, backend);
      const affine = new Affine(W, b);
      assert.deepEqual(affine.forward(x).shape, [2, 4]);
      const loss = (): number => weightedSum(affine.forward(x), g);
      const nx = numericalGradient(loss, x);
      affine.forward(x);
      const dx = affine.backward(g);
      assert.deepEqual(dx.shape, [2, 1, 3, 4]);
      assert.deepEqual(affine.dW!.shape, [12, 4]);
      assertClose(dx.data, nx.data, 1e-7, 'Affine 4-D dx');
    });

    it('Affine: the first layer can skip dx and still gives dW, db', () => {
      const affine = new Affine(randn([6, 5], rng, backend), randn([5], rng, backend));
      const x = randn([3, 6], rng, backend);
      const g = randn([3, 5], rng, backend);
      affine.forward(x);
      affine.backward(g);
      const dW = snapshot(affine.dW!);
      affine.forward(x);
      assert.equal(affine.backward(g, { inputGradient: false }), null);
      assert.deepEqual(snapshot(affine.dW!), dW);
    });

    it('Affine: a shape mismatch names the layer and both shapes', () => {
      const affine = new Affine(randn([784, 50], rng, backend), randn([50], rng, backend));
      assert.throws(() => affine.forward(randn([100, 783], rng, backend)), {
        name: 'ShapeError',
        message: 'Affine: input has 783 features but W expects 784 (x shape [100,783], W shape [784,50])',
      });
      assert.throws(() => new Affine(randn([4, 3], rng, backend), randn([4], rng, backend)), /Affine: b has 4 elements but W has 3 columns/);
      affine.forward(randn([2, 784], rng, backend));
      assert.throws(() => affine.backward(randn([2, 49], rng, backend)), /Affine: dout has shape \[2,49\] but the output was \[2,50\]/);
    });

    it('SoftmaxWithLoss: dx = (y − t)/N matches the central difference, for labels and one-hot', () => {
      const x = randn([4, 10], rng, backend);
      const labels = [3, 0, 9, 3];
      const onehot = Tensor.zeros([4, 10], { dtype: 'float64', backend });
      labels.forEach((k, i) => onehot.set(1, i, k));
      const layer = new SoftmaxWithLoss();
      // dx = (y − t)/N is the gradient of the unguarded loss −(1/N) Σ log y[n, t_n]; the book's
      // 1e-7 guard inside the log shifts the loss by ~1e-7/y, so differentiate the exact loss.
      const exactLoss = (): number => {
        let s = 0;
        for (let n = 0; n < 4; n++) {
          const row = Array.from(x.data.subarray(n * 10, n * 10 + 10));
          const m = Math.max(...row);
          s -= row[labels[n]] - m - Math.log(row.reduce((u, v) => u + Math.exp(v - m), 0));
        }
        return s / 4;
      };
      const numeric = numericalGradient(exactLoss, x);
      const lossLabels = layer.forward(x, labels);
      const dxLabels = snapshot(layer.backward());
      const lossOneHot = layer.forward(x, onehot);
      const dxOneHot = snapshot(layer.backward());
      assert.equal(lossLabels, lossOneHot);
      assert.deepEqual(dxLabels, dxOneHot);
      assertClose(dxLabels, numeric.data, 1e-8, 'SoftmaxWithLoss dx');
      // the loss itself carries the guard: −(1/N) Σ log(y + 1e-7)
      const probs = layer.y!.data;
      const guarded = -labels.reduce((s, k, n) => s + Math.log(probs[n * 10 + k] + 1e-7), 0) / 4;
      assert.ok(Math.abs(lossLabels - guarded) < 1e-15);
    });

    it('SoftmaxWithLoss: a 1-D input is one sample, a batch of one', () => {
      const x = randn([10], rng, backend);
      const layer = new SoftmaxWithLoss();
      const loss1 = layer.forward(x, 7);
      const dx1 = layer.backward();
      assert.deepEqual(dx1.shape, [10]);
      const loss2 = layer.forward(x.reshape([1, 10]), [7]);
      assert.equal(loss1, loss2);
      assert.deepEqual(snapshot(dx1), snapshot(layer.backward()));
      // a batch of one: dx sums to 0 and is not divided by 10
      const y7 = Math.exp(x.get(7)) / Array.from(x.data).reduce((s, v) => s + Math.exp(v), 0);
      assert.ok(Math.abs(dx1.get(7) - (y7 - 1)) < 1e-12);
    });

    it('SoftmaxWithLoss: bad targets get clear errors', () => {
      const layer = new SoftmaxWithLoss();
      const x = randn([3, 10], rng, backend);
      assert.throws(() => layer.forward(x, [1, 2]), /SoftmaxWithLoss: 2 labels for a batch of 3/);
      assert.throws(() => layer.forward(x, [1, 10, 2]), /SoftmaxWithLoss: label 10 at row 1 is outside 0..9/);
      assert.throws(() => layer.forward(x, [1, -1, 2]), /label -1 at row 1/);
      assert.throws(() => layer.forward(x, [1, 2.5, 2]), /label 2.5 at row 1/);
      const soft = Tensor.zeros([3, 10], { dtype: 'float64', backend });
      soft.set(1, 0, 0);
      soft.set(0.5, 1, 1);
      assert.throws(() => layer.forward(x, soft), /target row 1 is not one-hot/);
      assert.throws(() => layer.forward(x, Tensor.zeros([3, 9], { dtype: 'float64', backend })), /one-hot targets of shape \[3,9\]/);
      assert.throws(() => new SoftmaxWithLoss().backward(), /backward called before forward/);
    });
  });
}
