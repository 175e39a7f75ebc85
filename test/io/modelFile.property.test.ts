/**
 * Property-based tests of model-file validation (loadModel): saved models of every kind load
 * back bit for bit; files with edited metadata (architecture, training state, format), renamed,
 * dropped or reshaped tensors, and mutated bytes give a model or a ModelFileError naming the
 * file, never another exception, and never allocate far more than the file holds.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ModelFileError } from '../../src/io/ModelFileError.js';
import { loadModel, saveModel } from '../../src/io/modelFiles.js';
import { parseSafetensors, serializeSafetensors, type SafetensorsFile, type TensorLike } from '../../src/io/safetensors.js';
import { buildNetwork, type ModelSpec } from '../../src/nets/buildNetwork.js';
import { Random } from '../../src/random.js';
import { Tensor } from '../../src/tensor/Tensor.js';
import { Trainer } from '../../src/train/Trainer.js';
import { applyMutation, assertAllocatedAtMost, check, deepArb, expandDeep, measureAllocations, mutationArb, sometimes } from '../property.js';

const dir = mkdtempSync(join(tmpdir(), 'backprop-model-property-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const base: ModelSpec = { model: 'two-layer', inputSize: 6, outputSize: 3, hidden: [4], activation: 'relu', init: 0.1, weightDecay: 0, dropout: 0, batchNorm: false, dtype: 'float32' };
const SPECS: ModelSpec[] = [
  base,
  { ...base, dtype: 'float64' },
  { ...base, model: 'mlp', hidden: [5, 4], init: 'he', batchNorm: true, dropout: 0.2, weightDecay: 0.01, activation: 'tanh' },
  { ...base, model: 'cnn', inputSize: 36, hidden: [4], conv: { filterNum: 2, filterSize: 3, pad: 0, stride: 1 }, inputDim: [1, 6, 6] },
];

/** A tiny labelled set with `features` inputs per row, for a few training steps. */
function tinyData(features: number, dtype: ModelSpec['dtype']) {
  const rng = new Random(1);
  const x = Tensor.zeros([12, features], { dtype });
  for (let i = 0; i < x.data.length; i++) x.data[i] = rng.next();
  const labels = Int32Array.from({ length: 12 }, (_, i) => i % 3);
  return { train: { x, labels }, test: { x, labels } };
}

/** Each spec saved once with weights only and once with an Adam (or Momentum) run's state. */
const BASES = SPECS.flatMap((spec, k) => {
  const rng = new Random(k);
  const network = buildNetwork(spec, { rng });
  const trainer = new Trainer(network, tinyData(spec.inputSize, spec.dtype), { iters: 3, miniBatchSize: 4, optimizer: k % 2 ? 'momentum' : 'adam', rng });
  for (let i = 0; i < 3; i++) trainer.trainStep();
  return [false, true].map((withState) => {
    const path = join(dir, `base-${k}-${withState}.safetensors`);
    saveModel(path, { spec, network, training: withState ? trainer.getState() : undefined, data: { source: 'bundled', trainSize: 12, testSize: 12, splitSeed: 0 }, config: { lr: 0.01 } });
    const bytes = readFileSync(path);
    const params = Object.fromEntries(Object.entries(network.params).map(([n, t]) => [n, Array.from(t.data)]));
    return { spec, bytes, file: parseSafetensors(bytes, path), params };
  });
});

/** Where in a JSON value to put a new value: indices choose a key or element at each level. */
const jsonEditArb = fc.record({
  field: fc.constantFrom('architecture', 'architecture', 'architecture', 'training', 'training', 'format', 'data', 'config'),
  path: fc.array(fc.nat(), { minLength: 0, maxLength: 4 }),
  action: fc.constantFrom('set', 'set', 'set', 'delete', 'text'),
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(0, -1, 1.5, 1e6, 1e5 + 1, 2 ** 31, 1e300, null, '', 'he', 'cnn', 'mlp', 'two-layer', 'float64', 'float16', true, [], {}),
    fc.array(fc.constantFrom('W1', 'b1', 'W2', 'W3', 'gamma1', '__proto__', 'constructor', 'toString', 'x'), { maxLength: 6 }),
    fc.array(fc.integer({ min: 0, max: 70 }), { maxLength: 4 }),
    fc.record({ m: fc.array(fc.constantFrom('W1', 'b1', 'W1', '__proto__', 'constructor'), { maxLength: 4 }) }),
    fc.integer({ min: 1, max: 60 }).map((n) => ({ m: Array(n * 50).fill('W1') })),
    deepArb,
    fc.record({ m: deepArb }),
  ),
  text: fc.constantFrom('', '{', 'null', '[]', '1', '"x"', '{"model":"cnn"}', '{"slotNames":{"m":"W1"}}', '{"optimizer":null}', '{"optimizer":{"slotNames":{"m":7}}}'),
});
type JsonEdit = typeof jsonEditArb extends fc.Arbitrary<infer T> ? T : never;

/** The metadata with one edit applied. */
function editMetadata(meta: Record<string, string>, e: JsonEdit): Record<string, string> {
  const out = { ...meta };
  if (e.action === 'text') {
    out[e.field] = e.text;
    return out;
  }
  if (e.field === 'format') {
    if (e.action === 'delete') delete out.format;
    else out.format = typeof e.value === 'string' ? e.value : expandDeep(JSON.stringify(e.value));
    return out;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(out[e.field] ?? '');
  } catch {
    return out; // missing or already not JSON
  }
  const root = { v: parsed };
  let parent: Record<string, unknown> = root;
  let key = 'v';
  for (const step of e.path) {
    const here = parent[key];
    if (typeof here !== 'object' || here === null) break;
    const keys = Object.keys(here);
    if (keys.length === 0) break;
    parent = here as Record<string, unknown>;
    key = keys[step % keys.length];
  }
  if (e.action === 'delete') delete parent[key];
  else parent[key] = e.value;
  try {
    out[e.field] = expandDeep(JSON.stringify(root.v) ?? '');
  } catch {
    return out; // an earlier edit nested it too deep to write back: keep that
  }
  return out;
}

/** Tensor edits: drop one, rename one, change its shape (and data to fit), or its dtype. */
const tensorEditArb = fc.record({
  action: fc.constantFrom('drop', 'rename', 'reshape', 'retype', 'add'),
  tensor: fc.nat(),
  name: fc.constantFrom('W9', 'optimizer/m/W1', 'buffers/x', '__proto__', 'b1'),
  shape: fc.array(fc.integer({ min: 0, max: 8 }), { maxLength: 3 }),
});
type TensorEdit = typeof tensorEditArb extends fc.Arbitrary<infer T> ? T : never;

function editTensors(file: SafetensorsFile, e: TensorEdit): Record<string, TensorLike> {
  const tensors: Record<string, TensorLike> = { ...file.tensors };
  const names = Object.keys(tensors);
  const name = names[e.tensor % names.length];
  const size = e.shape.reduce((a, b) => a * b, 1);
  if (e.action === 'drop') delete tensors[name];
  else if (e.action === 'rename') {
    tensors[e.name] = tensors[name];
    delete tensors[name];
  } else if (e.action === 'reshape') tensors[name] = { shape: e.shape, data: new Float32Array(size) };
  else if (e.action === 'retype') {
    const data = tensors[name].data;
    tensors[name] = { shape: tensors[name].shape, data: data instanceof Float32Array ? Float64Array.from(data) : new Int32Array(data.length) };
  } else tensors[e.name] = { shape: e.shape, data: new Float32Array(size) };
  return tensors;
}

describe('model files, property-based', () => {
  it('every kind of model, with and without training state, loads back bit for bit', () => {
    // few distinct inputs: each base once per seed, through the same path as the broken files
    check('model file round trip', 16, fc.property(fc.nat(BASES.length - 1), (k) => {
      const path = join(dir, `ok-${k}.safetensors`);
      writeFileSync(path, BASES[k].bytes);
      const loaded = loadModel(path);
      assert.deepEqual(loaded.spec, BASES[k].spec);
      for (const [n, values] of Object.entries(BASES[k].params)) assert.deepEqual(Array.from(loaded.network.params[n].data), values, n);
      assert.equal(loaded.training === undefined, k % 2 === 0);
    }));
  });

  it('edited metadata, edited tensors and mutated bytes give a model or a ModelFileError naming the file', () => {
    const path = join(dir, 'edited.safetensors');
    const arb = fc.record({
      k: fc.nat(BASES.length - 1),
      jsonEdits: fc.array(jsonEditArb, { minLength: 0, maxLength: 3 }),
      tensorEdit: sometimes(tensorEditArb, 2),
      mutation: sometimes(mutationArb, 6),
    });
    check('model file edits', 1500, fc.property(arb, ({ k, jsonEdits, tensorEdit, mutation }) => {
      const { file } = BASES[k];
      let meta = file.metadata;
      for (const e of jsonEdits) meta = editMetadata(meta, e);
      let bytes = serializeSafetensors(tensorEdit ? editTensors(file, tensorEdit) : file.tensors, meta);
      if (mutation) bytes = applyMutation(bytes, mutation);
      writeFileSync(path, bytes);
      const outcome = measureAllocations(() => loadModel(path));
      if (outcome.result) {
        // A model that loads is usable: it predicts one row of the input size it declares.
        const { spec, network } = outcome.result;
        const scores = network.predict(Tensor.zeros([1, spec.inputSize], { dtype: spec.dtype }));
        assert.deepEqual(scores.shape, [1, spec.outputSize]);
        const state = outcome.result.training;
        if (state) {
          // and its training state resumes (as `train --resume` does), or the trainer refuses
          // settings that disagree (RangeError); the types Trainer.setState relies on hold
          const rows = state.order?.length ?? state.iterPerEpoch * state.miniBatchSize;
          if (rows <= 1000) {
            const x = Tensor.zeros([rows, spec.inputSize], { dtype: spec.dtype });
            const labels = new Int32Array(rows);
            try {
              const trainer = new Trainer(network, { train: { x, labels }, test: { x, labels } }, {
                iters: Math.max(1, state.maxIter), miniBatchSize: state.miniBatchSize, sampling: state.sampling, optimizer: state.optimizer.name,
              });
              trainer.setState(state);
              trainer.trainStep();
            } catch (e) {
              assert.ok(e instanceof RangeError, `resuming a loaded state threw ${(e as Error)?.stack ?? String(e)}`);
            }
          }
        }
      } else {
        assert.ok(outcome.error instanceof ModelFileError, `expected a ModelFileError, got ${(outcome.error as Error)?.stack ?? String(outcome.error)}`);
        assert.ok(outcome.error.message.startsWith(`${path}: `), outcome.error.message);
      }
      assertAllocatedAtMost(outcome, 8 * bytes.length + (1 << 20), `${bytes.length}-byte model file`);
    }));
  });
});
