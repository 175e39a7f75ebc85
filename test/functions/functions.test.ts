import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/Tensor.js';
import { softmax } from '../../src/functions/softmax.js';
import { crossEntropyError } from '../../src/functions/crossEntropyError.js';
import { numericalGradient } from '../../src/functions/numericalGradient.js';
import { oneHot } from '../../src/data/dataset.js';

const f64 = { dtype: 'float64' } as const;

describe('softmax', () => {
  it('stays finite on [1010, 1000, 990] and sums to 1 (the book\'s overflow example)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const y = softmax(Tensor.from([1010, 1000, 990], undefined, { dtype }));
      const v = Array.from(y.data);
      assert.ok(v.every(Number.isFinite));
      assert.ok(Math.abs(v.reduce((s, x) => s + x, 0) - 1) < 1e-6);
      assert.ok(Math.abs(v[0] - 0.9999546) < 1e-6 && Math.abs(v[1] - 4.5398e-5) < 1e-8 && Math.abs(v[2] - 2.0611e-9) < 1e-12);
    }
  });

  it('works row by row on a batch, unlike a 1-D softmax applied to the whole batch', () => {
    const y = softmax(Tensor.from([[0.3, 2.9, 4.0], [0, 0, 0]], undefined, f64));
    assert.deepEqual(y.shape, [2, 3]);
    assert.ok(Math.abs(y.get(0, 0) - 0.01821127) < 1e-8); // the book's [0.3, 2.9, 4.0] example
    assert.ok(Math.abs(y.get(1, 2) - 1 / 3) < 1e-15);
  });
});

describe('crossEntropyError', () => {
  const y = Tensor.from([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0], undefined, f64);
  it('matches the book: 0.510825457 for t = 2, 2.302584092 for t = 7', () => {
    assert.ok(Math.abs(crossEntropyError(y, 2) - 0.510825457099338) < 1e-12);
    assert.ok(Math.abs(crossEntropyError(y, 7) - 2.302584092994546) < 1e-12);
  });
  it('the 1e-7 guard: y = 0 at the target gives 16.118, not Infinity', () => {
    assert.ok(Math.abs(crossEntropyError(y, 3) - 16.11809565095832) < 1e-9);
  });
  it('one-hot and label targets give the same loss', () => {
    const batch = Tensor.from([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]], undefined, f64);
    assert.equal(crossEntropyError(batch, [1, 0]), crossEntropyError(batch, oneHot([1, 0], 3, f64)));
  });
});

describe('numericalGradient', () => {
  it('the book\'s function_2 = x0² + x1²: gradient (6, 8) at (3, 4), (0, 4) at (0, 2), (6, 0) at (3, 0)', () => {
    for (const [p, g] of [[[3, 4], [6, 8]], [[0, 2], [0, 4]], [[3, 0], [6, 0]]]) {
      const x = Tensor.from(p, undefined, f64);
      const grad = numericalGradient(() => x.get(0) ** 2 + x.get(1) ** 2, x);
      assert.ok(Math.abs(grad.get(0) - g[0]) < 1e-8 && Math.abs(grad.get(1) - g[1]) < 1e-8);
      assert.deepEqual(Array.from(x.data), p, 'x is restored');
    }
  });
});
