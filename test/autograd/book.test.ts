/**
 * Chapter 5, proven by code: each of the book's hand-written layers equals its autograd graph
 * on the same inputs, and TwoLayerNet written with autograd trains to the same losses.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/Tensor.js';
import { Random } from '../../src/random.js';
import { Affine } from '../../src/layers/Affine.js';
import { Sigmoid } from '../../src/layers/Sigmoid.js';
import { SoftmaxWithLoss } from '../../src/layers/SoftmaxWithLoss.js';
import { Convolution } from '../../src/layers/Convolution.js';
import { Pooling } from '../../src/layers/Pooling.js';
import { BatchNormalization } from '../../src/layers/BatchNormalization.js';
import { Dropout } from '../../src/layers/Dropout.js';
import { TwoLayerNet } from '../../src/nets/TwoLayerNet.js';
import { AutogradTwoLayerNet } from '../../src/nets/AutogradTwoLayerNet.js';
import { F, Variable } from '../../src/autograd/index.js';
import { SGD } from '../../src/optimizers/SGD.js';
import { axpyInto, gatherRows } from '../../src/tensor/ops.js';
import { loadBundledDigits } from '../../src/data/bundledDigits.js';
import { toLabeledData } from '../../src/data/dataset.js';
import { allBackends } from '../kernels/backends.js';
import { assertClose, randn } from '../helpers.js';

const backends = await allBackends();
const digits = loadBundledDigits();
/** Backward from a given output gradient: the layer's dout. */
const backwardFrom = (y: Variable, dout: Tensor): void => {
  y.grad = new Variable(dout);
  y.backward();
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

for (const backend of backends) {
  describe(`the book's layers equal their autograd graphs (backend ${backend.name})`, () => {
    it('Affine ≡ matmul + a broadcast add; db is the sum over the rows', () => {
      const rng = new Random(1);
      const [x, W, b, dout] = [randn([4, 3], rng, backend), randn([3, 2], rng, backend), randn([2], rng, backend), randn([4, 2], rng, backend)];
      const affine = new Affine(W, b);
      const out = affine.forward(x);
      const dx = affine.backward(dout);
      const [xv, Wv, bv] = [new Variable(x), new Variable(W), new Variable(b)];
      const y = F.add(F.matmul(xv, Wv), bv); // fig. 5-25: X · W, then + B broadcast over the rows
      backwardFrom(y, dout);
      assert.deepEqual(Array.from(y.data.data), Array.from(out.data));
      assertClose(xv.grad!.data.data, dx.data, 1e-15, 'dx = dout · Wᵀ');
      assertClose(Wv.grad!.data.data, affine.dW!.data, 1e-15, 'dW = xᵀ · dout');
      assertClose(bv.grad!.data.data, affine.db!.data, 1e-15, 'db = Σ_rows dout');
      const sums = [0, 1].map((j) => [0, 1, 2, 3].reduce((s, i) => s + dout.get(i, j), 0)); // written out
      assertClose(bv.grad!.data.data, sums, 1e-15, 'db by hand');
    });

    it('Sigmoid\'s fused rule ≡ the graph of fig. 5-19: ×(−1), exp, +1, /', () => {
      const rng = new Random(2);
      const [x, dout] = [randn([3, 4], rng, backend), randn([3, 4], rng, backend)];
      const layer = new Sigmoid();
      const out = layer.forward(x);
      const dx = layer.backward(dout);
      const xv = new Variable(x);
      const y = F.div(1, F.add(F.exp(F.mul(xv, -1)), 1));
      backwardFrom(y, dout);
      assertClose(y.data.data, out.data, 1e-15, 'y = 1 / (1 + exp(−x))');
      assertClose(xv.grad!.data.data, dx.data, 1e-14, 'dx = dout · y(1 − y)');
    });

    it('SoftmaxWithLoss ≡ the graph of appendix A (exp, Σ, /, log, ×t, Σ, ×(−1/N)), giving (y − t)/N', () => {
      const rng = new Random(3);
      const scores = randn([5, 4], rng, backend);
      const labels = [0, 3, 1, 1, 2];
      const t = Tensor.zeros([5, 4], { dtype: 'float64', backend });
      labels.forEach((l, i) => t.set(1, i, l));
      const layer = new SoftmaxWithLoss();
      const loss = layer.forward(scores, labels);
      const dx = layer.backward();
      const a = new Variable(scores);
      const e = F.exp(a);
      const y = F.div(e, F.sum(e, 1, true));
      const L = F.mul(F.sum(F.mul(t, F.log(y))), -1 / 5);
      L.backward();
      // the book's loss has log(y + 1e-7): the two differ by at most mean(1e-7 / y_t)
      const bound = labels.reduce((s, l, i) => s + 1e-7 / y.data.get(i, l), 0) / 5;
      assert.ok(Math.abs(L.data.data[0] - loss) <= bound, `loss ${L.data.data[0]} vs ${loss}: more than ${bound} apart`);
      assertClose(a.grad!.data.data, dx.data, 1e-15, 'dx = (y − t) / N');
      const fused = new Variable(scores);
      const L2 = F.softmaxCrossEntropy(fused, labels);
      L2.backward();
      assert.equal(L2.data.data[0], loss, 'softmaxCrossEntropy is the book\'s loss exactly');
      assert.deepEqual(Array.from(fused.grad!.data.data), Array.from(dx.data));
    });

    it('chapters 6-7: Convolution ≡ conv2d, Pooling ≡ pooling, BatchNormalization ≡ batchNorm, Dropout ≡ dropout', () => {
      const rng = new Random(4);
      const x = randn([2, 3, 6, 6], rng, backend), W = randn([4, 3, 3, 3], rng, backend), b = randn([4], rng, backend);
      const conv = new Convolution(W, b, 1, 1);
      const out = conv.forward(x);
      const dout = randn(out.shape as number[], rng, backend);
      const dx = conv.backward(dout);
      const [xv, Wv, bv] = [new Variable(x), new Variable(W), new Variable(b)];
      const y = F.conv2d(xv, Wv, bv, 1, 1);
      backwardFrom(y, dout);
      assertClose(y.data.data, out.data, 1e-13, 'conv forward');
      assertClose(xv.grad!.data.data, dx.data, 1e-13, 'conv dx');
      assertClose(Wv.grad!.data.data, conv.dW!.data, 1e-13, 'conv dW');
      assertClose(bv.grad!.data.data, conv.db!.data, 1e-13, 'conv db');

      const pool = new Pooling(2, 2, 2);
      const p = pool.forward(x);
      const dp = randn(p.shape as number[], rng, backend);
      const pdx = pool.backward(dp);
      const xp = new Variable(x);
      const yp = F.pooling(xp, 2, 2, 2);
      backwardFrom(yp, dp);
      assert.deepEqual(Array.from(yp.data.data), Array.from(p.data));
      assert.deepEqual(Array.from(xp.grad!.data.data), Array.from(pdx.data));

      const h = randn([5, 4], rng, backend), gamma = randn([4], rng, backend), beta = randn([4], rng, backend);
      const bn = new BatchNormalization(gamma.clone(), beta.clone());
      const bnOut = bn.forward(h);
      const dbn = randn([5, 4], rng, backend);
      const bnDx = bn.backward(dbn);
      const [hv, gv, betav] = [new Variable(h), new Variable(gamma), new Variable(beta)];
      const runningMean = Tensor.zeros([4], { dtype: 'float64', backend }), runningVar = Tensor.zeros([4], { dtype: 'float64', backend });
      const yb = F.batchNorm(hv, gv, betav, { runningMean, runningVar });
      backwardFrom(yb, dbn);
      assertClose(yb.data.data, bnOut.data, 1e-12, 'batchNorm forward');
      assertClose(hv.grad!.data.data, bnDx.data, 1e-10, 'batchNorm dx');
      assertClose(gv.grad!.data.data, bn.dgamma!.data, 1e-12, 'batchNorm dγ');
      assertClose(betav.grad!.data.data, bn.dbeta!.data, 1e-12, 'batchNorm dβ');
      assertClose(runningMean.data, bn.runningMean.data, 1e-15, 'running mean');
      assertClose(runningVar.data, bn.runningVar.data, 1e-15, 'running variance');
      const inference = F.batchNorm(h, gamma, beta, { train: false, runningMean, runningVar });
      assertClose(inference.data.data, bn.forward(h, false).data, 1e-12, 'batchNorm inference');

      const drop = new Dropout(0.3, new Random(9));
      const dOut = drop.forward(h);
      const dv = new Variable(h);
      const yd = F.dropout(dv, 0.3, { rng: new Random(9) });
      F.sum(F.mul(yd, dbn)).backward();
      assert.deepEqual(Array.from(yd.data.data), Array.from(dOut.data));
      assert.deepEqual(Array.from(dv.grad!.data.data), Array.from(drop.backward(dbn).data));
      assert.deepEqual(F.dropout(h, 0.3, { train: false }).data.toArray(), drop.forward(h, false).toArray());
    });

    it('TwoLayerNet written with autograd matches TwoLayerNet\'s loss at each of 100 float64 steps (same weights, same batches)', () => {
      const data = toLabeledData(digits.train, { dtype: 'float64', backend });
      const book = new TwoLayerNet(784, 50, 10, 0.01, { seed: 0, dtype: 'float64', backend });
      const auto = new AutogradTwoLayerNet(784, 50, 10, { params: book.params });
      const sgd = new SGD({ lr: 0.1 });
      const rng = new Random(7);
      const index = new Int32Array(100);
      const tBatch = new Int32Array(100);
      let worst = 0;
      for (let step = 0; step < 100; step++) {
        rng.choice(data.x.shape[0], 100, index);
        const x = gatherRows(data.x, index);
        for (let j = 0; j < 100; j++) tBatch[j] = data.labels[index[j]];
        const grads = book.gradient(x, tBatch);
        const bookLoss = book.lastLayer.loss!;
        for (const key of TwoLayerNet.paramNames) axpyInto(-0.1, grads[key], book.params[key]);
        auto.cleargrads();
        const loss = auto.loss(x, tBatch);
        loss.backward();
        sgd.update(auto.paramTensors(), auto.gradTensors());
        worst = Math.max(worst, Math.abs(loss.data.data[0] - bookLoss));
        assert.ok(worst <= 1e-12, `step ${step}: autograd loss ${loss.data.data[0]}, TwoLayerNet ${bookLoss}`);
      }
      assert.ok(maxDiff(auto.params().W1.data.data, book.params.W1.data) <= 1e-12, 'W1 after 100 steps');
    });
  });
}
