/**
 * The op table (tinygrad style): every autograd operation's backward against central
 * differences (h = 1e-4, float64), on random shapes with broadcasting, size-1 axes, 0-D and
 * 3-D/4-D inputs, on every backend. Each row is an op, a function of its inputs, the input
 * shapes and (where the op needs them) how to draw the inputs; the loss is Σ out ⊙ R for a
 * fixed random R, so every output element's gradient is checked. Then the same for the
 * second order (backward with createGraph, differentiated again), against central differences
 * of the first-order gradient.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/kernels/Backend.js';
import { Tensor } from '../../src/tensor/Tensor.js';
import { Random } from '../../src/random.js';
import { Variable, Parameter, F, noGrad } from '../../src/autograd/index.js';
import { addBias, matmul } from '../../src/tensor/ops.js';
import { allBackends } from '../kernels/backends.js';

/** How an input's values are drawn: normal, positive (log, pow 0.5, denominators), or away from 0 (relu's kink). */
type Draw = 'normal' | 'positive' | 'nonzero';

interface Case {
  op: string;
  fn: (...xs: Variable[]) => Variable;
  shapes: number[][][];
  draw?: Draw[];
  /** Absolute + relative tolerance of the comparison (1e-6 unless stated). */
  tol?: number;
  /** The op's backward runs on tensors only (no createGraph): the second-order check expects its error instead. */
  firstOrderOnly?: boolean;
}

const rowsOf = (labels: number[]) => labels;
const BINARY_SHAPES = [[[2, 3], [2, 3]], [[2, 3], [3]], [[4, 1], [1, 5]], [[2, 1, 3], [3]], [[2, 3, 1, 2], [1, 3, 4, 1]], [[], [2, 2]], [[1], [3]]];
const UNARY_SHAPES = [[[5]], [[2, 3]], [[2, 1, 3]], [[2, 2, 1, 3]], [[]]];
const rng5 = () => new Random(5);

export const CASES: Case[] = [
  { op: 'add', fn: (a, b) => F.add(a, b), shapes: BINARY_SHAPES },
  { op: 'sub', fn: (a, b) => F.sub(a, b), shapes: BINARY_SHAPES },
  { op: 'mul', fn: (a, b) => F.mul(a, b), shapes: BINARY_SHAPES },
  { op: 'div', fn: (a, b) => F.div(a, b), shapes: BINARY_SHAPES, draw: ['normal', 'positive'] },
  { op: 'add (number)', fn: (a) => F.add(F.mul(2, a), 1), shapes: UNARY_SHAPES },
  { op: 'neg', fn: (a) => F.neg(a), shapes: UNARY_SHAPES },
  { op: 'pow 3', fn: (a) => F.pow(a, 3), shapes: UNARY_SHAPES },
  { op: 'pow 0.5', fn: (a) => F.pow(a, 0.5), shapes: UNARY_SHAPES, draw: ['positive'] },
  { op: 'exp', fn: (a) => F.exp(a), shapes: UNARY_SHAPES },
  { op: 'log', fn: (a) => F.log(a), shapes: UNARY_SHAPES, draw: ['positive'] },
  { op: 'sin', fn: (a) => F.sin(a), shapes: UNARY_SHAPES },
  { op: 'cos', fn: (a) => F.cos(a), shapes: UNARY_SHAPES },
  { op: 'tanh', fn: (a) => F.tanh(a), shapes: UNARY_SHAPES },
  { op: 'sigmoid', fn: (a) => F.sigmoid(a), shapes: UNARY_SHAPES },
  { op: 'relu', fn: (a) => F.relu(a), shapes: UNARY_SHAPES, draw: ['nonzero'] },
  { op: 'matmul', fn: (a, b) => F.matmul(a, b), shapes: [[[3, 4], [4, 2]], [[1, 4], [4, 1]], [[2, 1], [1, 3]]] },
  { op: 'matmul (transposed)', fn: (a, b) => F.matmul(F.transpose(a), b), shapes: [[[4, 3], [4, 2]]] },
  { op: 'linear', fn: (x, W, b) => F.linear(x, W, b), shapes: [[[3, 4], [4, 2], [2]], [[1, 1], [1, 5], [5]]] },
  { op: 'linear (no bias)', fn: (x, W) => F.linear(x, W), shapes: [[[3, 4], [4, 2]]] },
  { op: 'transpose', fn: (a) => F.transpose(a), shapes: [[[2, 3]], [[1, 4]], [[2, 3, 4]]] },
  { op: 'transpose (axes)', fn: (a) => F.transpose(a, a.ndim === 3 ? [0, 2, 1] : [3, 1, 0, 2]), shapes: [[[2, 3, 4]], [[2, 3, 1, 2]]] },
  { op: 'reshape', fn: (a) => F.reshape(a, [-1, a.shape[a.ndim - 1]]).reshape(-1), shapes: [[[2, 3]], [[2, 3, 4]], [[1, 2, 1, 2]]] },
  { op: 'broadcastTo', fn: (a) => F.broadcastTo(a, a.ndim === 1 ? [2, a.shape[0]] : [2, 4, 3]), shapes: [[[3]], [[2, 1, 3]], [[1]]] },
  { op: 'sumTo', fn: (a) => F.sumTo(a, a.ndim === 2 ? [a.shape[1]] : a.ndim === 3 ? [2, 1, 3] : [1, 3, 1, 2]), shapes: [[[2, 3]], [[2, 4, 3]], [[2, 3, 4, 2]], [[1, 3]]] },
  { op: 'sum', fn: (a) => F.sum(a), shapes: UNARY_SHAPES },
  { op: 'sum (axis)', fn: (a) => F.sum(a, 1), shapes: [[[2, 3]], [[2, 3, 4]], [[2, 1, 2, 2]]] },
  { op: 'sum (axes, keepdims)', fn: (a) => F.sum(a, [0, -1], true), shapes: [[[2, 3]], [[2, 3, 4]], [[3, 1, 2, 2]]] },
  { op: 'mean (axis)', fn: (a) => F.mean(a, 0), shapes: [[[4, 3]], [[2, 3, 2]]] },
  { op: 'max', fn: (a) => F.max(a), shapes: [[[5]], [[2, 3]], [[2, 3, 2]]] },
  { op: 'max (axis, keepdims)', fn: (a) => F.max(a, -1, true), shapes: [[[4, 3]], [[2, 3, 2]], [[2, 2, 1, 3]]] },
  { op: 'getItem (row)', fn: (a) => F.getItem(a, 1), shapes: [[[4, 3]], [[3]], [[3, 2, 2]]] },
  { op: 'getItem (rows)', fn: (a) => F.getItem(a, [0, 2, 2]), shapes: [[[4, 3]], [[3]], [[3, 2, 1, 2]]] },
  { op: 'getItem (slice)', fn: (a) => F.getItem(a, { start: 1, stop: -1 }), shapes: [[[4, 3]], [[5]]] },
  { op: 'getItem (reversed)', fn: (a) => F.getItem(a, { step: -2 }), shapes: [[[5, 2]]] },
  { op: 'softmax', fn: (a) => F.softmax(a), shapes: [[[2, 3]], [[4]], [[2, 2, 3]], [[3, 1]]] },
  { op: 'logSoftmax', fn: (a) => F.logSoftmax(a), shapes: [[[2, 3]], [[4]], [[2, 2, 3]]] },
  // the book's gradient leaves out the 1e-7 of the loss: relative error ≤ 1e-7 / y_t
  { op: 'softmaxCrossEntropy (labels)', fn: (a) => F.softmaxCrossEntropy(a, rowsOf([1, 0, 3].slice(0, a.ndim === 1 ? 1 : a.shape[0]))), shapes: [[[3, 4]], [[4]], [[2, 4]]], tol: 1e-5 },
  { op: 'softmaxCrossEntropy (one-hot)', fn: (a) => F.softmaxCrossEntropy(a, Tensor.from([[0, 1, 0], [1, 0, 0]], undefined, { dtype: 'float64' })), shapes: [[[2, 3]]], tol: 1e-5 },
  { op: 'meanSquaredError', fn: (a, b) => F.meanSquaredError(a, b), shapes: [[[3, 2], [3, 2]], [[3, 2], [2]], [[], []]] },
  { op: 'dropout', fn: (a) => F.dropout(a, 0.4, { rng: rng5() }), shapes: [[[4, 3]], [[2, 2, 3, 1]]] },
  { op: 'dropout (inference)', fn: (a) => F.dropout(a, 0.4, { train: false }), shapes: [[[4, 3]]] },
  { op: 'batchNorm', fn: (x, g, b) => F.batchNorm(x, g, b), shapes: [[[4, 3], [3], [3]], [[3, 2, 2, 1], [4], [4]]] },
  { op: 'conv2d', fn: (x, W, b) => F.conv2d(x, W, b, 1, 1), shapes: [[[2, 2, 4, 4], [3, 2, 3, 3], [3]], [[1, 1, 3, 3], [1, 1, 1, 1], [1]]] },
  { op: 'conv2d (stride 2)', fn: (x, W) => F.conv2d(x, W, null, 2, 0), shapes: [[[2, 3, 5, 5], [2, 3, 3, 3]]] },
  { op: 'im2col', fn: (x) => F.im2col(x, 2, 3, 1, 1), shapes: [[[2, 2, 3, 4]]] },
  { op: 'pooling', fn: (x) => F.pooling(x, 2, 2, 2), shapes: [[[2, 2, 4, 4]], [[1, 3, 2, 6]]], firstOrderOnly: true },
  { op: 'pooling (stride 1, pad 1)', fn: (x) => F.pooling(x, 2, 2, 1, 1), shapes: [[[1, 2, 3, 3]]], draw: ['positive'], firstOrderOnly: true },
];

function draw(shape: number[], how: Draw, rng: Random, backend: Backend): Variable {
  const t = Tensor.zeros(shape, { dtype: 'float64', backend });
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    const v = rng.normal();
    d[i] = how === 'positive' ? 0.5 + Math.abs(v) : how === 'nonzero' ? Math.sign(v || 1) * (0.2 + Math.abs(v)) : v;
  }
  return new Variable(t);
}

/** Σ out ⊙ R, in plain arithmetic (the numerical side must not go through autograd's backward). */
function weighted(out: Variable, R: Float64Array): number {
  const o = out.data.data;
  let s = 0;
  for (let i = 0; i < o.length; i++) s += o[i] * R[i];
  return s;
}

/** Central difference of f with respect to every element of x, restoring x afterwards. */
function numericGrad(x: Variable, f: () => number): Float64Array {
  const h = 1e-4;
  return Float64Array.from({ length: x.size }, (_, i) => {
    const v = x.data.data[i];
    x.data.data[i] = v + h;
    const fp = f();
    x.data.data[i] = v - h;
    const fm = f();
    x.data.data[i] = v;
    return (fp - fm) / (2 * h);
  });
}

function assertGrad(c: Case, shapes: number[][], what: string, actual: ArrayLike<number>, numeric: Float64Array, tol: number): void {
  for (let i = 0; i < numeric.length; i++) {
    if (!(Math.abs(actual[i] - numeric[i]) <= tol * (1 + Math.abs(numeric[i])))) {
      assert.fail(`${c.op} ${JSON.stringify(shapes)}: ${what}[${i}] is ${actual[i]}, central difference ${numeric[i]} (tolerance ${tol})`);
    }
  }
}

/**
 * The second order: with createGraph, H = Σ_k Σ S_k ⊙ ∂L/∂x_k is differentiated again; its
 * gradient is checked against central differences of H computed by first-order backward.
 */
function checkSecondOrder(c: Case, shapes: number[][], xs: Variable[], Rt: Tensor, rng: Random, backend: Backend): void {
  const S = xs.map((x) => Tensor.from(Float64Array.from({ length: x.size }, () => rng.normal()), x.shape, { dtype: 'float64', backend }));
  const H = (): number => {
    xs.forEach((x) => x.cleargrad());
    F.sum(F.mul(c.fn(...xs), Rt)).backward();
    return xs.reduce((s, x, k) => s + weighted(x.grad!, S[k].data as Float64Array), 0);
  };
  xs.forEach((x) => x.cleargrad());
  const loss = F.sum(F.mul(c.fn(...xs), Rt));
  if (c.firstOrderOnly) {
    assert.throws(() => loss.backward({ createGraph: true }), /pooling does not support createGraph/);
    return;
  }
  loss.backward({ createGraph: true });
  const gs = xs.map((x) => x.grad!);
  xs.forEach((x) => x.cleargrad());
  gs.map((g, k) => F.sum(F.mul(g, S[k]))).reduce((a, b) => F.add(a, b)).backward();
  const second = xs.map((x) => (x.grad ? Float64Array.from(x.grad.data.data) : new Float64Array(x.size)));
  xs.forEach((x, k) => assertGrad(c, shapes, `∂²/∂input${k}`, second[k], numericGrad(x, H), 10 * (c.tol ?? 1e-6)));
}

function check(c: Case, shapes: number[][], backend: Backend, rng: Random): void {
  const xs = shapes.map((s, k) => draw(s, c.draw?.[k] ?? 'normal', rng, backend));
  const out = c.fn(...xs);
  const R = Float64Array.from({ length: out.size }, () => rng.normal());
  const Rt = Tensor.from(R, out.shape, { dtype: 'float64', backend });
  F.sum(F.mul(out, Rt)).backward();
  const h = 1e-4;
  const tol = c.tol ?? 1e-6;
  xs.forEach((x, k) => {
    assert.ok(x.grad, `${c.op}: input ${k} got no gradient`);
    assert.deepEqual(x.grad.shape, x.shape, `${c.op}: gradient of input ${k} has shape ${x.grad.shape}, input ${x.shape}`);
    const g = Float64Array.from(x.grad.data.data); // a copy: a wasm memory may grow (detaching views) during the checks
    for (let i = 0; i < x.size; i++) {
      const d = x.data.data;
      const v = d[i];
      d[i] = v + h;
      const fp = noGrad(() => weighted(c.fn(...xs), R));
      x.data.data[i] = v - h;
      const fm = noGrad(() => weighted(c.fn(...xs), R));
      x.data.data[i] = v;
      const numeric = (fp - fm) / (2 * h); // central difference
      if (!(Math.abs(g[i] - numeric) <= tol * (1 + Math.abs(numeric)))) {
        assert.fail(`${c.op} ${JSON.stringify(shapes)}: ∂/∂input${k}[${i}] is ${g[i]}, central difference ${numeric} (tolerance ${tol})`);
      }
    }
  });
  checkSecondOrder(c, shapes, xs, Rt, rng, backend);
}

const backends = await allBackends();
let checked = 0;
for (const backend of backends) {
  describe(`autograd op table: backward vs central differences, float64 (backend ${backend.name})`, () => {
    for (const c of CASES) {
      it(`${c.op}: ${c.shapes.map((s) => s.map((d) => `(${d.join(',')})`).join(' ')).join('; ')}`, () => {
        const rng = new Random(11);
        for (const shapes of c.shapes) {
          check(c, shapes, backend, rng);
          checked++;
        }
      });
    }
  });
}

describe('op table size', () => {
  it(`covers ${CASES.length} ops × their shapes on ${backends.length} backends`, () => {
    const perBackend = CASES.reduce((n, c) => n + c.shapes.length, 0);
    assert.equal(checked, perBackend * backends.length);
    assert.ok(backends.length >= 1);
  });
});

for (const backend of backends) {
  describe(`F.linear on data (backend ${backend.name})`, () => {
    it('a leaf x (images: mostly zeros) may have its zeros skipped: y and dW bit for bit the dense products\' (ops.matmul, addBias)', () => {
      const rng = new Random(5);
      const [n, d, h] = [100, 784, 50];
      // image-like rows: a band of pixels in the middle, 70% of it non-zero
      const xs = new Float32Array(n * d);
      for (let i = 0; i < n; i++) for (let p = 300; p < 450; p++) if (rng.next() < 0.7) xs[i * d + p] = rng.next();
      const x = Tensor.from(xs, [n, d], { backend });
      const W = new Parameter(Tensor.from(Float32Array.from({ length: d * h }, () => 0.1 * rng.normal()), [d, h], { backend }));
      const b = new Parameter(Tensor.from(Float32Array.from({ length: h }, () => 0.1 * rng.normal()), [h], { backend }));
      const counter = backend as { sparseProducts?: number };
      const before = counter.sparseProducts;
      const y = F.linear(x, W, b);
      F.sum(F.mul(y, y)).backward(); // dL/dy = 2y
      if (before !== undefined) assert.equal(counter.sparseProducts! - before, 2, 'x · W and xᵀ · dy skipped the zeros');
      // the dense products written out with the tensor ops
      const yRef = addBias(matmul(x, W.data), b.data);
      const dy = Tensor.from(Float32Array.from(yRef.data, (v) => 2 * v), [n, h], { backend });
      const dWRef = matmul(x, dy, { transA: true });
      assert.deepEqual(new Uint32Array(Float32Array.from(y.data.data).buffer), new Uint32Array(Float32Array.from(yRef.data).buffer), 'y');
      assert.deepEqual(new Uint32Array(Float32Array.from(W.grad!.data.data).buffer), new Uint32Array(Float32Array.from(dWRef.data).buffer), 'dW');
    });
  });
}
