import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/Tensor.js';
import { argmaxRows } from '../../src/tensor/ops.js';
import { mul, dotColumns } from '../../src/tensor/elementwise.js';
import { Sequential, type SequentialLayer } from '../../src/nets/Sequential.js';
import { MultiLayerNet } from '../../src/nets/MultiLayerNet.js';
import { Affine } from '../../src/layers/Affine.js';
import { Relu } from '../../src/layers/Relu.js';
import { Sigmoid } from '../../src/layers/Sigmoid.js';
import { Tanh } from '../../src/layers/Tanh.js';
import { Dropout } from '../../src/layers/Dropout.js';
import { BatchNormalization } from '../../src/layers/BatchNormalization.js';
import { initWeight } from '../../src/layers/init.js';
import { Random } from '../../src/random.js';
import type { Backend } from '../../src/kernels/Backend.js';
import { allBackends } from '../kernels/backends.js';
import { assertClose, randn, snapshot, meanAbsDiff } from '../helpers.js';

const backends = await allBackends();

/** A layer with a parameter of its own name, `k` (out = x · k per column), found through `paramNames`. */
class ColumnScale implements SequentialLayer {
  readonly paramNames = ['k'] as const;
  dk: Tensor | null = null;
  private x: Tensor | null = null;
  private out: Tensor | null = null;
  private dx: Tensor | null = null;
  private kRows: Tensor | null = null;
  constructor(public k: Tensor) {}
  private broadcast(n: number): Tensor {
    this.kRows ??= Tensor.zeros([n, this.k.size], { dtype: this.k.dtype, backend: this.k.backend });
    for (let i = 0; i < n; i++) this.kRows.data.set(this.k.data, i * this.k.size);
    return this.kRows;
  }
  forward(x: Tensor): Tensor {
    this.x = x;
    this.out = mul(x, this.broadcast(x.shape[0]), this.out);
    return this.out;
  }
  backward(dout: Tensor): Tensor {
    this.dk = dotColumns(this.x!, dout, this.dk); // dk = Σ x · dout
    this.dx = mul(dout, this.broadcast(dout.shape[0]), this.dx);
    return this.dx;
  }
}

function ones(n: number, backend: Backend): Tensor {
  const t = Tensor.zeros([n], { dtype: 'float64', backend });
  t.data.fill(1);
  return t;
}

function checkGradients(net: Sequential, x: Tensor, t: number[]): void {
  const numeric = net.numericalGradient(x, t);
  const grads = net.gradient(x, t);
  for (const key of Object.keys(net.params)) {
    assert.ok(meanAbsDiff(grads[key].data, numeric[key].data) < 1e-6, key);
    assertClose(grads[key].data, numeric[key].data, 1e-5, key);
  }
}

for (const backend of backends) {
  describe(`Sequential (backend ${backend.name})`, () => {
    const f64 = { dtype: 'float64' as const, backend };

    const mixed = (rng: Random): SequentialLayer[] => [
      new Affine(initWeight([6, 5], 'he', rng, f64), Tensor.zeros([5], f64)),
      new BatchNormalization(ones(5, backend), Tensor.zeros([5], f64)),
      new Relu(),
      new Dropout(0.2, rng),
      new Affine(initWeight([5, 4], 'xavier', rng, f64), Tensor.zeros([4], f64)),
      new Tanh(),
      new Affine(initWeight([4, 3], 'xavier', rng, f64), Tensor.zeros([3], f64)),
    ];

    it('names parameters, buffers and generators the book\'s way, or by layer index', () => {
      const book = new Sequential(mixed(new Random(1)));
      assert.deepEqual(Object.keys(book.params), ['W1', 'b1', 'gamma1', 'beta1', 'W2', 'b2', 'W3', 'b3']);
      assert.deepEqual(Object.keys(book.buffers), ['runningMean1', 'runningVar1']);
      assert.deepEqual(Object.keys(book.getState().random), ['rng1']);
      assert.equal(book.params.W2, (book.layers[4] as Affine).W);
      const index = new Sequential(mixed(new Random(1)), { names: 'index' });
      assert.deepEqual(Object.keys(index.params), ['0.W', '0.b', '1.gamma', '1.beta', '4.W', '4.b', '6.W', '6.b']);
      assert.deepEqual(Object.keys(index.buffers), ['1.runningMean', '1.runningVar']);
      assert.deepEqual(Object.keys(index.getState().random), ['3.rng']);
      const custom = new Sequential([new ColumnScale(ones(3, backend)), new Affine(initWeight([3, 2], 0.1, new Random(0), f64), Tensor.zeros([2], f64))]);
      assert.deepEqual(Object.keys(custom.params), ['k1', 'W1', 'b1']);
    });

    it('gradient check (float64): Affine, BatchNormalization, Relu, Dropout (fixed mask), Tanh, weight decay', () => {
      const rng = new Random(2);
      const layers = mixed(rng);
      const dropout = layers[3] as Dropout;
      dropout.fixedMask = Tensor.zeros([4, 5], f64);
      dropout.fixedMask.data.set([1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1]);
      const net = new Sequential(layers, { weightDecayLambda: 0.05 });
      const x = randn([4, 6], rng, backend);
      const runningMean = snapshot(net.buffers.runningMean1);
      net.numericalGradient(x, [0, 1, 2, 1]);
      assert.deepEqual(snapshot(net.buffers.runningMean1), runningMean, 'numericalGradient puts the running statistics back');
      checkGradients(net, x, [0, 1, 2, 1]);
    });

    it('gradient check (float64) on 4-D input: BatchNormalization over C·H·W features, then Affine flattens', () => {
      const rng = new Random(3);
      const net = new Sequential([
        new BatchNormalization(ones(12, backend), Tensor.zeros([12], f64)),
        new Sigmoid(),
        new Affine(initWeight([12, 5], 'xavier', rng, f64), Tensor.zeros([5], f64)),
        new Tanh(),
        new Affine(initWeight([5, 3], 'xavier', rng, f64), Tensor.zeros([3], f64)),
      ]);
      const x = randn([5, 2, 2, 3], rng, backend);
      assert.deepEqual(net.predict(x).shape, [5, 3]);
      checkGradients(net, x, [0, 1, 2, 1, 0]);
    });

    it('gradient check (float64) with a custom layer that names its own parameter', () => {
      const rng = new Random(4);
      const k = randn([4], rng, backend);
      const net = new Sequential([new Affine(initWeight([3, 4], 0.5, rng, f64), Tensor.zeros([4], f64)), new ColumnScale(k), new Tanh(), new Affine(initWeight([4, 2], 0.5, rng, f64), Tensor.zeros([2], f64))]);
      checkGradients(net, randn([3, 3], rng, backend), [1, 0, 1]);
      assert.equal(net.gradient(randn([3, 3], rng, backend), [0, 0, 1]).k1, (net.layers[1] as ColumnScale).dk);
    });

    it('backward stops at the first layer with parameters, whose input gradient is skipped', () => {
      const calls: string[] = [];
      const spy = new Relu();
      const origBackward = spy.backward.bind(spy);
      spy.backward = (dout: Tensor) => {
        calls.push('leading relu');
        return origBackward(dout);
      };
      const affine = new Affine(initWeight([3, 2], 0.5, new Random(0), f64), Tensor.zeros([2], f64));
      const net = new Sequential([spy, affine]);
      net.gradient(randn([2, 3], new Random(1), backend), [0, 1]);
      assert.deepEqual(calls, [], 'layers before the first parameter layer need no backward');
      assert.ok(affine.dW);
    });

    it('loss(x, t) defaults to inference (the book\'s train_flg=False); loss(x, t, true) is the training pass', () => {
      const rng = new Random(12);
      const net = new Sequential(mixed(rng));
      const x = randn([4, 6], rng, backend);
      const t = [2, 0, 1, 1];
      net.gradient(x, t);
      const before = net.getState();
      // the cross-entropy of the inference scores, written out: −Σ log(softmax(y)[t] + 1e-7) / N
      const y = snapshot(net.predict(x, false));
      const expected = -t.reduce((s, label, r) => {
        const row = y.slice(r * 3, r * 3 + 3);
        const sum = row.reduce((a, v) => a + Math.exp(v), 0);
        return s + Math.log(Math.exp(row[label]) / sum + 1e-7);
      }, 0) / t.length;
      const loss = net.loss(x, t);
      assert.ok(Math.abs(loss - expected) < 1e-12, `loss ${loss}, by hand ${expected}`);
      assert.equal(net.lastLoss, loss);
      const after = net.getState();
      assert.deepEqual(after.random, before.random, 'no dropout mask drawn');
      for (const k of Object.keys(before.buffers)) assert.deepEqual(snapshot(after.buffers[k]), snapshot(before.buffers[k]), `${k} unchanged`);
      net.loss(x, t, true);
      assert.notDeepEqual(net.getState().random, before.random, 'training draws masks');
      assert.notDeepEqual(snapshot(net.buffers.runningMean1), snapshot(before.buffers.runningMean1), 'training moves the running mean');
    });

    it('matches a MultiLayerNet built from the same draws', () => {
      const net = new MultiLayerNet(6, [5], 3, { seed: 7, dtype: 'float64', backend, useBatchnorm: true, activation: 'tanh' });
      const rng = new Random(7);
      const seq = new Sequential([
        new Affine(initWeight([6, 5], 'relu', rng, f64), Tensor.zeros([5], f64)),
        new BatchNormalization(ones(5, backend), Tensor.zeros([5], f64)),
        new Tanh(),
        new Affine(initWeight([5, 3], 'relu', rng, f64), Tensor.zeros([3], f64)),
      ]);
      const x = randn([4, 6], rng, backend);
      assert.deepEqual(Object.keys(seq.params), Object.keys(net.params));
      assert.equal(seq.loss(x, [0, 1, 2, 0]), net.loss(x, [0, 1, 2, 0]));
      const [a, b] = [seq.gradient(x, [0, 1, 2, 0]), net.gradient(x, [0, 1, 2, 0])];
      for (const key of Object.keys(a)) assert.deepEqual(snapshot(a[key]), snapshot(b[key]), key);
    });

    it('accuracy counts rows over many evaluation chunks, in inference mode, with labels or one-hot targets', () => {
      const rng = new Random(5);
      const net = new Sequential([new Affine(initWeight([4, 3], 1, rng, { backend }), Tensor.zeros([3], { backend })), new Dropout(0.5, rng)]);
      const x = randn([2500, 4], rng, backend).clone({ dtype: 'float32' });
      const labels = Int32Array.from({ length: 2500 }, () => rng.int(3));
      const predicted = argmaxRows(net.predict(x, false));
      const expected = predicted.reduce((s, p, i) => s + (p === labels[i] ? 1 : 0), 0) / 2500;
      const before = rng.getState();
      assert.equal(net.accuracy(x, labels), expected);
      assert.deepEqual(rng.getState(), before, 'no dropout masks were drawn');
      const oneHot = Tensor.zeros([2500, 3], { backend });
      labels.forEach((k, i) => oneHot.set(1, i, k));
      assert.equal(net.accuracy(x, oneHot), expected);
      assert.throws(() => net.accuracy(Tensor.zeros([0, 4], { backend }), []), /accuracy: expected a batch of at least one row, got shape \[0,4\]/);
      assert.throws(() => net.accuracy(x, [1, 2]), /accuracy: 2 labels for a batch of 2500/);
    });

    it('bad layers and options get clear errors', () => {
      assert.throws(() => new Sequential([]), /Sequential: give at least one layer/);
      assert.throws(() => new Sequential([new Relu()], { weightDecayLambda: NaN }), /Sequential: weightDecayLambda must be a finite number ≥ 0, got NaN/);
      assert.throws(() => new Sequential([new Relu()], { names: 'torch' as 'book' }), /Sequential: names must be 'book' or 'index', got 'torch'/);
      const bad = Object.assign(new Relu(), { paramNames: ['kernel'] });
      assert.throws(() => new Sequential([bad]), { name: 'TypeError', message: "Sequential: layer 0 (Relu) lists the parameter 'kernel' but has no tensor there" });
      const noGrad = Object.assign(new Relu(), { k: ones(2, backend), paramNames: ['k'] });
      assert.throws(() => new Sequential([noGrad]).gradient(randn([1, 2], new Random(0), backend), [0]), /Sequential: layer 0 \(Relu\) has no gradient dk after backward/);
    });
  });
}
