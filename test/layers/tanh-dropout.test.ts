import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/Tensor.js';
import { Tanh } from '../../src/layers/Tanh.js';
import { Dropout } from '../../src/layers/Dropout.js';
import { numericalGradient } from '../../src/functions/numericalGradient.js';
import { Random } from '../../src/random.js';
import { allBackends } from '../kernels/backends.js';
import { assertClose, randn, snapshot, weightedSum, meanAbsDiff } from '../helpers.js';

const backends = await allBackends();

for (const backend of backends) {
  const f64 = { dtype: 'float64' as const, backend };

  describe(`Tanh (backend ${backend.name})`, () => {
    it('backward matches the central difference (float64)', () => {
      const rng = new Random(21);
      const layer = new Tanh();
      const x = randn([4, 7], rng, backend);
      const g = randn([4, 7], rng, backend);
      const numeric = numericalGradient(() => weightedSum(layer.forward(x), g), x);
      const xBefore = snapshot(x);
      layer.forward(x);
      const gBefore = snapshot(g);
      const dx = layer.backward(g);
      assert.ok(meanAbsDiff(dx.data, numeric.data) < 1e-8, `mean difference ${meanAbsDiff(dx.data, numeric.data)}`);
      assertClose(dx.data, numeric.data, 1e-7, 'Tanh dx');
      assert.deepEqual(snapshot(g), gBefore, 'backward must not modify dout');
      assert.deepEqual(snapshot(x), xBefore, 'forward must not modify x');
    });

    it('y = tanh(x); dx = dout·(1 − y²); the output buffer is reused', () => {
      const t = new Tanh();
      const y = t.forward(Tensor.from([[0, 1, -2]], undefined, f64));
      assert.deepEqual(snapshot(y), [0, Math.tanh(1), Math.tanh(-2)]);
      const dx = t.backward(Tensor.from([[1, 2, 3]], undefined, f64));
      assert.deepEqual(snapshot(dx), [1, 2 * (1 - Math.tanh(1) ** 2), 3 * (1 - Math.tanh(-2) ** 2)]);
      assert.equal(t.forward(Tensor.from([[5, 6, 7]], undefined, f64)), y);
      assert.throws(() => new Tanh().backward(y), /Tanh: backward called before forward/);
      assert.throws(() => t.backward(Tensor.zeros([3], f64)), /Tanh.backward: dout has shape \[3\] but the output has shape \[1,3\]/);
    });
  });

  describe(`Dropout (backend ${backend.name})`, () => {
    it('training: the book\'s mask rand > ratio, out = x·mask, dx = dout·mask', () => {
      const x = randn([6, 5], new Random(1), backend);
      const dropout = new Dropout(0.3, new Random(9));
      const out = dropout.forward(x);
      const draws = new Random(9);
      const expectedMask = Array.from({ length: 30 }, () => (draws.next() > 0.3 ? 1 : 0));
      assert.deepEqual(snapshot(dropout.mask!), expectedMask);
      assert.deepEqual(snapshot(out), snapshot(x).map((v, i) => v * expectedMask[i]));
      const g = randn([6, 5], new Random(2), backend);
      assert.deepEqual(snapshot(dropout.backward(g)), snapshot(g).map((v, i) => v * expectedMask[i]));
    });

    it('keeps about 1 − ratio of the elements, with a new mask each pass; same seed, same masks', () => {
      const x = Tensor.zeros([100, 100], f64);
      x.data.fill(1);
      const a = new Dropout(0.2, new Random(4));
      const first = snapshot(a.forward(x));
      const kept = first.reduce((s, v) => s + v, 0) / first.length;
      assert.ok(Math.abs(kept - 0.8) < 0.02, `kept ${kept}`);
      const second = snapshot(a.forward(x));
      assert.notDeepEqual(second, first);
      const b = new Dropout(0.2, new Random(4));
      assert.deepEqual(snapshot(b.forward(x)), first);
      assert.deepEqual(snapshot(b.forward(x)), second);
    });

    it('inference: out = x·(1 − ratio), and no draws', () => {
      const rng = new Random(5);
      const dropout = new Dropout(0.5, rng);
      const x = randn([3, 4], new Random(6), backend);
      const before = rng.getState();
      const out = dropout.forward(x, false);
      assert.deepEqual(rng.getState(), before, 'inference draws nothing');
      assert.deepEqual(snapshot(out), snapshot(x).map((v) => v * 0.5));
      const g = randn([3, 4], new Random(7), backend);
      assert.deepEqual(snapshot(dropout.backward(g)), snapshot(g).map((v) => v * 0.5));
    });

    it('with a fixed mask, backward matches the central difference (float64)', () => {
      const rng = new Random(8);
      const x = randn([4, 6], rng, backend);
      const g = randn([4, 6], rng, backend);
      const mask = Tensor.zeros([4, 6], f64);
      mask.data.set(Array.from({ length: 24 }, () => (rng.next() > 0.5 ? 1 : 0)));
      const dropout = new Dropout(0.5, new Random(0));
      dropout.fixedMask = mask;
      const numeric = numericalGradient(() => weightedSum(dropout.forward(x), g), x);
      dropout.forward(x);
      const dx = dropout.backward(g);
      assert.ok(meanAbsDiff(dx.data, numeric.data) < 1e-8, `mean difference ${meanAbsDiff(dx.data, numeric.data)}`);
      assertClose(dx.data, numeric.data, 1e-7, 'Dropout dx');
      assert.equal(dropout.mask, mask);
    });

    it('bad input gets clear errors', () => {
      assert.throws(() => new Dropout(1), /Dropout: the ratio must be in \[0, 1\), got 1/);
      assert.throws(() => new Dropout(-0.1), /Dropout: the ratio must be in \[0, 1\), got -0.1/);
      const d = new Dropout(0.5, new Random(1));
      assert.throws(() => d.backward(Tensor.zeros([2], f64)), /Dropout: backward called before forward/);
      d.fixedMask = Tensor.zeros([2, 3], f64);
      assert.throws(() => d.forward(Tensor.zeros([3, 2], f64)), { name: 'ShapeError', message: 'Dropout: the fixed mask has shape [2,3] but the input has shape [3,2]' });
      d.fixedMask = null;
      d.forward(Tensor.zeros([3, 2], f64));
      assert.throws(() => d.backward(Tensor.zeros([2, 3], f64)), /Dropout: dout has shape \[2,3\] but the output was \[3,2\]/);
    });
  });
}
