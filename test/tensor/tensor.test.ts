import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/Tensor.js';
import { addBias, gatherRows, gatherRowsAhead, matmul, sumColumns } from '../../src/tensor/ops.js';

describe('Tensor', () => {
  it('from nested arrays: shape, get, toArray; float32 by default, float64 on request', () => {
    const x = Tensor.from([[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(x.shape, [2, 3]);
    assert.equal(x.get(1, 2), 6);
    assert.deepEqual(x.toArray(), [[1, 2, 3], [4, 5, 6]]);
    assert.ok(x.data instanceof Float32Array);
    assert.ok(Tensor.from([1], undefined, { dtype: 'float64' }).data instanceof Float64Array);
  });

  it('from(values, { dtype }) and from(values, shape, { dtype }): options with or without a shape', () => {
    const a = Tensor.from([[1, 2], [3, 4]], { dtype: 'float64' });
    assert.ok(a.data instanceof Float64Array);
    assert.deepEqual(a.shape, [2, 2]);
    assert.deepEqual(Array.from(a.data), [1, 2, 3, 4]);
    const b = Tensor.from(Float32Array.of(1, 2, 3), { dtype: 'float64' });
    assert.deepEqual([b.dtype, b.shape], ['float64', [3]]);
    const c = Tensor.from([1, 2, 3, 4, 5, 6], [3, 2], { dtype: 'float64' });
    assert.deepEqual([c.dtype, c.shape, c.get(2, 1)], ['float64', [3, 2], 6]);
    assert.equal(Tensor.from([1, 2], {}).dtype, 'float32');
    assert.equal(Tensor.from(5, { dtype: 'float64' }).toArray(), 5);
  });

  it('from with a second argument that is neither a shape nor options names what it got', () => {
    const from = Tensor.from as (values: unknown, second?: unknown) => Tensor; // as plain JavaScript calls it
    assert.throws(() => from([1, 2], 2), { name: 'TypeError', message: 'Tensor.from: the second argument must be a shape (an array of dimensions) or options ({ dtype, backend }), got number 2' });
    assert.throws(() => from([1, 2], 'float64'), /got 'float64'$/);
    assert.throws(() => from([1, 2], null), /got null$/);
    assert.throws(() => from([1, 2], Int32Array.of(2)), /got Int32Array$/);
  });

  it('reshape shares storage and infers one −1; bad shapes are errors', () => {
    const x = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = x.reshape([3, -1]);
    assert.deepEqual(y.shape, [3, 2]);
    y.set(60, 2, 1);
    assert.equal(x.get(1, 2), 60);
    assert.throws(() => x.reshape([4, -1]), /reshape: cannot view \[2,3\] as \[4,-1\]/);
    assert.throws(() => x.reshape([5]), /reshape: cannot view \[2,3\] \(6 elements\) as \[5\]/);
    assert.throws(() => Tensor.from([1, 2, 3], [2, 2]), /3 values do not fill shape \[2,2\]/);
    assert.throws(() => Tensor.zeros([2, 1.5]), /invalid shape \[2,1.5\]/);
    assert.throws(() => x.get(2, 0), /index 2 out of range for dimension 0 of shape \[2,3\]/);
  });

  it('clone copies; toString shows shape and dtype', () => {
    const x = Tensor.from([[1, 2]]);
    const c = x.clone({ dtype: 'float64' });
    c.set(9, 0, 0);
    assert.equal(x.get(0, 0), 1);
    assert.equal(c.dtype, 'float64');
    assert.equal(String(x), 'Tensor([1,2], float32) [[1,2]]');
  });
});

describe('operations check shapes', () => {
  const a = Tensor.zeros([100, 783]);
  const W = Tensor.zeros([784, 50]);
  it('matmul names both shapes', () => {
    assert.throws(() => matmul(a, W), { name: 'ShapeError', message: 'matmul: inner dimensions differ: op(A) is 100×783, op(B) is 784×50 (A shape [100,783], B shape [784,50])' });
    assert.throws(() => matmul(Tensor.zeros([3]), W), /matmul: A must be 2-D, got shape \[3\]/);
    assert.throws(() => matmul(W, Tensor.zeros([50, 2], { dtype: 'float64' })), /matmul: mixed dtypes float32 and float64/);
  });
  it('matmul with transposes, into a reused out', () => {
    const x = Tensor.from([[1, 2], [3, 4], [5, 6]]); // 3×2
    const xtx = matmul(x, x, { transA: true });
    assert.deepEqual(xtx.toArray(), [[35, 44], [44, 56]]);
    const out = Tensor.zeros([3, 3]);
    assert.equal(matmul(x, x, { transB: true, out }), out);
    assert.deepEqual(out.toArray(), [[5, 11, 17], [11, 25, 39], [17, 39, 61]]);
  });
  it('addBias, sumColumns, gatherRows', () => {
    const x = Tensor.from([[1, 2], [3, 4]]);
    assert.deepEqual(addBias(x, Tensor.from([10, 20])).toArray(), [[11, 22], [13, 24]]);
    assert.throws(() => addBias(x, Tensor.from([1, 2, 3])), /addBias: bias has 3 elements but x has 2 columns/);
    assert.deepEqual(sumColumns(x).toArray(), [4, 6]);
    assert.deepEqual(gatherRows(x, Int32Array.from([1, 1, 0])).toArray(), [[3, 4], [3, 4], [1, 2]]);
    assert.throws(() => gatherRows(x, Int32Array.from([2])), /gatherRows: index 2 at position 0 is outside 0..1/);
    // gatherRowsAhead: the same rows once waited for, into `out` when it fits; its index checked at once
    const out = Tensor.zeros([3, 2]);
    const pending = gatherRowsAhead(x, Int32Array.from([1, 0, 1]), out);
    assert.equal(pending.wait(), out);
    assert.deepEqual(out.toArray(), [[3, 4], [1, 2], [3, 4]]);
    assert.deepEqual(gatherRowsAhead(x, Int32Array.from([0])).wait().toArray(), [[1, 2]]);
    assert.throws(() => gatherRowsAhead(x, Int32Array.from([0, -1])), /gatherRowsAhead: index -1 at position 1 is outside 0..1/);
  });
});
