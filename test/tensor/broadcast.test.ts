import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/Tensor.js';
import {
  arithmetic, broadcastShape, broadcastTo, equalMask, maxTo, normalizeAxes, reducedShape, scatterAddRows, sumTo, transposeAxes,
} from '../../src/tensor/broadcast.js';
import { cos, exp, log, powScalar, sin } from '../../src/tensor/unary.js';
import { allBackends } from '../kernels/backends.js';

for (const backend of await allBackends()) {
  const T = (v: Parameters<typeof Tensor.from>[0], shape?: number[]) => Tensor.from(v, shape, { dtype: 'float64', backend });

  describe(`broadcasting and axes, by hand (backend ${backend.name})`, () => {
    it('broadcastShape follows NumPy: aligned from the right, 1 stretches, anything else must match', () => {
      assert.deepEqual(broadcastShape('op', [2, 3], [3]), [2, 3]);
      assert.deepEqual(broadcastShape('op', [4, 1], [1, 5]), [4, 5]);
      assert.deepEqual(broadcastShape('op', [], [2, 2]), [2, 2]);
      assert.deepEqual(broadcastShape('op', [2, 1, 3], [5, 1]), [2, 5, 3]);
      assert.throws(() => broadcastShape('mul', [2, 3], [2]), /^ShapeError: mul: shapes \[2,3\] and \[2\] do not broadcast: aligned from the right, axis −1 has 3 and 2/);
    });

    it('arithmetic on broadcast shapes', () => {
      assert.deepEqual(arithmetic('add', T([[1, 2], [3, 4]]), T([10, 20])).toArray(), [[11, 22], [13, 24]]);
      assert.deepEqual(arithmetic('sub', T([[1], [2]]), T([1, 2, 3])).toArray(), [[0, -1, -2], [1, 0, -1]]);
      assert.deepEqual(arithmetic('mul', T(2, []), T([1, 2])).toArray(), [2, 4]);
      assert.deepEqual(arithmetic('div', T([[6, 8]]), T([[2], [4]])).toArray(), [[3, 4], [1.5, 2]]);
    });

    it('broadcastTo repeats; sumTo is its adjoint (⟨broadcastTo(a), b⟩ = ⟨a, sumTo(b)⟩)', () => {
      assert.deepEqual(broadcastTo(T([1, 2]), [2, 2]).toArray(), [[1, 2], [1, 2]]);
      assert.deepEqual(broadcastTo(T([[1], [2]]), [2, 2, 3]).toArray(), [[[1, 1, 1], [2, 2, 2]], [[1, 1, 1], [2, 2, 2]]]);
      const b = T([[1, 2, 3], [4, 5, 6]]);
      assert.deepEqual(sumTo(b, [3]).toArray(), [5, 7, 9]);
      assert.deepEqual(sumTo(b, [2, 1]).toArray(), [[6], [15]]);
      assert.deepEqual(sumTo(b, []).toArray(), 21);
      const a = T([[1], [-2]]);
      const left = Array.from(broadcastTo(a, [2, 3]).data).reduce((s, v, i) => s + v * b.data[i], 0);
      const right = Array.from(sumTo(b, [2, 1]).data).reduce((s, v, i) => s + v * a.data[i], 0);
      assert.equal(left, right);
      assert.throws(() => broadcastTo(T([[1], [2]]), [2, 1, 3]), /broadcastTo: shape \[2,1\] cannot be broadcast to \[2,1,3\]/);
      assert.throws(() => sumTo(b, [2, 2]), /sumTo: shapes \[2,2\] and \[2,3\] do not broadcast/);
    });

    it('maxTo and equalMask: the maximum over the axes, NaN winning; 1 where it was', () => {
      const x = T([[1, 5, 3], [7, 2, NaN]]);
      assert.deepEqual(maxTo(x, [2, 1]).toArray(), [[5], [NaN]]);
      assert.deepEqual(maxTo(T([[1, 5], [7, 2]]), [2]).toArray(), [7, 5]);
      assert.deepEqual(equalMask(T([[1, 5], [5, 2]]), T([[5], [5]])).toArray(), [[0, 1], [1, 0]]);
    });

    it('reducedShape, normalizeAxes', () => {
      assert.deepEqual(reducedShape('sum', [2, 3, 4], [0, -1]), { keep: [1, 3, 1], drop: [3] });
      assert.deepEqual(reducedShape('sum', [2, 3], undefined), { keep: [1, 1], drop: [] });
      assert.deepEqual(normalizeAxes('sum', 3, -1), [2]);
      assert.throws(() => normalizeAxes('sum', 2, 2), /sum: axis 2 is out of range for 2-D input/);
    });

    it('transposeAxes: 2-D, the last two axes of 3-D (kernel paths), any permutation of 4-D', () => {
      assert.deepEqual(transposeAxes(T([[1, 2, 3], [4, 5, 6]])).toArray(), [[1, 4], [2, 5], [3, 6]]);
      assert.deepEqual(transposeAxes(T([[[1, 2], [3, 4]]]), [0, 2, 1]).toArray(), [[[1, 3], [2, 4]]]);
      const x = T(Array.from({ length: 24 }, (_, i) => i), [2, 3, 2, 2]);
      const y = transposeAxes(x, [3, 1, 0, 2]);
      assert.deepEqual(y.shape, [2, 3, 2, 2]);
      for (const [a, b, c, d] of [[0, 0, 0, 0], [1, 2, 1, 0], [0, 1, 1, 1]]) assert.equal(y.get(a, b, c, d), x.get(c, b, d, a));
      assert.throws(() => transposeAxes(x, [0, 0, 1, 2]), /transpose: axes \[0,0,1,2\] are not a permutation/);
    });

    it('scatterAddRows adds rows back where they were gathered from', () => {
      assert.deepEqual(scatterAddRows(T([[1, 1], [2, 2]]), Int32Array.from([1, 1]), [3, 2]).toArray(), [[0, 0], [3, 3], [0, 0]]);
    });

    it('exp, log, sin, cos, powScalar element-wise', () => {
      assert.deepEqual(exp(T([0, 1])).toArray(), [1, Math.E]);
      assert.deepEqual(log(T([1, Math.E])).toArray(), [0, 1]);
      assert.deepEqual(sin(T([0])).toArray(), [0]);
      assert.deepEqual(cos(T([0])).toArray(), [1]);
      assert.deepEqual(powScalar(T([3, -2]), 2).toArray(), [9, 4]);
      assert.deepEqual(powScalar(T([4]), 0.5).toArray(), [2]);
    });
  });
}
