/**
 * Loads the real Fashion-MNIST from the Debian package `dataset-fashion-mnist` and checks
 * properties that garbage or a different dataset cannot satisfy.
 *
 * Without the package the tests are skipped (with the reason shown), except on CI
 * (`CI=true`), where a missing dataset is a broken environment and fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fashionMnist } from '../fashion.js';

/** Mean pixel value of the 60000 training images, as measured: 0.2860 on a 0..1 scale. */
const TRAIN_MEAN_PIXEL = 72.9404;
/** The first training image is an ankle boot (class 9), as is the first test image. */
const FIRST_TRAIN_LABEL = 9;
const FIRST_TEST_LABEL = 9;

/** How many labels fall in each class 0..9. */
function classCounts(labels: Uint8Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const label of labels) counts[label]!++;
  return counts;
}

test('Fashion-MNIST has 60000 train and 10000 test images of 28×28', (t) => {
  const data = fashionMnist(t);
  if (!data) return;
  assert.deepEqual([data.train.count, data.train.rows, data.train.cols], [60000, 28, 28]);
  assert.deepEqual([data.test.count, data.test.rows, data.test.cols], [10000, 28, 28]);
  assert.equal(data.train.images.length, 60000 * 28 * 28);
  assert.equal(data.test.images.length, 10000 * 28 * 28);
  assert.equal(data.train.labels.length, 60000);
  assert.equal(data.test.labels.length, 10000);
});

test('Fashion-MNIST labels are 0..9 with 6000 train and 1000 test images per class', (t) => {
  const data = fashionMnist(t);
  if (!data) return;
  assert.ok(data.train.labels.every((label) => label <= 9));
  assert.ok(data.test.labels.every((label) => label <= 9));
  assert.deepEqual(classCounts(data.train.labels), new Array(10).fill(6000));
  assert.deepEqual(classCounts(data.test.labels), new Array(10).fill(1000));
});

test('Fashion-MNIST content matches the real dataset (mean pixel, first labels)', (t) => {
  const data = fashionMnist(t);
  if (!data) return;
  let sum = 0;
  for (const pixel of data.train.images) sum += pixel;
  const mean = sum / data.train.images.length;
  const tolerance = TRAIN_MEAN_PIXEL * 0.01;
  assert.ok(
    Math.abs(mean - TRAIN_MEAN_PIXEL) <= tolerance,
    `mean training pixel is ${mean.toFixed(4)}, expected ${TRAIN_MEAN_PIXEL} ± ${tolerance.toFixed(4)}`,
  );
  assert.equal(data.train.labels[0], FIRST_TRAIN_LABEL);
  assert.equal(data.test.labels[0], FIRST_TEST_LABEL);
});
