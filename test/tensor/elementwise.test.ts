/**
 * The operations of src/tensor/elementwise.ts (here because test/tensor/ belongs to the
 * tensor module's owners): values against plain loops, `out` reuse, shape errors, and safety
 * when an allocation grows a WebAssembly backend's memory.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/Tensor.js';
import * as ew from '../../src/tensor/elementwise.js';
import { Random } from '../../src/random.js';
import { allBackends } from '../kernels/backends.js';
import { randn, snapshot } from '../helpers.js';

const backends = await allBackends();

for (const backend of backends) {
  describe(`elementwise operations (backend ${backend.name})`, () => {
    it('maxRows: the largest element of each row, NaN propagating as in NumPy', () => {
      const x = Tensor.from([[1, 5, 3], [-2, -1, -7], [0, NaN, 9]], undefined, { dtype: 'float64', backend });
      assert.deepEqual(Array.from(ew.maxRows(x).data), [5, -1, NaN]);
      assert.throws(() => ew.maxRows(Tensor.zeros([3], { backend })), /maxRows: x must be 2-D/);
    });

    const f64 = { dtype: 'float64' as const, backend };
    const rng = new Random(1);
    const a = randn([3, 4], rng, backend);
    const b = randn([3, 4], rng, backend);
    const row = randn([4], rng, backend);
    const row2 = randn([4], rng, backend);
    const [A, B, R, R2] = [snapshot(a), snapshot(b), snapshot(row), snapshot(row2)];
    const at = (k: number): number => k % 4;

    it('element-wise: add, sub, mul, div, scale, sqrtPlus, tanh, tanhBackward, sumOfSquares', () => {
      assert.deepEqual(snapshot(ew.add(a, b)), A.map((v, k) => v + B[k]));
      assert.deepEqual(snapshot(ew.sub(a, b)), A.map((v, k) => v - B[k]));
      assert.deepEqual(snapshot(ew.mul(a, b)), A.map((v, k) => v * B[k]));
      assert.deepEqual(snapshot(ew.div(a, b)), A.map((v, k) => v / B[k]));
      assert.deepEqual(snapshot(ew.scale(a, -2.5)), A.map((v) => -2.5 * v));
      assert.deepEqual(snapshot(ew.sqrtPlus(ew.mul(a, a), 1e-6)), A.map((v) => Math.sqrt(v * v + 1e-6)));
      assert.deepEqual(snapshot(ew.tanh(a)), A.map(Math.tanh));
      assert.deepEqual(snapshot(ew.tanhBackward(b, a)), B.map((g, k) => g * (1 - A[k] * A[k])));
      assert.equal(ew.sumOfSquares(a), A.reduce((s, v) => s + v * v, 0));
    });

    it('rows and columns: subRow, mulRow, divRow, mulAddRow, meanColumns, varianceColumns, dotColumns', () => {
      assert.deepEqual(snapshot(ew.subRow(a, row)), A.map((v, k) => v - R[at(k)]));
      assert.deepEqual(snapshot(ew.mulRow(a, row)), A.map((v, k) => v * R[at(k)]));
      assert.deepEqual(snapshot(ew.divRow(a, row)), A.map((v, k) => v / R[at(k)]));
      assert.deepEqual(snapshot(ew.mulAddRow(a, row, row2)), A.map((v, k) => v * R[at(k)] + R2[at(k)]));
      const col = (j: number): number[] => [0, 1, 2].map((i) => A[i * 4 + j]);
      const mean = [0, 1, 2, 3].map((j) => col(j).reduce((s, v) => s + v, 0) / 3);
      assert.deepEqual(snapshot(ew.meanColumns(a)), mean);
      const m = ew.meanColumns(a);
      assert.deepEqual(snapshot(ew.varianceColumns(a, m)), [0, 1, 2, 3].map((j) => col(j).reduce((s, v) => s + (v - mean[j]) * (v - mean[j]), 0) / 3));
      assert.deepEqual(snapshot(ew.dotColumns(a, b)), [0, 1, 2, 3].map((j) => [0, 1, 2].reduce((s, i) => s + A[i * 4 + j] * B[i * 4 + j], 0)));
      assert.deepEqual(ew.meanColumns(a).shape, [4]);
    });

    it('in place: movingAverageInto, copyInto (across dtypes), randomMaskInto', () => {
      const avg = row.clone();
      ew.movingAverageInto(avg, row2, 0.9);
      assert.deepEqual(snapshot(avg), R.map((v, j) => 0.9 * v + (1 - 0.9) * R2[j]));
      const dst = Tensor.zeros([3, 4], { backend });
      ew.copyInto(a, dst);
      assert.deepEqual(snapshot(dst), Array.from(Float32Array.from(A)));
      const mask = Tensor.zeros([1000], f64);
      ew.randomMaskInto(mask, 0.25, new Random(2));
      const draws = new Random(2);
      assert.deepEqual(snapshot(mask), Array.from({ length: 1000 }, () => (draws.next() > 0.25 ? 1 : 0)));
    });

    it('writes into out when it fits, may be in place, and does not modify its inputs', () => {
      const out = Tensor.zeros([3, 4], f64);
      assert.equal(ew.mul(a, b, out), out);
      assert.equal(ew.mulRow(a, row, out), out);
      assert.deepEqual(ew.mul(a, b, Tensor.zeros([4, 3], f64)).shape, [3, 4], 'an out of the wrong shape is replaced');
      const c = a.clone();
      ew.scale(c, 2, c);
      assert.deepEqual(snapshot(c), A.map((v) => 2 * v));
      assert.deepEqual(snapshot(a), A);
      assert.deepEqual(snapshot(b), B);
    });

    it('shape, dtype and value errors name the operation and shapes', () => {
      assert.throws(() => ew.mul(a, Tensor.zeros([4, 3], f64)), { name: 'ShapeError', message: 'mul: a has shape [3,4] but b has shape [4,3]' });
      assert.throws(() => ew.add(a, Tensor.zeros([3, 4], { backend })), { name: 'ShapeError', message: 'add: mixed dtypes float64 (a) and float32 (b)' });
      assert.throws(() => ew.subRow(a, Tensor.zeros([3], f64)), { name: 'ShapeError', message: 'subRow: row has 3 elements but x has 4 columns (x shape [3,4], row shape [3])' });
      assert.throws(() => ew.meanColumns(Tensor.zeros([2, 2, 2], f64)), /meanColumns: x must be 2-D \(N, D\), got shape \[2,2,2\]; reshape it to \(N, -1\) first/);
      assert.throws(() => ew.mulAddRow(a, row, Tensor.zeros([5], f64)), /mulAddRow: shift has 5 elements but x has 4 columns/);
      assert.throws(() => ew.movingAverageInto(row, Tensor.zeros([5], f64), 0.9), /movingAverage: x has shape \[5\] but the average has shape \[4\]/);
      assert.throws(() => ew.copyInto(a, Tensor.zeros([4, 3], f64)), /copy: source has shape \[3,4\] but the destination has shape \[4,3\]/);
      assert.throws(() => ew.scale(a, NaN), /scale: alpha must be a finite number, got NaN/);
      assert.throws(() => ew.randomMaskInto(a, 1, new Random(0)), /randomMask: ratio must be in \[0, 1\), got 1/);
      assert.throws(() => ew.adamUpdateInto(a, a.clone(), row, b, 0.1, 0.9, 0.999, 1e-7), { name: 'ShapeError', message: 'Adam.update: the parameter has shape [3,4] but v has shape [4]' });
    });

    it('stays correct when allocating the output grows the backend\'s memory', () => {
      const heap = (backend as unknown as { heap?: { generation: number } }).heap;
      const before = heap?.generation ?? 0;
      const big = Tensor.zeros([1 << 20], { backend }); // 4 MB: more than the backend's initial memory
      big.data.fill(3);
      const out = ew.scale(big, 2); // allocates another 4 MB before reading big.data
      const sum = ew.add(big, out); // and again
      if (heap) assert.ok(heap.generation > before, 'the memory grew');
      assert.equal(out.data[0], 6);
      assert.equal(out.data[(1 << 20) - 1], 6);
      assert.equal(sum.data[12345], 9);
    });
  });
}
