import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TwoLayerNet } from '../../src/nets/TwoLayerNet.js';
import { toLabeledData } from '../../src/data/dataset.js';
import { Random } from '../../src/random.js';
import { train } from '../../src/train/train.js';
import { main } from '../../src/cli/main.js';
import { DIR, fashionMnist } from '../fashion.js';

test('a short training run on the full Fashion-MNIST (60,000 + 10,000) learns', (t) => {
  const ds = fashionMnist(t);
  if (!ds) return;
  const data = { train: toLabeledData(ds.train), test: toLabeledData(ds.test) };
  const rng = new Random(0);
  const net = new TwoLayerNet(784, 50, 10, 0.01, { rng });
  const { final } = train(net, data, { iters: 300, batchSize: 100, lr: 0.1, rng });
  t.diagnostic(`after 300 iterations: train ${final.trainAccuracy}, test ${final.testAccuracy}`);
  assert.ok(final.testAccuracy > 0.7, `test accuracy ${final.testAccuracy}`);
  assert.ok(final.trainAccuracy > 0.7, `train accuracy ${final.trainAccuracy}`);
});

test('backprop train --data reads the Fashion-MNIST files', async (t) => {
  if (!fashionMnist(t)) return;
  let out = '';
  const code = await main(['train', '--data', DIR, '--iters', '50', '--quiet'], { out: (s) => void (out += s), err: (s) => void (out += s), isTTY: false });
  assert.equal(code, 0, out);
  assert.match(out, /final: train accuracy 0\.\d+, test accuracy 0\.\d+ after 50 iterations/);
});
