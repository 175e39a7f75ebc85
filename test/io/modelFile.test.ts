import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildNetwork, type ModelSpec, type Network } from '../../src/nets/buildNetwork.js';
import { TwoLayerNet } from '../../src/nets/TwoLayerNet.js';
import { MultiLayerNet } from '../../src/nets/MultiLayerNet.js';
import { SimpleConvNet } from '../../src/nets/SimpleConvNet.js';
import { Sequential } from '../../src/nets/Sequential.js';
import { Affine } from '../../src/layers/Affine.js';
import { Relu } from '../../src/layers/Relu.js';
import { initWeight } from '../../src/layers/init.js';
import { Tensor } from '../../src/tensor/Tensor.js';
import { ModelFileError } from '../../src/io/ModelFileError.js';
import { loadModel, saveModel } from '../../src/io/modelFiles.js';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { Random } from '../../src/random.js';
import { Trainer } from '../../src/train/Trainer.js';
import { loadBundledDigits } from '../../src/data/bundledDigits.js';
import { subset } from '../../src/data/split.js';
import { toLabeledData } from '../../src/data/dataset.js';
import { CONV_PARAM_DEFAULTS } from '../../src/nets/SimpleConvNet.js';
import { allBackends } from '../kernels/backends.js';

const dir = mkdtempSync(join(tmpdir(), 'backprop-models-'));
const digits = loadBundledDigits();
const base: ModelSpec = { model: 'two-layer', inputSize: 784, outputSize: 10, hidden: [20], activation: 'relu', init: 0.01, weightDecay: 0, dropout: 0, batchNorm: false, dtype: 'float32' };
const specs: ModelSpec[] = [
  base,
  { ...base, model: 'mlp', hidden: [30, 20], init: 'he', batchNorm: true, dropout: 0.2, weightDecay: 0.01, activation: 'tanh' },
  { ...base, model: 'cnn', hidden: [20], conv: { ...CONV_PARAM_DEFAULTS, filterNum: 4 }, inputDim: [1, 28, 28] },
];

for (const backend of await allBackends()) {
  describe(`model files (backend ${backend.name})`, () => {
    for (const spec of specs) {
      it(`${spec.model}: saved then loaded gives bit-identical predictions and training state`, () => {
        const data = { train: toLabeledData(subset(digits.train, Int32Array.from({ length: 300 }, (_, i) => i)), { backend }), test: toLabeledData(subset(digits.test, [0, 1, 2, 3, 4]), { backend }) };
        const rng = new Random(4);
        const network = buildNetwork(spec, { rng, backend });
        const trainer = new Trainer(network, data, { iters: 12, miniBatchSize: 20, optimizer: 'adam', rng });
        for (let i = 0; i < 12; i++) trainer.trainStep();
        const file = join(dir, `${spec.model}-${backend.name}.safetensors`);
        saveModel(file, { spec, network, training: trainer.getState(), data: { source: 'bundled', trainSize: 300, testSize: 5, splitSeed: 0 }, config: { lr: 0.001 } });
        const loaded = loadModel(file, { backend });
        assert.deepEqual(loaded.spec, spec);
        assert.deepEqual(loaded.data, { source: 'bundled', trainSize: 300, testSize: 5, splitSeed: 0 });
        assert.deepEqual(Array.from(loaded.network.predict(data.test.x).data), Array.from(network.predict(data.test.x).data));
        for (const [name, t] of Object.entries(network.params)) assert.deepEqual(Array.from(loaded.network.params[name].data), Array.from(t.data), name);
        const state = loaded.training!;
        assert.equal(state.iteration, 12);
        assert.equal(state.optimizer.name, 'adam');
        assert.equal(state.optimizer.step, 12);
        assert.deepEqual(Object.keys(state.optimizer.slots).sort(), ['m', 'v']);
        assert.deepEqual(state.rng, trainer.getState().rng);
      });
    }
  });
}

describe('model files: bad and hostile files get a clear error naming the file and field', () => {
  const network = buildNetwork(base, { rng: new Random(0) });
  const good = join(dir, 'good.safetensors');
  saveModel(good, { spec: base, network });
  const file = parseSafetensors(readFileSync(good), good);

  /** Write a variant of the good file with some metadata or tensors changed. */
  const variant = (name: string, meta: Record<string, string>, tensors = file.tensors): string => {
    const path = join(dir, name);
    writeFileSync(path, serializeSafetensors(tensors, { ...file.metadata, ...meta }));
    return path;
  };
  const arch = (change: Record<string, unknown>): string => JSON.stringify({ ...base, ...change });

  it('not a backprop model (no format)', () => {
    const path = join(dir, 'plain.safetensors');
    writeFileSync(path, serializeSafetensors(file.tensors, {}));
    assert.throws(() => loadModel(path), { name: 'ModelFileError', message: new RegExp(`${path}: __metadata__.format is missing`) });
  });
  it('architecture not JSON, or a bad field', () => {
    assert.throws(() => loadModel(variant('a1', { architecture: '{oops' })), /a1: __metadata__.architecture is not valid JSON/);
    assert.throws(() => loadModel(variant('a2', { architecture: arch({ model: 'transformer' }) })), /a2: __metadata__.architecture.model is "transformer", expected one of two-layer, mlp, cnn/);
    assert.throws(() => loadModel(variant('a3', { architecture: arch({ hidden: [-5] }) })), /a3: __metadata__.architecture.hidden must be a list/);
    assert.throws(() => loadModel(variant('a4', { architecture: arch({ dtype: 'float16' }) })), /a4: __metadata__.architecture.dtype is "float16"/);
  });
  it('an architecture that does not match the tensors', () => {
    assert.throws(() => loadModel(variant('m1', { architecture: arch({ hidden: [21] }) })), /m1: __metadata__.architecture needs 16674 weights but the file holds only 15910 values/);
    assert.throws(() => loadModel(variant('m2', { architecture: arch({ hidden: [19] }) })), /m2: tensor "W1" has shape \[784,20\] but the architecture needs \[784,19\]/);
    const { b2: _dropped, ...rest } = file.tensors;
    assert.throws(() => loadModel(variant('m3', {}, rest)), /m3: missing tensor "b2"/);
  });
  it('an architecture asking for billions of weights allocates nothing large', () => {
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(() => loadModel(variant('huge', { architecture: arch({ hidden: [100000], inputSize: 1000000 }) })), /huge: __metadata__.architecture needs 100001000000 weights but the file holds only 15910 values/);
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 2 ** 20);
  });
  it('fields valid one by one that make no network together (found by the property tests)', () => {
    assert.throws(() => loadModel(variant('t1', { architecture: arch({ hidden: [5, 4] }) })), { name: 'ModelFileError', message: /t1: __metadata__.architecture does not describe a network: two-layer: exactly one hidden size, got 2/ });
    assert.throws(() => loadModel(variant('t2', { architecture: arch({ init: 'he' }) })), { name: 'ModelFileError', message: /t2: __metadata__.architecture does not describe a network: two-layer: the initial weight std must be a number/ });
    const cnn = { model: 'cnn', conv: { filterNum: 2, filterSize: 5, pad: 0, stride: 1 }, inputDim: [1, 28, 28] };
    assert.throws(() => loadModel(variant('t3', { architecture: arch({ ...cnn, inputSize: 100 }) })), { name: 'ModelFileError', message: /t3: __metadata__.architecture.inputSize is 100, but inputDim \[1,28,28\] holds 784 values/ });
    assert.throws(() => loadModel(variant('t4', { architecture: arch({ ...cnn, inputSize: 9, inputDim: [1, 3, 3] }) })), { name: 'ModelFileError', message: /t4: __metadata__.architecture does not describe a network: .*SimpleConvNet/ });
  });
  it('an architecture field nested too deep to show is a ModelFileError, not a stack overflow', () => {
    const deep = '['.repeat(20000) + ']'.repeat(20000);
    const path = variant('deep', { architecture: JSON.stringify({ ...base, hidden: 'DEEP' }).replace('"DEEP"', deep) });
    assert.throws(() => loadModel(path), { name: 'ModelFileError', message: /deep: __metadata__.architecture.hidden must be a list of 1..100 whole numbers in 1..100000, got an array nested too deep to show/ });
  });
  it('training state with slot names that are not a list of distinct parameters, or a broken generator state', () => {
    const mlp: ModelSpec = { ...base, model: 'mlp', inputSize: 6, outputSize: 3, hidden: [4], init: 'he', dropout: 0.5 };
    const data = { train: { x: Tensor.zeros([4, 6]), labels: Int32Array.from([0, 1, 2, 0]) }, test: { x: Tensor.zeros([4, 6]), labels: Int32Array.from([0, 1, 2, 0]) } };
    const rng = new Random(0);
    const network = buildNetwork(mlp, { rng });
    const trainer = new Trainer(network, data, { iters: 1, miniBatchSize: 2, optimizer: 'adam', rng });
    trainer.trainStep();
    const saved = join(dir, 'mlp-state.safetensors');
    saveModel(saved, { spec: mlp, network, training: trainer.getState() });
    const { tensors, metadata } = parseSafetensors(readFileSync(saved), saved);
    const training = JSON.parse(metadata.training);
    const withTraining = (name: string, change: (t: typeof training) => void): string => {
      const t = structuredClone(training);
      change(t);
      const path = join(dir, name);
      writeFileSync(path, serializeSafetensors(tensors, { ...metadata, training: JSON.stringify(t) }));
      return path;
    };
    assert.doesNotThrow(() => loadModel(withTraining('s0', () => {})));
    assert.throws(() => loadModel(withTraining('s1', (t) => { t.optimizer.slotNames.m = 'W1'; })), { name: 'ModelFileError', message: /s1: __metadata__.training.optimizer.slotNames.m must be a list of distinct parameter names/ });
    // one name a million times would have made a million copies of W1's slot
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(() => loadModel(withTraining('s2', (t) => { t.optimizer.slotNames.m = Array(1e6).fill('W1'); })), { name: 'ModelFileError', message: /s2: __metadata__.training.optimizer.slotNames.m must be a list of distinct/ });
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 2 ** 20);
    assert.throws(() => loadModel(withTraining('s3', (t) => { t.optimizer.slotNames.m = ['constructor']; })), { name: 'ModelFileError', message: /s3: optimizer slot m names parameter 'constructor', which the architecture lacks/ });
    const generator = Object.keys(training.random)[0];
    assert.throws(() => loadModel(withTraining('s4', (t) => { t.random = {}; })), { name: 'ModelFileError', message: new RegExp(`s4: __metadata__.training.random.${generator} must be`) });
    assert.throws(() => loadModel(withTraining('s5', (t) => { t.random[generator].s = [0, 0, 0, 0]; })), { name: 'ModelFileError', message: /s5: __metadata__.training.random/ });
    // the rest of the state, which `train --resume` hands to Trainer.setState (a TypeError there before)
    assert.throws(() => loadModel(withTraining('s6', (t) => { delete t.history; })), { name: 'ModelFileError', message: /s6: __metadata__.training.history must be a list of records of numbers/ });
    assert.throws(() => loadModel(withTraining('s7', (t) => { t.rng = null; })), { name: 'ModelFileError', message: /s7: __metadata__.training.rng must be/ });
    assert.throws(() => loadModel(withTraining('s8', (t) => { t.iteration = -1; })), { name: 'ModelFileError', message: /s8: __metadata__.training.iteration must be a whole number ≥ 0, got -1/ });
    assert.throws(() => loadModel(withTraining('s9', (t) => { t.order = [0, 0, 5]; t.cursor = 0; })), { name: 'ModelFileError', message: /s9: __metadata__.training.order must be a permutation/ });
    assert.throws(() => loadModel(withTraining('s10', (t) => { t.optimizer.hyperparameters = 'fast'; })), { name: 'ModelFileError', message: /s10: __metadata__.training.optimizer.hyperparameters must be an object of numbers/ });
    const nullState = join(dir, 's11');
    writeFileSync(nullState, serializeSafetensors(tensors, { ...metadata, training: 'null' }));
    assert.throws(() => loadModel(nullState), { name: 'ModelFileError', message: /s11: __metadata__.training must be an object/ });
  });
  it('a truncated file', () => {
    const path = join(dir, 'truncated.safetensors');
    const bytes = readFileSync(good);
    writeFileSync(path, bytes.subarray(0, bytes.length - 10));
    assert.throws(() => loadModel(path), { name: 'ModelFileError', message: /truncated\.safetensors/ });
  });
});

describe('saveModel refuses a spec that does not describe the network, naming the field, and writes nothing', () => {
  const refused = (name: string, spec: ModelSpec, network: Network, message: RegExp): void => {
    const path = join(dir, `${name}.safetensors`);
    assert.throws(() => saveModel(path, { spec, network }), (e: Error) => e instanceof ModelFileError && message.test(e.message) && e.message.startsWith(`saveModel ${path}: `));
    assert.equal(existsSync(path), false, `${name}: nothing was written`);
  };
  const two = { ...base, hidden: [50] };

  it('TwoLayerNet(784, 30, 10) saved with a hidden-50 spec', () => {
    refused('hidden', two, new TwoLayerNet(784, 30, 10), /the spec does not match the network \(a TwoLayerNet\): spec\.hidden is \[50\] but the network has \[30\]; nothing was written$/);
    refused('sizes', { ...two, hidden: [30], inputSize: 100, outputSize: 3 }, new TwoLayerNet(784, 30, 10), /spec\.inputSize is 100 but the network has 784; spec\.outputSize is 3 but the network has 10/);
    refused('dtype', { ...two, hidden: [30] }, new TwoLayerNet(784, 30, 10, 0.01, { dtype: 'float64' }), /spec\.dtype is "float32" but the network has "float64"/);
    refused('kind', { ...two, hidden: [30], model: 'mlp' }, new TwoLayerNet(784, 30, 10), /spec\.model is "mlp" but the network has "two-layer"/);
    // the matching spec saves and loads
    const ok = join(dir, 'two-ok.safetensors');
    saveModel(ok, { spec: { ...two, hidden: [30] }, network: new TwoLayerNet(784, 30, 10) });
    assert.deepEqual(loadModel(ok).network.params.W1.shape, [784, 30]);
  });

  it('MultiLayerNet: activation, dropout, batch norm and weight decay are part of the architecture', () => {
    const spec: ModelSpec = { ...base, model: 'mlp', hidden: [30, 20], init: 'he', activation: 'tanh', dropout: 0.2, batchNorm: true, weightDecay: 0.01 };
    const network = new MultiLayerNet(784, [30, 20], 10, { activation: 'tanh', useDropout: true, dropoutRatio: 0.2, useBatchnorm: true, weightDecayLambda: 0.01 });
    saveModel(join(dir, 'mlp-ok.safetensors'), { spec, network });
    refused('mlp-hidden', { ...spec, hidden: [30, 21] }, network, /spec\.hidden is \[30,21\] but the network has \[30,20\]/);
    refused('mlp-activation', { ...spec, activation: 'relu' }, network, /\(a MultiLayerNet\): spec\.activation is "relu" but the network has "tanh"/);
    refused('mlp-dropout', { ...spec, dropout: 0.5 }, network, /spec\.dropout is 0\.5 but the network has 0\.2/);
    refused('mlp-batchnorm', { ...spec, batchNorm: false }, network, /spec\.batchNorm is false but the network has true/);
    refused('mlp-decay', { ...spec, weightDecay: 0 }, network, /spec\.weightDecay is 0 but the network has 0\.01/);
  });

  it('SimpleConvNet: the convolution and the input dimensions', () => {
    const spec: ModelSpec = { ...base, model: 'cnn', hidden: [20], conv: { ...CONV_PARAM_DEFAULTS, filterNum: 4 }, inputDim: [1, 28, 28] };
    const network = new SimpleConvNet([1, 28, 28], { filterNum: 4 }, 20, 10, 0.01);
    saveModel(join(dir, 'cnn-ok.safetensors'), { spec, network });
    refused('cnn-filters', { ...spec, conv: { ...CONV_PARAM_DEFAULTS, filterNum: 30 } }, network, /\(a SimpleConvNet\): spec\.conv is \{"filterNum":30,"filterSize":5,"pad":0,"stride":1\} but the network has \{"filterNum":4,/);
    refused('cnn-input', { ...spec, inputDim: [3, 28, 28], inputSize: 3 * 28 * 28 }, network, /spec\.inputSize is 2352 but the network has 784; spec\.inputDim is \[3,28,28\] but the network has \[1,28,28\]; nothing was written$/);
  });

  it('a malformed spec or a network no spec describes', () => {
    refused('malformed', { ...base, hidden: [-5] }, new TwoLayerNet(784, 20, 10), /: spec\.hidden must be a list of 1\.\.100 whole numbers/);
    const rng = new Random(0);
    const custom = new Sequential([new Affine(initWeight([784, 20], 'he', rng), Tensor.zeros([20])), new Relu(), new Affine(initWeight([20, 10], 'he', rng), Tensor.zeros([10]))]);
    refused('custom', base, custom as unknown as Network, /the network is a Sequential; a model file holds a TwoLayerNet, MultiLayerNet or SimpleConvNet/);
  });
});
