import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/Tensor.js';
import { BatchNormalization } from '../../src/layers/BatchNormalization.js';
import { numericalGradient } from '../../src/functions/numericalGradient.js';
import { Random } from '../../src/random.js';
import type { Backend } from '../../src/kernels/Backend.js';
import { allBackends } from '../kernels/backends.js';
import { assertClose, randn, snapshot, weightedSum, meanAbsDiff } from '../helpers.js';

const backends = await allBackends();

/** γ around 1 and β around 0, D elements, float64. */
function gammaBeta(d: number, rng: Random, backend: Backend): [Tensor, Tensor] {
  const gamma = randn([d], rng, backend);
  const beta = randn([d], rng, backend);
  for (let i = 0; i < d; i++) gamma.data[i] = 1 + 0.3 * gamma.data[i];
  return [gamma, beta];
}

/**
 * The book's BatchNormalization (common/layers.py), forward in training and backward,
 * transcribed line by line on plain arrays: the independent reference.
 */
function bookBatchNorm(x: number[][], gamma: number[], beta: number[], dout: number[][]) {
  const N = x.length;
  const D = x[0].length;
  const col = (f: (j: number) => number): number[] => Array.from({ length: D }, (_, j) => f(j));
  const sumAxis0 = (a: number[][]): number[] => col((j) => a.reduce((s, r) => s + r[j], 0));
  const map2 = (f: (i: number, j: number) => number): number[][] => x.map((r, i) => r.map((_, j) => f(i, j)));
  const mu = sumAxis0(x).map((s) => s / N);
  const xc = map2((i, j) => x[i][j] - mu[j]);
  const variance = sumAxis0(xc.map((r) => r.map((v) => v ** 2))).map((s) => s / N);
  const std = variance.map((v) => Math.sqrt(v + 10e-7));
  const xn = map2((i, j) => xc[i][j] / std[j]);
  const out = map2((i, j) => gamma[j] * xn[i][j] + beta[j]);
  const dbeta = sumAxis0(dout);
  const dgamma = sumAxis0(map2((i, j) => xn[i][j] * dout[i][j]));
  const dxn = map2((i, j) => gamma[j] * dout[i][j]);
  const dxc = map2((i, j) => dxn[i][j] / std[j]);
  const dstd = sumAxis0(map2((i, j) => (dxn[i][j] * xc[i][j]) / (std[j] * std[j]))).map((v) => -v);
  const dvar = dstd.map((v, j) => (0.5 * v) / std[j]);
  for (let i = 0; i < N; i++) for (let j = 0; j < D; j++) dxc[i][j] += (2.0 / N) * xc[i][j] * dvar[j];
  const dmu = sumAxis0(dxc);
  const dx = map2((i, j) => dxc[i][j] - dmu[j] / N);
  return { mu, variance, out, dx, dgamma, dbeta };
}

function rows(t: Tensor): number[][] {
  const [n, d] = [t.shape[0], t.size / t.shape[0]];
  const v = snapshot(t);
  return Array.from({ length: n }, (_, i) => v.slice(i * d, (i + 1) * d));
}

for (const backend of backends) {
  describe(`BatchNormalization (backend ${backend.name})`, () => {
    const f64 = { dtype: 'float64' as const, backend };

    for (const shape of [[5, 4], [3, 2, 2, 3]]) {
      it(`dx, dgamma and dbeta match the central difference on ${shape.length}-D input ${JSON.stringify(shape)} (float64)`, () => {
        const rng = new Random(shape.length);
        const d = shape.slice(1).reduce((a, b) => a * b, 1);
        const [gamma, beta] = gammaBeta(d, rng, backend);
        const bn = new BatchNormalization(gamma, beta);
        const x = randn(shape, rng, backend);
        for (let i = 0; i < x.size; i++) x.data[i] = 2 + 3 * x.data[i]; // not already normalized
        const g = randn(shape, rng, backend);
        const loss = (): number => weightedSum(bn.forward(x, true), g);
        const [nx, ngamma, nbeta] = [numericalGradient(loss, x), numericalGradient(loss, gamma), numericalGradient(loss, beta)];
        const xBefore = snapshot(x);
        const out = bn.forward(x, true);
        assert.deepEqual(out.shape, shape);
        const gBefore = snapshot(g);
        const dx = bn.backward(g);
        assert.deepEqual(dx.shape, shape);
        for (const [what, a, b] of [['dx', dx, nx], ['dgamma', bn.dgamma!, ngamma], ['dbeta', bn.dbeta!, nbeta]] as const) {
          assert.ok(meanAbsDiff(a.data, b.data) < 1e-8, `${what}: mean difference ${meanAbsDiff(a.data, b.data)}`);
          assertClose(a.data, b.data, 1e-6, `BatchNormalization ${what}`);
        }
        assert.deepEqual(snapshot(x), xBefore, 'forward must not modify x');
        assert.deepEqual(snapshot(g), gBefore, 'backward must not modify dout');
      });
    }

    it('forward and backward equal the book\'s line-by-line layer', () => {
      const rng = new Random(7);
      const [gamma, beta] = gammaBeta(3, rng, backend);
      const x = randn([6, 3], rng, backend);
      const g = randn([6, 3], rng, backend);
      const book = bookBatchNorm(rows(x), snapshot(gamma), snapshot(beta), rows(g));
      const bn = new BatchNormalization(gamma, beta);
      assertClose(snapshot(bn.forward(x)), book.out.flat(), 1e-13, 'out');
      assertClose(snapshot(bn.backward(g)), book.dx.flat(), 1e-12, 'dx');
      assertClose(snapshot(bn.dgamma!), book.dgamma, 1e-13, 'dgamma');
      assertClose(snapshot(bn.dbeta!), book.dbeta, 1e-13, 'dbeta');
      // the running statistics after one pass: 0.9·0 + 0.1·batch
      assertClose(snapshot(bn.runningMean), book.mu.map((m) => 0.1 * m), 1e-15, 'runningMean');
      assertClose(snapshot(bn.runningVar), book.variance.map((v) => 0.1 * v), 1e-15, 'runningVar');
    });

    it('training normalizes each feature over the batch: mean 0, variance var/(var + 1e-6)', () => {
      const rng = new Random(8);
      const x = randn([50, 4], rng, backend);
      const ones = Tensor.from([1, 1, 1, 1], undefined, f64);
      const bn = new BatchNormalization(ones, Tensor.zeros([4], f64));
      assert.equal(bn.eps, 1e-6);
      assert.equal(bn.momentum, 0.9);
      const out = rows(bn.forward(x));
      for (let j = 0; j < 4; j++) {
        const colv = out.map((r) => r[j]);
        const mean = colv.reduce((s, v) => s + v, 0) / 50;
        const variance = colv.reduce((s, v) => s + (v - mean) ** 2, 0) / 50;
        assert.ok(Math.abs(mean) < 1e-12, `mean ${mean}`);
        assert.ok(Math.abs(variance - 1) < 1e-4, `variance ${variance}`);
      }
    });

    it('running statistics follow momentum·running + (1 − momentum)·batch; inference uses them', () => {
      const rng = new Random(9);
      const [gamma, beta] = gammaBeta(3, rng, backend);
      const runningMean = Tensor.from([1, 2, 3], undefined, f64);
      const runningVar = Tensor.from([4, 5, 6], undefined, f64);
      const bn = new BatchNormalization(gamma, beta, 0.8, runningMean, runningVar);
      assert.equal(bn.runningMean, runningMean);
      const x = randn([10, 3], rng, backend);
      const book = bookBatchNorm(rows(x), snapshot(gamma), snapshot(beta), rows(x));
      bn.forward(x, true);
      assertClose(snapshot(runningMean), [1, 2, 3].map((m, j) => 0.8 * m + 0.2 * book.mu[j]), 1e-15, 'runningMean');
      assertClose(snapshot(runningVar), [4, 5, 6].map((v, j) => 0.8 * v + 0.2 * book.variance[j]), 1e-15, 'runningVar');

      const meanBefore = snapshot(runningMean);
      const xi = randn([2, 3], rng, backend);
      const out = snapshot(bn.forward(xi, false));
      assert.deepEqual(snapshot(runningMean), meanBefore, 'inference leaves the running statistics alone');
      const [gm, bt, rm, rv, xs] = [snapshot(gamma), snapshot(beta), snapshot(runningMean), snapshot(runningVar), snapshot(xi)];
      const expected = xs.map((v, k) => gm[k % 3] * ((v - rm[k % 3]) / Math.sqrt(rv[k % 3] + 10e-7)) + bt[k % 3]);
      assertClose(out, expected, 1e-14, 'inference output');
      // inference: each row on its own, so a batch of one works and rows do not interact
      const single = snapshot(bn.forward(Tensor.from(xs.slice(0, 3), [1, 3], f64), false));
      assertClose(single, expected.slice(0, 3), 1e-14, 'row 0');

      // backward after inference: the statistics are constants, dx = γ/std · dout
      const g = randn([2, 3], rng, backend);
      const loss = (): number => weightedSum(bn.forward(xi, false), g);
      const nx = numericalGradient(loss, xi);
      bn.forward(xi, false);
      assertClose(snapshot(bn.backward(g)), snapshot(nx), 1e-7, 'inference dx');
    });

    it('bad input gets clear errors', () => {
      const g = Tensor.from([1, 1, 1], undefined, f64);
      const b = Tensor.zeros([3], f64);
      assert.throws(() => new BatchNormalization(g, Tensor.zeros([4], f64)), /BatchNormalization: beta has 4 elements but gamma has 3/);
      assert.throws(() => new BatchNormalization(g, b, 1.5), /BatchNormalization: momentum must be in \[0, 1\], got 1.5/);
      assert.throws(() => new BatchNormalization(g, b, 0.9, Tensor.zeros([2], f64)), /BatchNormalization: runningMean has 2 elements but gamma has 3/);
      const bn = new BatchNormalization(g, b);
      assert.throws(() => bn.backward(Tensor.zeros([2, 3], f64)), /BatchNormalization: backward called before forward/);
      assert.throws(() => bn.forward(Tensor.zeros([2, 4], f64)), {
        name: 'ShapeError',
        message: 'BatchNormalization: input has 4 features per row but gamma has 3 (x shape [2,4], gamma shape [3])',
      });
      assert.throws(() => bn.forward(Tensor.zeros([3], f64)), /BatchNormalization: input has fewer than 2 dimensions but gamma has 3/);
      bn.forward(Tensor.zeros([2, 3], f64));
      assert.throws(() => bn.backward(Tensor.zeros([3, 3], f64)), /BatchNormalization: dout has shape \[3,3\] but the output was \[2,3\]/);
    });
  });
}
