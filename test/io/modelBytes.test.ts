import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeModel } from '../../src/io/modelFile.js';
import { loadModel, saveModel, type ModelRecord } from '../../src/io/modelFiles.js';
import { buildNetwork, type ModelSpec } from '../../src/nets/buildNetwork.js';
import { Random } from '../../src/random.js';

test('serializeModel gives the bytes saveModel writes, and loadModel reads them back', () => {
  const spec: ModelSpec = { model: 'mlp', inputSize: 6, outputSize: 3, hidden: [4], activation: 'tanh', init: 'xavier', weightDecay: 0, dropout: 0.1, batchNorm: true, dtype: 'float32' };
  const record: ModelRecord = { spec, network: buildNetwork(spec, { rng: new Random(2) }), data: { source: 'bundled', trainSize: 8, testSize: 2, splitSeed: 0 }, config: { lr: 0.1 } };
  const path = join(mkdtempSync(join(tmpdir(), 'backprop-bytes-')), 'm.safetensors');
  saveModel(path, record);
  const bytes = serializeModel(record);
  assert.deepEqual(new Uint8Array(readFileSync(path)), bytes);
  const loaded = loadModel(path);
  assert.deepEqual(loaded.spec, spec);
  assert.deepEqual(Array.from(loaded.network.params.W1.data), Array.from(record.network.params.W1.data));
});
