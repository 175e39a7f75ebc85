import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fanIn, initWeight, weightStd } from '../../src/layers/init.js';
import { Random } from '../../src/random.js';
import { allBackends } from '../kernels/backends.js';

const backends = await allBackends();

function std(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return Math.sqrt(s / values.length);
}

describe('weight initialisation', () => {
  it('the book\'s mapping: relu/he → √(2/n), sigmoid/xavier → √(1/n), a number as is; n is the fan-in', () => {
    assert.equal(weightStd('relu', 784), Math.sqrt(2 / 784));
    assert.equal(weightStd('he', 100), Math.sqrt(2 / 100));
    assert.equal(weightStd('sigmoid', 100), 0.1);
    assert.equal(weightStd('xavier', 50), Math.sqrt(1 / 50));
    assert.equal(weightStd('ReLU' as 'relu', 8), 0.5, 'names are case-insensitive, as the book lower-cases them');
    assert.equal(weightStd(0.01, 784), 0.01);
    assert.equal(fanIn([784, 50]), 784);
    assert.equal(fanIn([30, 1, 5, 5]), 25, 'a convolution filter (FN, C, FH, FW) has C·FH·FW inputs');
  });

  it('bad input gets clear errors', () => {
    assert.throws(() => weightStd('lecun' as 'he', 10), { name: 'RangeError', message: "weight init: unknown 'lecun' (expected 'relu', 'he', 'sigmoid', 'xavier' or a standard deviation > 0)" });
    assert.throws(() => weightStd(0, 10), /weight init: a standard deviation must be a finite number > 0, got 0/);
    assert.throws(() => weightStd(-1, 10), /got -1/);
    assert.throws(() => weightStd('he', 0), /weight init: the fan-in must be a whole number > 0, got 0/);
    assert.throws(() => fanIn([10]), /weight init: cannot tell the fan-in of shape \[10\]; give it as options.fanIn/);
    assert.deepEqual(initWeight([10], 'he', new Random(0), { fanIn: 2 }).shape, [10]);
  });

  for (const backend of backends) {
    it(`initWeight draws std·randn from the seeded generator (backend ${backend.name})`, () => {
      const W = initWeight([400, 50], 'he', new Random(3), { backend });
      assert.equal(W.dtype, 'float32');
      assert.equal(W.backend, backend);
      assert.ok(Math.abs(std(W.data) / Math.sqrt(2 / 400) - 1) < 0.02, `std ${std(W.data)}`);
      const again = initWeight([400, 50], 'he', new Random(3), { backend });
      assert.deepEqual(Array.from(again.data), Array.from(W.data));
      // the same draws as the book's scale · np.random.randn: element k is std · the k-th normal deviate
      const rng = new Random(4);
      const W64 = initWeight([3, 2], 0.5, new Random(4), { dtype: 'float64', backend });
      assert.deepEqual(Array.from(W64.data), Array.from({ length: 6 }, () => 0.5 * rng.normal()));
      const conv = initWeight([8, 3, 3, 3], 'xavier', new Random(5), { backend });
      assert.ok(Math.abs(std(conv.data) / Math.sqrt(1 / 27) - 1) < 0.1);
    });
  }
});
