import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, ConvGeometry, FloatArray } from '../../src/kernels/Backend.js';
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

/** Window geometries for the convolution kernels: stride 1..3, pad 0..2, several channels and images. */
const GEOMETRIES: ConvGeometry[] = [
  [1, 1, 3, 3, 3, 3, 1, 0], [1, 1, 4, 4, 2, 2, 2, 0], [2, 3, 7, 7, 3, 3, 2, 1], [2, 3, 5, 6, 2, 3, 1, 1],
  [3, 2, 6, 4, 3, 1, 1, 2], [1, 2, 9, 9, 3, 3, 3, 0], [2, 1, 2, 2, 3, 3, 1, 1], [2, 4, 8, 8, 2, 2, 1, 0],
  // windows that do not divide the input: the last partial window is dropped
  [1, 1, 7, 7, 2, 2, 2, 0], [2, 3, 8, 8, 3, 3, 2, 0], [2, 2, 5, 5, 2, 2, 2, 1], [1, 2, 8, 5, 3, 2, 3, 1],
  [2, 3, 11, 19, 2, 2, 2, 0], [1, 2, 25, 25, 2, 2, 2, 0], [2, 1, 9, 6, 4, 3, 2, 1],
  // the book's SimpleConvNet (rows of windows 24 wide: whole vectors), and 5×5 with pad 2
  [2, 1, 28, 28, 5, 5, 1, 0], [1, 2, 12, 13, 5, 5, 1, 2],
].map(([batch, channels, height, width, filterH, filterW, stride, pad]) => ({
  batch, channels, height, width, filterH, filterW, stride, pad,
  outH: Math.floor((height + 2 * pad - filterH) / stride) + 1, // the book's (H + 2·pad − FH) // stride + 1
  outW: Math.floor((width + 2 * pad - filterW) / stride) + 1,
}));

/** x[n, c, y, x] of an (N, C, H, W) array, or 0 outside the image (the zero padding). */
function pixel(x: ArrayLike<number>, g: ConvGeometry, n: number, c: number, y: number, xx: number): number {
  return y >= 0 && y < g.height && xx >= 0 && xx < g.width ? x[((n * g.channels + c) * g.height + y) * g.width + xx] : 0;
}

/** Naive im2col, the independent reference: the book's formula, element by element. */
function refIm2col(x: ArrayLike<number>, g: ConvGeometry): Float64Array {
  const cols = g.channels * g.filterH * g.filterW;
  const col = new Float64Array(g.batch * g.outH * g.outW * cols);
  for (let n = 0; n < g.batch; n++) for (let oy = 0; oy < g.outH; oy++) for (let ox = 0; ox < g.outW; ox++)
    for (let c = 0; c < g.channels; c++) for (let ky = 0; ky < g.filterH; ky++) for (let kx = 0; kx < g.filterW; kx++) {
      const row = (n * g.outH + oy) * g.outW + ox;
      const column = (c * g.filterH + ky) * g.filterW + kx;
      col[row * cols + column] = pixel(x, g, n, c, oy * g.stride + ky - g.pad, ox * g.stride + kx - g.pad);
    }
  return col;
}

/** Naive col2im: each col element added to its source pixel, through a padded image as the book does. */
function refCol2im(col: ArrayLike<number>, g: ConvGeometry): Float64Array {
  const [Hp, Wp] = [g.height + 2 * g.pad, g.width + 2 * g.pad];
  const padded = new Float64Array(g.batch * g.channels * Hp * Wp);
  const cols = g.channels * g.filterH * g.filterW;
  for (let n = 0; n < g.batch; n++) for (let c = 0; c < g.channels; c++) for (let ky = 0; ky < g.filterH; ky++)
    for (let kx = 0; kx < g.filterW; kx++) for (let oy = 0; oy < g.outH; oy++) for (let ox = 0; ox < g.outW; ox++) {
      const row = (n * g.outH + oy) * g.outW + ox;
      const y = oy * g.stride + ky;
      const xx = ox * g.stride + kx;
      padded[((n * g.channels + c) * Hp + y) * Wp + xx] += col[row * cols + (c * g.filterH + ky) * g.filterW + kx];
    }
  const x = new Float64Array(g.batch * g.channels * g.height * g.width);
  for (let p = 0; p < g.batch * g.channels; p++) for (let y = 0; y < g.height; y++) for (let xx = 0; xx < g.width; xx++) {
    x[(p * g.height + y) * g.width + xx] = padded[(p * Hp + y + g.pad) * Wp + xx + g.pad];
  }
  return x;
}

/** Naive max pooling: values and arg max (index in x, −1 for padding) of every window. */
function refMaxPool(x: ArrayLike<number>, g: ConvGeometry): { out: number[]; arg: number[] } {
  const out: number[] = [];
  const arg: number[] = [];
  for (let n = 0; n < g.batch; n++) for (let c = 0; c < g.channels; c++) for (let oy = 0; oy < g.outH; oy++) for (let ox = 0; ox < g.outW; ox++) {
    const values: number[] = [];
    const where: number[] = [];
    for (let ky = 0; ky < g.filterH; ky++) for (let kx = 0; kx < g.filterW; kx++) {
      const [y, xx] = [oy * g.stride + ky - g.pad, ox * g.stride + kx - g.pad];
      const inside = y >= 0 && y < g.height && xx >= 0 && xx < g.width;
      values.push(pixel(x, g, n, c, y, xx));
      where.push(inside ? ((n * g.channels + c) * g.height + y) * g.width + xx : -1);
    }
    const k = values.indexOf(Math.max(...values)); // the first maximum
    out.push(values[k]);
    arg.push(where[k]);
  }
  return { out, arg };
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
          // Narrow last panels (n % 8 in 1..4: the wasm kernels' column, half and dot tiles), m with
          // whole tiles and a remainder, k = 1100 over two k blocks (accumulating in C). The wasm dot
          // tiles (1 or 2 last columns, A not transposed) sum the depths in 4 interleaved partial
          // sums, not in order: those columns meet the same tolerance, not bit for bit.
          shapes.push([30, 1100, 25], [53, 40, 50], [19, 9, 11], [27, 13, 100], [45, 21, 2]);
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

      it('matmulFused (+ bias, ReLU, mask) is bit-identical to matmul then addBias, relu, reluBackward', () => {
        const shapes: [number, number, number][] = [];
        for (const m of SIZES) for (const n of SIZES) shapes.push([m, 7, n]);
        for (const k of SIZES) shapes.push([7, k, 50], [3, k, 10]);
        shapes.push([100, 784, 50], [100, 50, 10], [100, 10, 50], [4, 1025, 9], [2, 0, 3]);
        const make = (n: number) => (f64 ? new Float64Array(n) : new Float32Array(n));
        const combos = [{ bias: true }, { bias: true, relu: true }, { relu: true }, { mask: true }, { bias: true, relu: true, mask: true }];
        for (const [i, [m, k, n]] of shapes.entries()) {
          for (const [tA, tB] of [[false, false], [true, false], [false, true]] as const) {
            if (m * k * n > 1e5 && (tA || tB) && i % 2 === 0) continue; // the large shapes once per layout is enough
            const a = rand(m * k, f64);
            const b = rand(k * n, f64);
            const bias = rand(n, f64);
            const mask = rand(m * n, f64);
            if (m * n > 2) mask[1] = 0; // exactly 0 masks, as reluBackward's out > 0
            for (const combo of combos) {
              const what = `matmulFused ${JSON.stringify(combo)} ${m}×${k}×${n} tA=${tA} tB=${tB}`;
              const fused = { bias: combo.bias ? bias : null, relu: combo.relu ?? false, mask: combo.mask ? mask : null };
              // The unfused kernels of the same backend, one after another.
              const expected = make(m * n);
              backend.matmul(a, b, expected, m, k, n, tA, tB, false);
              if (fused.bias) backend.addBias(expected, bias, expected, m, n);
              if (fused.relu) backend.relu(expected, expected);
              if (fused.mask) backend.reluBackward(expected, mask, expected);
              const c = make(m * n).fill(123); // must be overwritten
              backend.matmulFused(a, b, c, m, k, n, tA, tB, fused);
              assert.deepEqual(c, expected, `${what}: not bit-identical to the unfused kernels`);
              // and against the independent float64 reference, written out here
              const ref = refMatmul(a, b, m, k, n, tA, tB).map((v, e) => {
                let x = v + (fused.bias ? bias[e % n] : 0);
                if (fused.relu) x = x > 0 ? x : 0;
                return fused.mask && !(mask[e] > 0) ? 0 : x;
              });
              close(c, ref, tol * Math.sqrt(k + 1), what);
            }
          }
        }
        // arrays in the backend's own storage (no copies) give the same
        const [m, k, n] = [100, 784, 50];
        const store = (src: FloatArray) => {
          const s = backend.alloc(src.length, dt);
          s.data.set(src);
          return s;
        };
        const [a, b, bias, mask] = [store(rand(m * k, f64)), store(rand(k * n, f64)), store(rand(n, f64)), store(rand(m * n, f64))];
        const c = backend.alloc(m * n, dt);
        const expected = make(m * n);
        backend.matmul(a.data, b.data, expected, m, k, n, false, false, false);
        backend.addBias(expected, bias.data, expected, m, n);
        backend.relu(expected, expected);
        backend.reluBackward(expected, mask.data, expected);
        backend.matmulFused(a.data, b.data, c.data, m, k, n, false, false, { bias: bias.data, relu: true, mask: mask.data });
        assert.deepEqual(c.data, expected, 'matmulFused on resident storage');
      });

      it('matmulFused with sparseA (A\'s zeros skipped) gives the numbers of matmulFused without it', () => {
        const make = (n: number) => (f64 ? new Float64Array(n) : new Float32Array(n));
        /** A with this share of zeros (some −0), a NaN or not, and an all-zero row. */
        const sparse = (m: number, k: number, zeros: number, nan: boolean) => {
          const a = rand(m * k, f64);
          for (let e = 0; e < a.length; e++) if (rng.next() < zeros) a[e] = e % 3 === 0 ? -0 : 0;
          if (m > 2) a.fill(0, k, 2 * k);
          if (nan && a.length > 5) a[5] = NaN;
          return a;
        };
        const bits = (x: FloatArray) => (x instanceof Float64Array ? new BigUint64Array(x.buffer, x.byteOffset, x.length) : new Uint32Array(x.buffer, x.byteOffset, x.length));
        const shapes: [number, number, number][] = [
          [1, 7, 3], [3, 1, 8], [4, 784, 50], [5, 9, 10], [37, 784, 50], [100, 785, 17], [9, 13, 1], [6, 1025, 9], [8, 0, 4], [100, 784, 10],
        ];
        for (const [m, k, n] of shapes) {
          for (const zeros of [0, 0.5, 0.95, 1]) {
            const a = sparse(m, k, zeros, zeros === 0.5);
            const b = rand(k * n, f64);
            if (zeros === 1 && b.length > 2) b[2] = Infinity; // 0 · Inf: a backend that skips must decide as its plain product does
            const bias = rand(n, f64);
            for (const combo of [{}, { bias: true, relu: true }, { relu: true }]) {
              const fused = { bias: 'bias' in combo ? bias : null, relu: 'relu' in combo };
              const expected = make(m * n).fill(7);
              backend.matmulFused(a, b, expected, m, k, n, false, false, fused);
              const c = make(m * n).fill(123);
              backend.matmulFused(a, b, c, m, k, n, false, false, { ...fused, sparseA: true });
              assert.deepEqual(bits(c), bits(expected), `matmulFused sparseA ${JSON.stringify(combo)} ${m}×${k}×${n}, ${zeros * 100}% zeros: not bit-identical`);
            }
          }
        }
      });

      it('matmulBatch (per matrix, summed, shared A or B, row bias, ReLU) is bit-identical to a loop of matmul calls', () => {
        const make = (n: number) => (f64 ? new Float64Array(n) : new Float32Array(n));
        // a convolution's three products (30 filters 5×5, 24×24 outputs), odd sizes, a k beyond one k block
        const shapes: [number, number, number][] = [[30, 25, 576], [30, 576, 25], [576, 30, 25], [3, 7, 5], [7, 3, 50], [5, 1030, 9], [1, 1, 1]];
        for (const [m, k, n] of shapes) {
          for (const batch of [1, 3]) {
            for (const [tA, tB] of [[false, true], [false, false], [true, false]] as const) {
              for (const [shareA, shareB] of [[true, false], [false, true], [false, false]]) {
                for (const mode of ['each', 'bias', 'bias+relu', 'relu', 'sum', 'sum+'] as const) {
                  const what = `matmulBatch ${mode} ${batch}×${m}×${k}×${n} tA=${tA} tB=${tB} shared A ${shareA} B ${shareB}`;
                  const strides = { a: shareA ? 0 : m * k, b: shareB ? 0 : k * n, c: mode.startsWith('sum') ? 0 : m * n };
                  const a = rand((shareA ? 1 : batch) * m * k, f64);
                  const b = rand((shareB ? 1 : batch) * k * n, f64);
                  const rowBias = mode.startsWith('bias') ? rand(m, f64) : null;
                  const relu = mode.endsWith('relu');
                  const cLength = strides.c === 0 ? m * n : batch * m * n;
                  const start = mode === 'sum+' ? rand(cLength, f64) : make(cLength).fill(123); // overwritten unless accumulating
                  const expected = Float64Array.from(start) as FloatArray;
                  const want = f64 ? expected : Float32Array.from(expected);
                  for (let i = 0; i < batch; i++) {
                    const ci = want.subarray(i * strides.c, i * strides.c + m * n);
                    const ai = a.subarray(i * strides.a, i * strides.a + m * k);
                    const bi = b.subarray(i * strides.b, i * strides.b + k * n);
                    backend.matmul(ai, bi, ci, m, k, n, tA, tB, mode === 'sum+' || (mode === 'sum' && i > 0));
                    // the row bias after the product, as its own addition
                    if (rowBias) for (let e = 0; e < m * n; e++) ci[e] += rowBias[Math.floor(e / n)];
                    if (relu) backend.relu(ci, ci);
                  }
                  const c = Float64Array.from(start) as FloatArray;
                  const got = f64 ? c : Float32Array.from(c);
                  backend.matmulBatch(a, b, got, batch, strides, m, k, n, tA, tB, mode === 'sum+', rowBias, relu);
                  assert.deepEqual(got, want, `${what}: not bit-identical to a loop of matmul calls`);
                  // and the formula, in float64, written out here
                  const ref = Float64Array.from(mode === 'sum+' ? start : make(cLength));
                  for (let i = 0; i < batch; i++) {
                    const prod = refMatmul(a.subarray(i * strides.a), b.subarray(i * strides.b), m, k, n, tA, tB);
                    for (let e = 0; e < m * n; e++) ref[i * strides.c + e] += prod[e] + (rowBias ? rowBias[Math.floor(e / n)] : 0);
                  }
                  if (relu) ref.forEach((v, e) => (ref[e] = v > 0 ? v : 0));
                  close(got, ref, tol * Math.sqrt(batch * k + 2), what);
                }
              }
            }
          }
        }
      });

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

      it('softmax and sigmoid give an input the same bits in every position (the wasm kernels: 4 lanes of a vector exp, then a scalar tail)', () => {
        // v at positions 0..3 (one vector in the wasm kernels) and at 4 (the scalar Mathf.exp of
        // the tail): its outputs must be equal. v over every binade of float32 and both signs,
        // the overflow and underflow edges of exp (±88, −103.97), ±0, ±Inf and NaN.
        const values = [0, -0, Infinity, -Infinity, NaN, 88, -88, 88.72, 88.73, -103.97, -103.98, -87.9, 1e-45];
        for (let e = -149; e <= 127; e += 2) for (const sign of [1, -1]) values.push(sign * 2 ** e * (1 + rng.next()));
        for (let i = 0; i < 2000; i++) values.push(-120 * rng.next(), 30 * (rng.next() - 0.5));
        const make = (n: number) => (f64 ? new Float64Array(n) : new Float32Array(n));
        const [x, out] = [make(5), make(5)];
        const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
        for (const v of values) {
          x.fill(v);
          backend.sigmoid(x, out);
          for (let j = 0; j < 4; j++) assert.ok(same(out[j], out[4]), `sigmoid(${x[4]}): ${out[j]} at ${j}, ${out[4]} at 4`);
          if (Number.isFinite(out[4]) && Number.isFinite(x[4])) close([out[4]], [1 / (1 + Math.exp(-x[4]))], f64 ? 1e-15 : 2e-7, `sigmoid(${x[4]})`);
          // a softmax row [0, w, w, w, w] with w = −|v|: x − max is w at 1..4
          x.fill(-Math.abs(v));
          x[0] = 0;
          backend.softmax(x, out, 1, 5);
          for (let j = 1; j < 4; j++) assert.ok(same(out[j], out[4]), `softmax [0, ${x[4]} ×4]: ${out[j]} at ${j}, ${out[4]} at 4`);
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

      it('softmaxCrossEntropy is bit-identical to softmax, crossEntropyLabels, softmaxLossBackward', () => {
        for (const rows of [1, 3, 7, 100]) for (const cols of SIZES) {
          const make = () => (f64 ? new Float64Array(rows * cols) : new Float32Array(rows * cols));
          const x = rand(rows * cols, f64).map((v) => 5 * v);
          const labels = Int32Array.from({ length: rows }, () => rng.int(cols));
          const scale = 1 / rows;
          const [y0, dx0, y, dx] = [make(), make(), make().fill(7), make().fill(7)];
          backend.softmax(x, y0, rows, cols);
          const loss0 = backend.crossEntropyLabels(y0, labels, rows, cols);
          backend.softmaxLossBackward(y0, labels, dx0, rows, cols, scale);
          const loss = backend.softmaxCrossEntropy(x, labels, y, dx, rows, cols, scale);
          const what = `softmaxCrossEntropy ${rows}×${cols}`;
          assert.equal(loss, loss0, `${what}: loss`);
          assert.deepEqual(y, y0, `${what}: y`);
          assert.deepEqual(dx, dx0, `${what}: dx`);
          // and the book's formulas, written out: −Σ log(y[t] + 1e-7) / N, dx = (y − t) / N
          let e = 0;
          for (let i = 0; i < rows; i++) e -= Math.log(y[i * cols + labels[i]] + 1e-7);
          assert.ok(Math.abs(loss - e / rows) <= tol * 10, `${what}: loss ${loss}, expected ${e / rows}`);
          close(dx, Array.from(y, (v, i) => (v - (labels[Math.floor(i / cols)] === i % cols ? 1 : 0)) / rows), tol, `${what}: dx`);
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
          // on the backend's own storage (where the wasm kernel copies 16, 8, 4 rows side by side, then one by one)
          const s1 = backend.alloc(10 * cols, f64 ? 'float64' : 'float32');
          s1.data.set(src);
          for (const count of [1, 3, 4, 7, 8, 12, 15, 16, 17, 29, 31, 37]) {
            const rows = Int32Array.from({ length: count }, (_, i) => (i * 7 + 3) % 10);
            const o = backend.alloc(count * cols, f64 ? 'float64' : 'float32');
            backend.gatherRows(s1.data, rows, o.data, cols);
            close(o.data, Array.from(o.data, (_, i) => src[rows[Math.floor(i / cols)] * cols + (i % cols)]), 0, `gatherRows of ${count} rows`);
          }
          if (backend.gatherRowsAhead) {
            // on the backend's own storage (where its threads may copy the rows), 200 rows
            const many = Int32Array.from({ length: 200 }, (_, i) => (i * 7) % 10);
            const s = backend.alloc(10 * cols, f64 ? 'float64' : 'float32');
            s.data.set(src);
            const o = backend.alloc(200 * cols, f64 ? 'float64' : 'float32');
            const wait = backend.gatherRowsAhead(s.data, many, o.data, cols);
            wait();
            close(o.data, Array.from(o.data, (_, i) => src[many[Math.floor(i / cols)] * cols + (i % cols)]), 0, 'gatherRowsAhead');
          }
          const x = rand(cols, f64);
          const y = rand(cols, f64);
          const y0 = Float64Array.from(y);
          backend.axpy(-0.1, x, y);
          close(y, Array.from(y0, (v, i) => v - 0.1 * x[i]), tol, 'axpy');
        }
      });

      it('im2col matches the naive formula (stride 1..3, pad 0..2, channels, batch > 1)', () => {
        for (const g of GEOMETRIES) {
          const x = rand(g.batch * g.channels * g.height * g.width, f64);
          const size = g.batch * g.outH * g.outW * g.channels * g.filterH * g.filterW;
          const col = f64 ? new Float64Array(size) : new Float32Array(size);
          col.fill(123); // must be overwritten, padding included
          backend.im2col(x, col, g);
          close(col, refIm2col(x, g), 0, `im2col ${JSON.stringify(g)}`);
        }
      });

      it('im2colT is each image\'s naive im2col transposed: colT[n, (c, ky, kx), (oy, ox)] (stride 1..3, pad 0..2, channels, batch > 1)', () => {
        for (const g of GEOMETRIES) {
          const x = rand(g.batch * g.channels * g.height * g.width, f64);
          const [rows, cols] = [g.outH * g.outW, g.channels * g.filterH * g.filterW]; // col_n
          const colT = f64 ? new Float64Array(g.batch * rows * cols) : new Float32Array(g.batch * rows * cols);
          colT.fill(123); // must be overwritten, padding included
          backend.im2colT(x, colT, g);
          const col = refIm2col(x, g);
          const expected = Array.from(colT, (_, i) => {
            const [n, r, j] = [Math.floor(i / (rows * cols)), Math.floor(i / rows) % cols, i % rows]; // row r = (c, ky, kx), column j = (oy, ox)
            return col[(n * rows + j) * cols + r];
          });
          close(colT, expected, 0, `im2colT ${JSON.stringify(g)}`);
        }
      });

      it('col2im matches the naive scatter-add through a padded image, overwriting its output', () => {
        for (const g of GEOMETRIES) {
          const col = rand(g.batch * g.outH * g.outW * g.channels * g.filterH * g.filterW, f64);
          const size = g.batch * g.channels * g.height * g.width;
          const x = f64 ? new Float64Array(size) : new Float32Array(size);
          x.fill(123);
          backend.col2im(col, x, g);
          close(x, refCol2im(col, g), tol * 4, `col2im ${JSON.stringify(g)}`);
        }
      });

      it('transposeBatch swaps the last two axes', () => {
        for (const [batch, rows, cols] of [[1, 1, 1], [1, 3, 5], [2, 7, 3], [3, 64, 30]]) {
          const x = rand(batch * rows * cols, f64);
          const out = f64 ? new Float64Array(x.length) : new Float32Array(x.length);
          backend.transposeBatch(x, out, batch, rows, cols);
          const e = new Float64Array(x.length);
          for (let b = 0; b < batch; b++) for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
            e[(b * cols + j) * rows + i] = x[(b * rows + i) * cols + j];
          }
          close(out, e, 0, `transposeBatch ${batch}×${rows}×${cols}`);
        }
      });

      it('maxPoolForward matches naive windows: values, arg max, padding as 0', () => {
        for (const g of GEOMETRIES) {
          const x = rand(g.batch * g.channels * g.height * g.width, f64);
          const outputs = g.batch * g.channels * g.outH * g.outW;
          const out = f64 ? new Float64Array(outputs) : new Float32Array(outputs);
          const arg = new Int32Array(outputs).fill(-7);
          backend.maxPoolForward(x, out, arg, g);
          const e = refMaxPool(x, g);
          close(out, e.out, 0, `maxPoolForward ${JSON.stringify(g)}`);
          assert.deepEqual([...arg], e.arg, `maxPoolForward arg max ${JSON.stringify(g)}`);
        }
      });

      it('maxPoolForward: the first maximum on ties, a NaN propagates, padding 0 beats negatives', () => {
        const g: ConvGeometry = { batch: 1, channels: 1, height: 2, width: 4, filterH: 2, filterW: 2, stride: 2, pad: 0, outH: 1, outW: 2 };
        const x = f64 ? Float64Array.from([1, 3, 5, NaN, 3, 2, 5, 9]) : Float32Array.from([1, 3, 5, NaN, 3, 2, 5, 9]);
        const out = f64 ? new Float64Array(2) : new Float32Array(2);
        const arg = new Int32Array(2);
        backend.maxPoolForward(x, out, arg, g);
        assert.deepEqual([out[0], arg[0]], [3, 1]); // 3 at index 1 and at index 4: the first wins
        assert.ok(Number.isNaN(out[1]) && arg[1] === 3, `NaN window gave ${out[1]} at ${arg[1]}`);
        const gp: ConvGeometry = { batch: 1, channels: 1, height: 1, width: 1, filterH: 2, filterW: 2, stride: 1, pad: 1, outH: 2, outW: 2 };
        const neg = f64 ? Float64Array.of(-1) : Float32Array.of(-1);
        const o = f64 ? new Float64Array(4) : new Float32Array(4);
        const a = new Int32Array(4);
        backend.maxPoolForward(neg, o, a, gp);
        assert.deepEqual([...o], [0, 0, 0, 0]);
        assert.deepEqual([...a], [-1, -1, -1, -1]);
      });

      it('maxPoolBackward routes dout to the arg max, summing shared maxima, 0 elsewhere', () => {
        for (const g of GEOMETRIES) {
          const x = rand(g.batch * g.channels * g.height * g.width, f64);
          const outputs = g.batch * g.channels * g.outH * g.outW;
          const { arg } = refMaxPool(x, g);
          const argMax = Int32Array.from(arg);
          const dout = rand(outputs, f64);
          const dx = f64 ? new Float64Array(x.length) : new Float32Array(x.length);
          dx.fill(123);
          backend.maxPoolBackward(dout, argMax, dx, g);
          const e = new Float64Array(x.length);
          arg.forEach((k, i) => { if (k >= 0) e[k] += dout[i]; });
          close(dx, e, tol * 4, `maxPoolBackward ${JSON.stringify(g)}`);
        }
      });

      it('maxPoolBackward with a ReLU mask is bit-identical to maxPoolBackward then reluBackward', () => {
        // the book's 2×2 pooling of a (100, 30, 24, 24) convolution (large enough for the threads), and the odd geometries
        const book = { batch: 100, channels: 30, height: 24, width: 24, filterH: 2, filterW: 2, stride: 2, pad: 0, outH: 12, outW: 12 };
        for (const g of [...GEOMETRIES, book]) {
          const size = g.batch * g.channels * g.height * g.width;
          const x = rand(size, f64).map((v) => (v < -0.5 ? 0 : v)); // a ReLU's output... with negatives and NaN kept as masks
          x[1] = NaN;
          x[2] = -1;
          const outputs = g.batch * g.channels * g.outH * g.outW;
          const argMax = Int32Array.from(refMaxPool(x, g).arg);
          argMax[0] = 1; argMax[1] = 2; // maxima on the NaN and on a negative: masked
          const dout = rand(outputs, f64);
          const make = () => (f64 ? new Float64Array(size) : new Float32Array(size)).fill(123);
          const expected = make();
          backend.maxPoolBackward(dout, argMax, expected, g);
          backend.reluBackward(expected, x, expected);
          const dx = make();
          backend.maxPoolBackward(dout, argMax, dx, g, x);
          assert.deepEqual(dx, expected, `maxPoolBackward with a mask ${JSON.stringify(g)}`);
          // and the formula written out
          const e = new Float64Array(size);
          argMax.forEach((k, i) => { if (k >= 0 && x[k] > 0) e[k] += dout[i]; });
          close(dx, e, tol * 4, `maxPoolBackward with a mask ${JSON.stringify(g)}: formula`);
        }
      });
    });
  }
}

it('kernel tests ran on at least the reference backend', () => {
  assert.ok(backends.some((b: Backend) => b.name === 'js'));
});
