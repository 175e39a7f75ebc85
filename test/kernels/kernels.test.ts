import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, FloatArray } from '../../src/kernels/Backend.js';
import { Random } from '../../src/random.js';
import { allBackends } from './backends.js';

const backends = await allBackends();
const rng = new Random(7);
const SIZES = [1, 3, 7, 50, 783, 785];

function rand(n: number, f64: boolean): FloatArray {
  const a = f64 ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** Naive float64 product, the independent reference: C = op(A)·op(B). */
function refMatmul(a: FloatArray, b: FloatArray, m: number, k: number, n: number, tA: boolean, tB: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (tA ? a[p * m + i] : a[i * k + p]) * (tB ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  return c;
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    if (!(Math.abs(actual[i] - e) <= tol * (1 + Math.abs(e)))) {
      assert.fail(`${what}: element ${i} is ${actual[i]}, expected ${e} (tolerance ${tol})`);
    }
  }
}

for (const backend of backends) {
  for (const f64 of [false, true]) {
    const dt = f64 ? 'float64' : 'float32';
    const tol = f64 ? 1e-12 : 2e-5;
    describe(`kernels on backend ${backend.name} (${dt})`, () => {
      it('alloc gives zeroed storage of the dtype', () => {
        const s = backend.alloc(10, dt);
        assert.equal(s.length, 10);
        assert.equal(s.dtype, dt);
        assert.ok(f64 ? s.data instanceof Float64Array : s.data instanceof Float32Array);
        assert.deepEqual([...s.data], new Array(10).fill(0));
      });

      for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        it(`matmul transA=${tA} transB=${tB} on odd sizes`, () => {
          const shapes: [number, number, number][] = [[1, 1, 1], [3, 7, 5], [7, 3, 50], [100, 784, 50], [13, 785, 9], [50, 1, 783], [2, 783, 3]];
          for (const m of SIZES.slice(0, 4)) shapes.push([m, 17, 33]);
          for (const [m, k, n] of shapes) {
            const a = rand(m * k, f64);
            const b = rand(k * n, f64);
            const c = f64 ? new Float64Array(m * n) : new Float32Array(m * n);
            c.fill(123); // must be overwritten
            backend.matmul(a, b, c, m, k, n, tA, tB, false);
            close(c, refMatmul(a, b, m, k, n, tA, tB), tol * Math.sqrt(k), `matmul ${m}×${k}×${n}`);
            // accumulate adds to what is there
            const c0 = Float64Array.from(c);
            backend.matmul(a, b, c, m, k, n, tA, tB, true);
            close(c, c0.map((v) => 2 * v), tol * Math.sqrt(k), `matmul accumulate ${m}×${k}×${n}`);
          }
        });
      }

      it('addBias and sumColumns', () => {
        for (const rows of [1, 3, 100]) for (const cols of SIZES) {
          const x = rand(rows * cols, f64);
          const b = rand(cols, f64);
          const out = f64 ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
          backend.addBias(x, b, out, rows, cols);
          close(out, Array.from(x, (v, i) => v + b[i % cols]), tol, 'addBias');
          const s = f64 ? new Float64Array(cols) : new Float32Array(cols);
          s.fill(9);
          backend.sumColumns(x, s, rows, cols);
          const e = new Float64Array(cols);
          x.forEach((v, i) => (e[i % cols] += v));
          close(s, e, tol * rows, 'sumColumns');
        }
      });

      it('relu, reluBackward (mask x <= 0), sigmoid, sigmoidBackward', () => {
        for (const n of SIZES) {
          const x = rand(n, f64);
          if (n > 2) x[1] = 0; // an input of exactly 0 gets gradient 0, as the book's mask x <= 0
          const dout = rand(n, f64);
          const out = f64 ? new Float64Array(n) : new Float32Array(n);
          const dx = f64 ? new Float64Array(n) : new Float32Array(n);
          backend.relu(x, out);
          close(out, Array.from(x, (v) => Math.max(0, v)), 0, 'relu');
          backend.reluBackward(dout, out, dx);
          close(dx, Array.from(x, (v, i) => (v > 0 ? dout[i] : 0)), 0, 'reluBackward');
          backend.sigmoid(x, out);
          const y = Array.from(x, (v) => 1 / (1 + Math.exp(-v)));
          close(out, y, tol, 'sigmoid');
          backend.sigmoidBackward(dout, out, dx);
          close(dx, Array.from(out, (v, i) => dout[i] * v * (1 - v)), tol, 'sigmoidBackward');
        }
      });

      it('relu in place (out = x)', () => {
        const x = f64 ? Float64Array.from([-1, 0, 2]) : Float32Array.from([-1, 0, 2]);
        backend.relu(x, x);
        assert.deepEqual([...x], [0, 0, 2]);
      });

      it('softmax is stable on [1010, 1000, 990] and rows sum to 1', () => {
        const x = f64 ? Float64Array.from([1010, 1000, 990]) : Float32Array.from([1010, 1000, 990]);
        const y = f64 ? new Float64Array(3) : new Float32Array(3);
        backend.softmax(x, y, 1, 3);
        close(y, [0.999954600070331, 4.539786860886666e-5, 2.061060046209062e-9] /* NumPy */, f64 ? 1e-12 : 1e-6, 'softmax');
        for (const cols of SIZES) {
          const rows = 5;
          const z = rand(rows * cols, f64);
          const p = f64 ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
          backend.softmax(z, p, rows, cols);
          for (let i = 0; i < rows; i++) {
            const row = z.subarray(i * cols, (i + 1) * cols);
            const m = Math.max(...row);
            const e = Array.from(row, (v) => Math.exp(v - m));
            const s = e.reduce((u, v) => u + v, 0);
            close(p.subarray(i * cols, (i + 1) * cols), e.map((v) => v / s), tol, 'softmax rows');
          }
        }
      });

      it('crossEntropyLabels and softmaxLossBackward', () => {
        for (const cols of [1, 3, 10, 785]) {
          const rows = 7;
          const z = rand(rows * cols, f64);
          const y = f64 ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
          backend.softmax(z, y, rows, cols);
          const labels = Int32Array.from({ length: rows }, () => rng.int(cols));
          let e = 0;
          for (let i = 0; i < rows; i++) e -= Math.log(y[i * cols + labels[i]] + 1e-7);
          assert.ok(Math.abs(backend.crossEntropyLabels(y, labels, rows, cols) - e / rows) <= tol * 10);
          const dx = f64 ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
          backend.softmaxLossBackward(y, labels, dx, rows, cols, 1 / rows);
          close(dx, Array.from(y, (v, i) => (v - (labels[Math.floor(i / cols)] === i % cols ? 1 : 0)) / rows), tol, 'softmaxLossBackward');
        }
      });

      it('argmaxRows picks the first maximum', () => {
        const x = f64 ? Float64Array.from([1, 3, 3, 0, -1, -2, -1, -5]) : Float32Array.from([1, 3, 3, 0, -1, -2, -1, -5]);
        const out = new Int32Array(2);
        backend.argmaxRows(x, out, 2, 4);
        assert.deepEqual([...out], [1, 0]);
        for (const cols of SIZES) {
          const rows = 4;
          const z = rand(rows * cols, f64);
          const o = new Int32Array(rows);
          backend.argmaxRows(z, o, rows, cols);
          for (let i = 0; i < rows; i++) {
            const row = Array.from(z.subarray(i * cols, (i + 1) * cols));
            assert.equal(o[i], row.indexOf(Math.max(...row)));
          }
        }
      });

      it('gatherRows and axpy', () => {
        for (const cols of SIZES) {
          const src = rand(10 * cols, f64);
          const index = Int32Array.from([9, 0, 3, 3]);
          const out = f64 ? new Float64Array(4 * cols) : new Float32Array(4 * cols);
          backend.gatherRows(src, index, out, cols);
          close(out, Array.from(out, (_, i) => src[index[Math.floor(i / cols)] * cols + (i % cols)]), 0, 'gatherRows');
          const x = rand(cols, f64);
          const y = rand(cols, f64);
          const y0 = Float64Array.from(y);
          backend.axpy(-0.1, x, y);
          close(y, Array.from(y0, (v, i) => v - 0.1 * x[i]), tol, 'axpy');
        }
      });
    });
  }
}

it('kernel tests ran on at least the reference backend', () => {
  assert.ok(backends.some((b: Backend) => b.name === 'js'));
});
