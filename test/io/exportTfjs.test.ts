/**
 * TF.js export, checked by TensorFlow.js itself: model.json and weights.bin are written to a
 * folder and loaded by tf.loadLayersModel through TF.js's own HTTP loader (its fetch served from
 * that folder), which reads model.json's weightsManifest and fetches weights.bin as a browser
 * would; its softmax must match the project's softmax(predict(x)) on 1,000 test images within 1e-5.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { exportTfjs, TFJS_WEIGHTS_FILE } from '../../src/io/exportTfjs.js';
import { modelMetadata } from '../../src/io/exportMetadata.js';
import { ExportError } from '../../src/io/inferenceGraph.js';
import { Sequential } from '../../src/nets/Sequential.js';
import { Affine } from '../../src/layers/Affine.js';
import { Convolution } from '../../src/layers/Convolution.js';
import { Pooling } from '../../src/layers/Pooling.js';
import { Relu } from '../../src/layers/Relu.js';
import { MulLayer } from '../../src/layers/MulLayer.js';
import { Random } from '../../src/random.js';
import { Tensor } from '../../src/tensor/Tensor.js';
import { F, Linear, Model, type Variable, type VariableLike } from '../../src/autograd/index.js';
import { AUTOGRAD_MODELS, SPECS, edgeCases, assertAgrees, fastKernels, maxAbsDiff, projectPrediction, testImages, trainModel } from './exportModels.js';

await tf.setBackend('cpu');
await fastKernels();

/** tf.loadLayersModel of the files in `dir`, through TF.js's HTTP loader with a fetch that reads the folder. */
async function loadFromFolder(dir: string): Promise<tf.LayersModel> {
  const fetchFunc = async (url: URL | RequestInfo): Promise<Response> => {
    const file = new URL(url instanceof Request ? url.url : String(url)).pathname.split('/').pop()!;
    return new Response(readFileSync(join(dir, file)), { status: 200, headers: { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' } });
  };
  return tf.loadLayersModel(tf.io.http('http://models.invalid/model.json', { fetchFunc }));
}

/** Writes model.json and weights.bin as the CLI does; returns the folder. */
function writeExport(exported: ReturnType<typeof exportTfjs>): string {
  const dir = mkdtempSync(join(tmpdir(), 'backprop-tfjs-'));
  writeFileSync(join(dir, 'model.json'), JSON.stringify(exported.modelJson));
  writeFileSync(join(dir, TFJS_WEIGHTS_FILE), exported.weightsBin);
  return dir;
}

const figures: string[] = [];

for (const [kind, spec] of Object.entries(SPECS)) {
  test(`TF.js ${kind}: loadLayersModel matches predict on 1,000 test images`, async () => {
    const model = trainModel(spec);
    const metadata = modelMetadata({ spec, training: model.state });
    const exported = exportTfjs(model.network, { metadata });
    const dir = writeExport(exported);
    try {
      const layers = await loadFromFolder(dir);
      assert.deepEqual(layers.inputs[0].shape, spec.model === 'cnn' ? [null, 1, 28, 28] : [null, 784]);
      assert.deepEqual(layers.getUserDefinedMetadata(), metadata);
      const classNames = layers.layers.map((l) => l.getClassName());
      if (spec.batchNorm) assert.ok(classNames.includes('BatchNormalization'));
      if (spec.dropout) assert.equal(classNames.filter((c) => c === 'Rescaling').length, spec.hidden.length, 'dropout as Rescaling by (1 − ratio)');

      const { x, pixels } = testImages();
      const input = tf.tensor(pixels, spec.model === 'cnn' ? [1000, 1, 28, 28] : [1000, 784]);
      const logits = layers.predict(input) as tf.Tensor;
      const probabilities = tf.softmax(logits).dataSync() as Float32Array;
      const diffs = assertAgrees({ probabilities, logits: logits.dataSync() as Float32Array }, projectPrediction(model.network, x));
      figures.push(`${kind}: model.json ${JSON.stringify(exported.modelJson).length} + weights.bin ${exported.weightsBin.length} bytes, ${diffs}`);
      tf.dispose([input, logits]);
      layers.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** The Keras layers an autograd case's ONNX nodes become (a padded Conv is ZeroPadding2D + Conv2D; the last Gemm after a Conv is Flatten + Dense). */
const KERAS: Record<string, string[]> = { Gemm: ['Dense'], Relu: ['Activation'], Tanh: ['Activation'], Sigmoid: ['Activation'], Mul: ['Rescaling'], BatchNormalization: ['BatchNormalization'], Conv: ['ZeroPadding2D', 'Conv2D'], MaxPool: ['MaxPooling2D'], Flatten: ['Flatten'], Softmax: [] };

for (const [kind, make] of Object.entries(AUTOGRAD_MODELS)) {
  test(`TF.js ${kind}: loadLayersModel matches the model's own forward (noGrad) on 1,000 test images`, async () => {
    const { model, inputShape, predict, onnxOps } = make();
    const exported = exportTfjs(model, { inputShape });
    const dir = writeExport(exported);
    try {
      const layers = await loadFromFolder(dir);
      assert.deepEqual(layers.inputs[0].shape, [null, ...inputShape]);
      assert.deepEqual(layers.layers.map((l) => l.getClassName()), onnxOps.flatMap((op) => KERAS[op]));
      const { x, pixels } = testImages();
      const input = tf.tensor(pixels, [1000, ...inputShape]);
      const logits = layers.predict(input) as tf.Tensor;
      const probabilities = tf.softmax(logits).dataSync() as Float32Array;
      const diffs = assertAgrees({ probabilities, logits: logits.dataSync() as Float32Array }, projectPrediction({ predict }, x));
      figures.push(`${kind}: model.json ${JSON.stringify(exported.modelJson).length} + weights.bin ${exported.weightsBin.length} bytes, ${diffs}`);
      tf.dispose([input, logits]);
      layers.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('TF.js: an autograd operation that does not map is an ExportError naming it', () => {
  const net = new (class ExpNet extends Model {
    fc = new Linear(4, 3);
    forward(x: VariableLike): Variable { return F.exp(this.fc.forward(x)); }
  })();
  assert.throws(() => exportTfjs(net, { inputShape: [4] }), (e: Error) => e instanceof ExportError && /^autograd operation 'exp': no ONNX or TF\.js operator maps it/.test(e.message));
});

test('TF.js: a Sequential with a padded convolution and pooling exports with an input shape', async () => {
  const rng = new Random(7);
  const rand = (shape: number[]): Tensor => Tensor.from(Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal() * 0.3), shape);
  const net = new Sequential([new Convolution(rand([3, 2, 3, 3]), rand([3]), 1, 1), new Relu(), new Pooling(2, 2, 2), new Affine(rand([27, 4]), rand([4]))]);
  const dir = writeExport(exportTfjs(net, { inputShape: [2, 6, 6] }));
  try {
    const layers = await loadFromFolder(dir);
    const x = rand([3, 2, 6, 6]);
    const out = layers.predict(tf.tensor(Float32Array.from(x.data), [3, 2, 6, 6])) as tf.Tensor;
    assert.ok(maxAbsDiff(out.dataSync() as Float32Array, net.predict(x).data) < 1e-5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const [name, { net, inputShape, x }] of Object.entries(edgeCases(11))) {
  test(`TF.js: ${name}: loadLayersModel matches predict`, async () => {
    const dir = writeExport(exportTfjs(net, { inputShape }));
    try {
      const layers = await loadFromFolder(dir);
      const out = layers.predict(tf.tensor(Float32Array.from(x.data), [...x.shape])) as tf.Tensor;
      assert.ok(maxAbsDiff(out.dataSync() as Float32Array, net.predict(x).data) < 1e-5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('TF.js: a layer without a mapping is named in the error', () => {
  const net = new Sequential([new Affine(Tensor.zeros([4, 3]), Tensor.zeros([3])), new MulLayer() as never]);
  assert.throws(() => exportTfjs(net), (e: Error) => e instanceof ExportError && /layer 1 \(MulLayer\) has no ONNX or TF\.js mapping/.test(e.message));
});

test('TF.js figures', () => {
  for (const line of figures) console.log(`# ${line}`);
});
