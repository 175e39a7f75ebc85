import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/Tensor.js';
import { loadBundledDigits } from '../../src/data/bundledDigits.js';
import { subset } from '../../src/data/split.js';
import { toLabeledData, type LabeledData } from '../../src/data/dataset.js';
import { MultiLayerNet, type MultiLayerNetOptions } from '../../src/nets/MultiLayerNet.js';
import { TwoLayerNet } from '../../src/nets/TwoLayerNet.js';
import { Trainer, type TrainerOptions, type TrainerState } from '../../src/train/Trainer.js';
import { TrainingError } from '../../src/train/TrainingError.js';
import type { EpochRecord } from '../../src/train/train.js';
import { Adam } from '../../src/optimizers/Adam.js';
import { SGD } from '../../src/optimizers/SGD.js';
import { SimpleConvNet } from '../../src/nets/SimpleConvNet.js';
import { gatherRows } from '../../src/tensor/ops.js';
import { Random } from '../../src/random.js';
import type { Backend } from '../../src/kernels/Backend.js';
import { allBackends } from '../kernels/backends.js';
import { snapshot } from '../helpers.js';

const backends = await allBackends();
const digits = loadBundledDigits();
const range = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

function digitsData(backend: Backend, trainRows: number, testRows: number): { train: LabeledData; test: LabeledData } {
  return {
    train: toLabeledData(subset(digits.train, range(trainRows)), { backend }),
    test: toLabeledData(subset(digits.test, range(testRows)), { backend }),
  };
}

/** Records without their timings, which differ from run to run. */
const untimed = (history: EpochRecord[]): Omit<EpochRecord, 'seconds'>[] => history.map(({ seconds: _, ...r }) => r);

/**
 * The state through a stand-in for a file: JSON with every tensor written as shape, dtype and
 * a plain array, then read back as new tensors on the default backend.
 */
function throughJson(state: TrainerState): TrainerState {
  const text = JSON.stringify(state, (_key, value: unknown) =>
    value instanceof Tensor ? { $tensor: true, shape: value.shape, dtype: value.dtype, data: Array.from(value.data) } : value);
  return JSON.parse(text, (_key, value: { $tensor?: boolean; shape: number[]; dtype: 'float32' | 'float64'; data: number[] }) =>
    value && value.$tensor ? Tensor.from(value.data, value.shape, { dtype: value.dtype }) : value) as TrainerState;
}

for (const backend of backends) {
  describe(`Trainer (backend ${backend.name})`, () => {
    const data = digitsData(backend, 1000, 300);

    it('Adam on 1,000 bundled digits learns: test accuracy well above chance after 5 epochs', () => {
      const net = new MultiLayerNet(784, [40], 10, { seed: 1, backend });
      const iterations: number[] = [];
      const epochs: EpochRecord[] = [];
      const trainer = new Trainer(net, data, { epochs: 5, miniBatchSize: 100, optimizer: 'adam', optimizerParams: { lr: 0.002 }, seed: 2, evaluateSampleNumPerEpoch: 200 }, {
        onIteration: (i) => iterations.push(i),
        onEpoch: (r) => epochs.push(r),
      });
      assert.equal(trainer.iterPerEpoch, 10);
      assert.equal(trainer.maxIter, 50);
      const before = net.accuracy(data.test.x, data.test.labels);
      const { history, final, lossList } = trainer.train();
      assert.ok(before < 0.25, `untrained ${before}`);
      assert.ok(final.testAccuracy > 0.7, `test accuracy ${final.testAccuracy}`);
      assert.ok(final.trainAccuracy > 0.7, `train accuracy ${final.trainAccuracy}`);
      assert.deepEqual(iterations, Array.from(range(50)).map((i) => i + 1));
      assert.equal(lossList.length, 50);
      // records after iterations 1, 11, 21, 31, 41 (epochs 0..4), then the final one on all rows
      assert.deepEqual(history.map((r) => [r.epoch, r.iteration]), [[0, 1], [1, 11], [2, 21], [3, 31], [4, 41], [5, 50]]);
      assert.deepEqual(epochs, history);
      assert.equal(final, history[5]);
      assert.ok(history[4].loss < history[1].loss / 2, 'loss falls');
      assert.ok(Math.abs(history[1].loss - lossList.slice(1, 11).reduce((s, v) => s + v, 0) / 10) < 1e-12, 'mean batch loss since the last record');
      assert.ok(history.every((r, i) => i === 0 || r.seconds >= history[i - 1].seconds));
      assert.equal(trainer.epoch, 5);
      assert.ok(trainer.done);
      assert.throws(() => trainer.trainStep(), /Trainer: all 50 iterations have run/);
      assert.equal(trainer.train().final, final, 'train() again changes nothing');
    });

    for (const [label, netOptions, options] of [
      ['batch norm + dropout + weight decay, Adam, batches with replacement', { useBatchnorm: true, useDropout: true, dropoutRatio: 0.2, weightDecayLambda: 0.01 }, { optimizer: 'adam', optimizerParams: { lr: 0.003 } }],
      ['dropout, Momentum, shuffled batches, sampled evaluation', { useDropout: true }, { optimizer: 'momentum', optimizerParams: { lr: 0.05 }, sampling: 'shuffle', evaluateSampleNumPerEpoch: 50 }],
    ] as [string, MultiLayerNetOptions, TrainerOptions][]) {
      it(`getState mid-run, setState on a fresh net and trainer, continue: bit-identical to an uninterrupted run (${label})`, () => {
        const small = digitsData(backend, 230, 60);
        const settings: TrainerOptions = { epochs: 3, miniBatchSize: 50, ...options };
        const make = (seed: number): [MultiLayerNet, Trainer] => {
          const net = new MultiLayerNet(784, [20, 15], 10, { seed, backend, activation: 'tanh', weightInitStd: 'xavier', ...netOptions });
          return [net, new Trainer(net, small, { ...settings, seed: seed + 100 })];
        };
        const [netA, a] = make(1);
        const resultA = a.train();
        assert.equal(a.maxIter, 15);

        const [netB, b] = make(1);
        for (let i = 0; i < 7; i++) b.trainStep(); // mid-epoch: iteration 7 of 15
        const state = b.getState();
        assert.equal(state.iteration, 7);
        assert.equal(state.epoch, 7 / 5);
        assert.deepEqual(Object.keys(state.network.params), Object.keys(netB.params));
        const [netC, c] = make(42); // other weights, other generators: all replaced by the state
        c.setState(throughJson(state));
        assert.equal(c.iteration, 7);
        const resultC = c.train();
        for (const key of Object.keys(netA.params)) assert.deepEqual(snapshot(netC.params[key]), snapshot(netA.params[key]), key);
        for (const key of Object.keys(netA.buffers)) assert.deepEqual(snapshot(netC.buffers[key]), snapshot(netA.buffers[key]), key);
        assert.deepEqual(resultC.lossList, resultA.lossList);
        assert.deepEqual(untimed(resultC.history), untimed(resultA.history));
        // the state was a snapshot: b can go on by itself to the same end
        b.train();
        assert.deepEqual(snapshot(netB.params.W1), snapshot(netA.params.W1));
      });
    }

    it('trains the book\'s TwoLayerNet too; its state is its parameters', () => {
      const small = digitsData(backend, 200, 50);
      const make = (): [TwoLayerNet, Trainer] => {
        const net = new TwoLayerNet(784, 10, 10, 0.01, { seed: 3, backend });
        return [net, new Trainer(net, small, { epochs: 2, miniBatchSize: 40, optimizer: new Adam({ lr: 0.01 }), seed: 4 })];
      };
      const [netA, a] = make();
      a.train();
      const [, b] = make();
      for (let i = 0; i < 4; i++) b.trainStep();
      const state = b.getState();
      assert.deepEqual(state.network.buffers, {});
      const [netC, c] = make();
      c.setState(state);
      c.train();
      assert.deepEqual(snapshot(netC.params.W2), snapshot(netA.params.W2));
    });

    for (const sampling of ['replacement', 'shuffle'] as const) {
      it(`a network that draws no random numbers (batches drawn a step ahead): the book's loop written out, bit for bit, and a resume at an epoch's end (${sampling})`, () => {
        const small = digitsData(backend, 300, 50);
        const [B, iters, lr, seed] = [100, 12, 0.1, 9]; // 3 iterations per epoch
        const make = (): [TwoLayerNet, Trainer] => {
          const net = new TwoLayerNet(784, 20, 10, 0.01, { seed: 3, backend });
          return [net, new Trainer(net, small, { iters, miniBatchSize: B, optimizer: 'sgd', optimizerParams: { lr }, sampling, seed })];
        };
        const [netA, a] = make();
        const { lossList } = a.train();

        // The book's loop: batch_mask = np.random.choice(train_size, batch_size) (or the next
        // rows of a permutation drawn at each epoch), gradient, W -= lr · dW.
        const ref = new TwoLayerNet(784, 20, 10, 0.01, { seed: 3, backend });
        const rng = new Random(seed);
        const sgd = new SGD({ lr });
        const [index, t] = [new Int32Array(B), new Int32Array(B)];
        let [order, cursor] = [null as Int32Array | null, 0];
        const losses: number[] = [];
        for (let i = 0; i < iters; i++) {
          if (sampling === 'replacement') rng.choice(300, B, index);
          else {
            if (!order || cursor + B > 300) [order, cursor] = [rng.permutation(300), 0];
            index.set(order.subarray(cursor, cursor + B));
            cursor += B;
          }
          const x = gatherRows(small.train.x, index);
          for (let j = 0; j < B; j++) t[j] = small.train.labels[index[j]];
          const grads = ref.gradient(x, t);
          losses.push(ref.lastLayer.loss!);
          sgd.update(ref.params, grads);
        }
        assert.deepEqual(lossList, losses);
        for (const key of TwoLayerNet.paramNames) assert.deepEqual(snapshot(netA.params[key]), snapshot(ref.params[key]), key);

        // stopped after an epoch's last batch, the next one (the next permutation's) drawn ahead
        const [, b] = make();
        for (let i = 0; i < 3; i++) b.trainStep();
        const state = b.getState();
        const [netC, c] = make();
        c.setState(throughJson(state));
        c.train();
        for (const key of TwoLayerNet.paramNames) assert.deepEqual(snapshot(netC.params[key]), snapshot(netA.params[key]), key);
        b.train(); // and b goes on by itself, the batch drawn ahead still in place
        assert.deepEqual(b.lossList, lossList);
      });
    }

    it('a diverging loss stops training with a TrainingError naming the iteration and suggesting a smaller lr', () => {
      const net = new MultiLayerNet(784, [20], 10, { seed: 1, backend, weightInitStd: 1 });
      const trainer = new Trainer(net, data, { epochs: 1, miniBatchSize: 30, optimizer: 'sgd', optimizerParams: { lr: 1e30 }, seed: 1 });
      let error: unknown;
      try {
        trainer.train();
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof TrainingError, String(error));
      assert.match(error.message, /^the loss became (NaN|Infinity) at iteration (\d+) \(optimizer sgd, lr 1e\+30\): training diverged; try a smaller learning rate$/);
      const at = Number(/iteration (\d+)/.exec(error.message)![1]);
      assert.equal(trainer.iteration, at - 1, 'the failing iteration did not update the weights');
      assert.ok(Array.from(net.params.W1.data).every(Number.isFinite), 'weights stay finite');
    });

    it('the same seeds give the same run', () => {
      const small = digitsData(backend, 150, 30);
      const run = (seed: number): number[] => {
        const net = new MultiLayerNet(784, [10], 10, { seed: 1, backend, useDropout: true });
        return new Trainer(net, small, { epochs: 2, miniBatchSize: 30, optimizer: 'rmsprop', seed }).train().lossList;
      };
      assert.deepEqual(run(5), run(5));
      assert.notDeepEqual(run(5), run(6));
    });
  });
}

describe('TrainerNetwork.drawsRandom (whether the Trainer may draw the next batch a step ahead)', () => {
  it('false for the nets without Dropout, true with it', () => {
    assert.equal(new TwoLayerNet(784, 5, 10, 0.01).drawsRandom, false);
    assert.equal(new SimpleConvNet().drawsRandom, false);
    assert.equal(new MultiLayerNet(784, [5], 10, { useBatchnorm: true }).drawsRandom, false);
    assert.equal(new MultiLayerNet(784, [5], 10, { useDropout: true }).drawsRandom, true);
  });
});

describe('Trainer: settings and state errors', () => {
  const data = digitsData(backends[0], 100, 20);
  const net = (): MultiLayerNet => new MultiLayerNet(784, [5], 10, { seed: 1 });

  it('bad settings get clear errors', () => {
    assert.throws(() => new Trainer(net(), data, { epochs: 0 }), /Trainer: epochs must be a whole number > 0, got 0/);
    assert.throws(() => new Trainer(net(), data, { miniBatchSize: 101 }), /Trainer: miniBatchSize must be a whole number in 1..100 \(the training set size\), got 101/);
    assert.throws(() => new Trainer(net(), data, { optimizer: 'adamw' }), /unknown optimizer 'adamw' \(expected one of sgd, momentum, nesterov, adagrad, rmsprop, adam\)/);
    assert.throws(() => new Trainer(net(), data, { optimizer: 'adam', optimizerParams: { lr: -1 } }), /Adam: lr must be a finite number > 0, got -1/);
    assert.throws(() => new Trainer(net(), data, { optimizer: new Adam(), optimizerParams: { lr: 0.1 } }), /Trainer: optimizerParams apply only when optimizer is a name/);
    assert.throws(() => new Trainer(net(), data, { sampling: 'stratified' as 'shuffle' }), /Trainer: sampling must be 'replacement' or 'shuffle', got 'stratified'/);
    assert.throws(() => new Trainer(net(), data, { evaluateSampleNumPerEpoch: 0 }), /Trainer: evaluateSampleNumPerEpoch must be a whole number > 0, got 0/);
    assert.throws(() => new Trainer(net(), { train: { x: data.train.x, labels: data.train.labels.slice(1) }, test: data.test }), /Trainer: the train set has 100 rows but 99 labels/);
  });

  it('defaults are the book\'s trainer: 20 epochs, batches of 100, SGD with lr 0.01, draws with replacement', () => {
    const trainer = new Trainer(net(), data);
    assert.deepEqual([trainer.epochs, trainer.miniBatchSize, trainer.optimizer.name, trainer.optimizer.hyperparameters.lr, trainer.sampling], [20, 100, 'sgd', 0.01, 'replacement']);
  });

  it('a state from another setup is refused, naming the difference', () => {
    const a = new Trainer(net(), data, { miniBatchSize: 20, seed: 1 });
    a.trainStep();
    const state = a.getState();
    assert.throws(() => new Trainer(net(), data, { miniBatchSize: 25 }).setState(state), /Trainer.setState: the state has miniBatchSize 20 but this trainer has 25/);
    assert.throws(() => new Trainer(net(), data, { miniBatchSize: 20, sampling: 'shuffle' }).setState(state), /the state has sampling replacement but this trainer has shuffle/);
    assert.throws(() => new Trainer(net(), data, { miniBatchSize: 20, epochs: 1 }).setState({ ...state, iteration: 6 }), /Trainer.setState: iteration 6 is outside 0..5/);
    assert.throws(() => new Trainer(net(), data, { miniBatchSize: 20, optimizer: 'adam' }).setState(state), /Adam.setState: the state is for the optimizer 'sgd', not 'adam'/);
    assert.throws(() => new Trainer(new MultiLayerNet(784, [6], 10), data, { miniBatchSize: 20 }).setState(state), /setState: the saved params 'W1' has shape \[784,5\] but the network's has \[784,6\]/);
    assert.throws(() => new Trainer(net(), data, { miniBatchSize: 20 }).setState({ ...state, version: 2 as 1 }), /Trainer.setState: unknown state version 2/);
  });

  it('the state is plain data plus tensors', () => {
    const t = new Trainer(new MultiLayerNet(784, [5], 10, { useBatchnorm: true, useDropout: true, rng: new Random(3) }), data, { miniBatchSize: 20, optimizer: 'adam', sampling: 'shuffle' });
    for (let i = 0; i < 3; i++) t.trainStep();
    const state = t.getState();
    const tensors: string[] = [];
    const walk = (v: unknown, path: string): void => {
      if (v instanceof Tensor) tensors.push(path);
      else if (v && typeof v === 'object') for (const [k, u] of Object.entries(v)) walk(u, path ? `${path}.${k}` : k);
      else assert.ok(['number', 'string', 'boolean'].includes(typeof v) || v === null, `${path} is ${typeof v}`);
    };
    walk(state, '');
    assert.ok(tensors.every((p) => /^(optimizer\.slots\.(m|v)|network\.(params|buffers))\./.test(p)), tensors.join(' '));
    assert.ok(tensors.includes('optimizer.slots.m.gamma1') && tensors.includes('network.buffers.runningVar1'));
    assert.equal(state.order!.length, 100);
    assert.equal(state.cursor, 60);
    assert.deepEqual(Object.keys(state.network.random), ['rng1']);
  });
});
