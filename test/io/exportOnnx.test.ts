/**
 * ONNX export, checked by onnxruntime-web itself: each kind of model is exported, loaded by
 * onnxruntime's WebAssembly backend, and run on 1,000 test images; its probabilities must match
 * the project's own softmax(predict(x)) within 1e-5 with the same argmax. The file is also read
 * back with ONNX's onnx.proto and checked node by node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { exportOnnx, ONNX_OPSET } from '../../src/io/exportOnnx.js';
import { ExportError, lowerNetwork, type InferenceGraph } from '../../src/io/inferenceGraph.js';
import { modelMetadata } from '../../src/io/exportMetadata.js';
import { Sequential } from '../../src/nets/Sequential.js';
import { Affine } from '../../src/layers/Affine.js';
import { Relu } from '../../src/layers/Relu.js';
import { Convolution } from '../../src/layers/Convolution.js';
import { BatchNormalization } from '../../src/layers/BatchNormalization.js';
import { Pooling } from '../../src/layers/Pooling.js';
import { MulLayer } from '../../src/layers/MulLayer.js';
import { TwoLayerNet } from '../../src/nets/TwoLayerNet.js';
import { Dropout } from '../../src/layers/Dropout.js';
import { Tensor } from '../../src/tensor/Tensor.js';
import { Random } from '../../src/random.js';
import { VERSION } from '../../src/version.js';
import { checkOnnxGraph, decodeOnnx, onnxRuntime } from './onnxCheck.js';
import { F, Linear, Model, Parameter, type Variable, type VariableLike } from '../../src/autograd/index.js';
import { AUTOGRAD_MODELS, SPECS, edgeCases, assertAgrees, assertTrained, fastKernels, maxAbsDiff, projectPrediction, testImages, trainModel } from './exportModels.js';

const ort = onnxRuntime();
await fastKernels();
/** The figures of each model, printed at the end for the notes. */
const figures: string[] = [];

for (const [kind, spec] of Object.entries(SPECS)) {
  test(`ONNX ${kind}: onnxruntime-web matches predict on 1,000 test images`, async () => {
    const model = trainModel(spec);
    const metadata = modelMetadata({ spec, training: model.state, data: { source: 'bundled', trainSize: 8000, testSize: 2000, splitSeed: 0 } });
    const bytes = exportOnnx(model.network, { metadata });

    const decoded = decodeOnnx(bytes);
    checkOnnxGraph(decoded);
    assert.deepEqual(decoded.opset_import, [{ domain: '', version: 13 }]);
    assert.equal(decoded.ir_version, 7);
    assert.equal(decoded.producer_name, 'backprop-ts');
    assert.equal(decoded.producer_version, VERSION);
    assert.deepEqual(Object.fromEntries(decoded.metadata_props!.map((p) => [p.key, p.value])), metadata);
    assert.deepEqual(JSON.parse(metadata.architecture), spec);
    assert.deepEqual(decoded.graph.input.map((v) => v.name), ['input']);
    assert.deepEqual(decoded.graph.output.map((v) => v.name), ['logits', 'probabilities']);
    const inputDims = decoded.graph.input[0].type!.tensor_type!.shape!.dim!.map((d) => d.dim_param ?? d.dim_value);
    assert.deepEqual(inputDims, spec.model === 'cnn' ? ['N', 1, 28, 28] : ['N', 784]);
    const ops = decoded.graph.node.map((n) => n.op_type);
    if (spec.batchNorm) assert.ok(ops.includes('BatchNormalization'), 'batch norm as an ONNX BatchNormalization node');
    if (spec.dropout) {
      // the book's inference rule: x · (1 − ratio)
      const mul = decoded.graph.node.filter((n) => n.op_type === 'Mul');
      assert.equal(mul.length, spec.hidden.length);
      const factor = decoded.graph.initializer.find((t) => t.name === mul[0].input[1])!;
      assert.equal(new DataView(factor.raw_data.buffer, factor.raw_data.byteOffset).getFloat32(0, true), Math.fround(1 - spec.dropout));
    }
    if (spec.model === 'cnn') assert.deepEqual(ops, ['Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Relu', 'Gemm', 'Softmax']);

    const session = await ort.InferenceSession.create(bytes);
    const { x, pixels, labels } = testImages();
    const dims = spec.model === 'cnn' ? [1000, 1, 28, 28] : [1000, 784];
    const result = await session.run({ input: new ort.Tensor('float32', pixels, dims) });
    const ours = projectPrediction(model.network, x);
    const diffs = assertAgrees({ probabilities: result.probabilities.data as Float32Array, logits: result.logits.data as Float32Array }, ours);
    figures.push(`${kind}: ${bytes.length} bytes, ${diffs}, accuracy ${assertTrained(ours.classes, labels)}`);
    await session.release();
  });
}

for (const [kind, make] of Object.entries(AUTOGRAD_MODELS)) {
  test(`ONNX ${kind}: onnxruntime-web matches the model's own forward (noGrad) on 1,000 test images`, async () => {
    const { model, inputShape, predict, onnxOps } = make();
    const bytes = exportOnnx(model, { inputShape });
    const decoded = decodeOnnx(bytes);
    checkOnnxGraph(decoded);
    assert.deepEqual(decoded.graph.node.map((n) => n.op_type), onnxOps);
    const inputDims = decoded.graph.input[0].type!.tensor_type!.shape!.dim!.map((d) => d.dim_param ?? d.dim_value);
    assert.deepEqual(inputDims, ['N', ...inputShape]);
    const mul = decoded.graph.node.find((n) => n.op_type === 'Mul');
    if (mul) { // the MLP's dropout 0.2 at inference: x · (1 − 0.2)
      const factor = decoded.graph.initializer.find((t) => t.name === mul.input[1])!;
      assert.equal(new DataView(factor.raw_data.buffer, factor.raw_data.byteOffset).getFloat32(0, true), Math.fround(0.8));
    }

    const session = await ort.InferenceSession.create(bytes);
    const { x, pixels, labels } = testImages();
    const result = await session.run({ input: new ort.Tensor('float32', pixels, [1000, ...inputShape]) });
    const ours = projectPrediction({ predict }, x);
    const diffs = assertAgrees({ probabilities: result.probabilities.data as Float32Array, logits: result.logits.data as Float32Array }, ours);
    figures.push(`${kind}: ${bytes.length} bytes, ${diffs}, accuracy ${assertTrained(ours.classes, labels)}`);
    await session.release();
  });
}

/** A one-step autograd model y = step(x, fc) for the error tests. */
function autogradModel(step: (x: VariableLike, fc: Linear) => Variable): Model {
  return new (class Steps extends Model {
    fc = new Linear(4, 3);
    forward(x: VariableLike): Variable { return step(x, this.fc); }
  })();
}

test('ONNX: an autograd operation that does not map is an ExportError naming it and saying why', () => {
  const fails = (step: (x: VariableLike, fc: Linear) => Variable, message: RegExp): void => {
    assert.throws(() => exportOnnx(autogradModel(step), { inputShape: [4] }), (e: Error) => e instanceof ExportError && message.test(e.message), String(message));
  };
  fails((x, fc) => F.exp(fc.forward(x)), /^autograd operation 'exp': no ONNX or TF\.js operator maps it here \(mapped: linear, /);
  fails((x, fc) => F.sin(fc.forward(x)), /^autograd operation 'sin': no ONNX/);
  fails((x, fc) => F.getItem(fc.forward(x), [0, 1]), /^autograd operation 'getItem': no ONNX/);
  fails((x, fc) => fc.forward(F.matmul(x, F.transpose(x)).matmul(new Parameter(Tensor.zeros([2, 4])))), /^autograd operation 'matmul': 2 of its inputs come from the model's input \(a branch or skip connection\)/);
  fails((x, fc) => fc.forward(F.matmul(x, F.matmul(fc.W, F.mul(fc.W, 2).T))), /^autograd operation 'matmul': its weight \(shape \[4,4\]\) is not a Parameter of the model/);
  fails((x, fc) => F.add(fc.forward(x), F.linear(x, new Parameter(Tensor.zeros([4, 3])))), /^autograd operation 'add': 2 of its inputs come from the model's input \(a branch or skip connection\), which a sequence of operations cannot express/);
  fails((x, fc) => F.dropout(fc.forward(x), 0.5), /^autograd operation 'mul': multiplies by a dropout mask \(F\.dropout in training mode\)/);
  fails((x, fc) => F.mul(fc.forward(x), new Parameter(Tensor.zeros([3]))), /^autograd operation 'mul': multiplies by a value of shape \[3\], not a constant scalar/);
  fails((x, fc) => F.softmax(fc.forward(x)), /^autograd operation 'softmax': the forward must return the scores \(logits\)/);
  fails((x, fc) => F.reshape(fc.forward(x), [3, 2]), /^autograd operation 'reshape': from \[2,3\] to \[3,2\] \(traced on a batch of 2\)/);
  const bnTrain = new (class BatchNormInTraining extends Model {
    fc = new Linear(4, 3);
    bn = { runningMean: Tensor.from([0.5, -1, 2], [3]), runningVar: Tensor.from([1, 2, 3], [3]) };
    forward(x: VariableLike): Variable { return F.batchNorm(this.fc.forward(x), [1, 1, 1], [0, 0, 0], this.bn); }
  })();
  assert.throws(() => exportOnnx(bnTrain, { inputShape: [4] }), /^ExportError: autograd operation 'div': 2 of its inputs come from the model's input/);
  assert.deepEqual([...bnTrain.bn.runningMean.data, ...bnTrain.bn.runningVar.data], [0.5, -1, 2, 1, 2, 3], "the trace's batch statistics are not kept");
  assert.throws(() => exportOnnx(autogradModel((x, fc) => fc.forward(x))), /exporting the autograd Steps needs its per-example input shape: give inputShape/);
  assert.throws(() => exportOnnx(autogradModel((x, fc) => fc.forward(x)), { inputShape: [5] }), /linear: x · W needs x \(N, D\) and W \(D, M\), got x \[2,5\]/);
});

test('ONNX: the autograd lowering names weights as Model.params() does, and a model without bias gets zeros', () => {
  const net = new (class Steps extends Model {
    fc = new Linear(4, 3);
    out = new Parameter(Tensor.zeros([3, 2]), { name: 'Wout' });
    forward(x: VariableLike): Variable { return F.linear(F.tanh(F.linear(x, this.fc.W, this.fc.b)), this.out); }
  })();
  const graph = lowerNetwork(net, { inputShape: [4] });
  assert.deepEqual(graph.ops.map((o) => [o.op, o.name, 'W' in o ? `${o.W.name} ${o.b.name}` : '']), [
    ['Gemm', 'Linear1', 'fc.W fc.b'], ['Tanh', 'Tanh1', ''], ['Gemm', 'Linear2', 'Wout Wout.bias'],
  ]);
  assert.equal(graph.name, 'Steps');
  assert.deepEqual(decodeOnnx(exportOnnx(net, { inputShape: [4] })).graph.initializer.map((t) => t.name), ['fc.W', 'fc.b', 'Wout', 'Wout.bias']);
});

test('ONNX: a batch of one and a batch of 7 run through the dynamic batch dimension', async () => {
  const net = new TwoLayerNet(784, 20, 10, 0.1, { seed: 3 });
  const session = await ort.InferenceSession.create(exportOnnx(net));
  for (const n of [1, 7]) {
    const x = Tensor.from(Array.from({ length: n * 784 }, (_, i) => (i % 13) / 13), [n, 784]);
    const r = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.data), [n, 784]) });
    assert.deepEqual(r.logits.dims, [n, 10]);
    assert.ok(maxAbsDiff(r.logits.data as Float32Array, net.predict(x).data) < 1e-5);
  }
});

test('ONNX: the encoder is deterministic and writes no unused initializer', () => {
  const net = new TwoLayerNet(784, 20, 10, 0.1, { seed: 3 });
  assert.deepEqual(exportOnnx(net), exportOnnx(net));
  assert.deepEqual(decodeOnnx(exportOnnx(net)).graph.initializer.map((t) => t.name), ['W1', 'b1', 'W2', 'b2']);
});

test('ONNX: a layer without a mapping is named in the error', () => {
  const net = new Sequential([new Affine(Tensor.zeros([4, 3]), Tensor.zeros([3])), new MulLayer() as never, new Relu()]);
  assert.throws(() => exportOnnx(net), (e: Error) => e instanceof ExportError && /layer 1 \(MulLayer\) has no ONNX or TF\.js mapping/.test(e.message));
});

test('ONNX: a lowered operation that does not map is named in the error', () => {
  const graph = { name: 'autograd', inputShape: [4], ops: [{ op: 'Gemm', name: 'mm', W: { name: 'W', tensor: Tensor.zeros([4, 2]) }, b: { name: 'b', tensor: Tensor.zeros([2]) } }, { op: 'LogSumExp', name: 'lse' }] } as unknown as InferenceGraph;
  assert.throws(() => exportOnnx(graph), /operation 1 \(lse\) is 'LogSumExp', which has no ONNX or TF\.js mapping here \(supported: Gemm, Relu/);
});

test('ONNX: shapes that do not fit are refused before encoding, naming the layer', () => {
  const net = new Sequential([new Affine(Tensor.zeros([4, 3]), Tensor.zeros([3])), new Affine(Tensor.zeros([5, 2]), Tensor.zeros([2]))]);
  assert.throws(() => exportOnnx(net), /Affine2 \(Gemm\): input has 3 features per example \(shape \[3\]\) but W expects 5/);
  const conv = new Sequential([new Convolution(Tensor.zeros([2, 1, 3, 3]), Tensor.zeros([2])), new Affine(Tensor.zeros([8, 2]), Tensor.zeros([2]))]);
  assert.throws(() => exportOnnx(conv), /the first layer is Convolution1 \(Conv\): give the input shape/);
  const bnAfterConv = new Sequential([new Convolution(Tensor.zeros([2, 1, 3, 3]), Tensor.zeros([2])), new BatchNormalization(Tensor.zeros([16]), Tensor.zeros([16]))]);
  assert.throws(() => exportOnnx(bnAfterConv, { inputShape: [1, 6, 6] }), /BatchNormalization1 \(BatchNormalization\): gamma1 has 16 elements for 32 features \(input shape \[2,4,4\] per example\)$/);
  const tooLarge = new Sequential([new Pooling(7, 7, 1), new Affine(Tensor.zeros([1, 2]), Tensor.zeros([2]))]);
  assert.throws(() => exportOnnx(tooLarge, { inputShape: [1, 6, 6] }), /Pooling1 \(MaxPool\): a window of 7 is larger than a side of 6 padded by 0$/);
  assert.throws(() => exportOnnx({} as never), /cannot export a Object/);
});

test('ONNX: a Sequential of conv and affine layers exports with an input shape, flattening before the Affine', async () => {
  const rng = new Random(5);
  const rand = (shape: number[]): Tensor => Tensor.from(Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal() * 0.3), shape);
  const net = new Sequential([new Convolution(rand([2, 1, 3, 3]), rand([2])), new Relu(), new Affine(rand([32, 3]), rand([3])), new Dropout(0.25, rng)]);
  const bytes = exportOnnx(net, { inputShape: [1, 6, 6] });
  checkOnnxGraph(decodeOnnx(bytes));
  const x = rand([5, 1, 6, 6]);
  const r = await (await ort.InferenceSession.create(bytes)).run({ input: new ort.Tensor('float32', Float32Array.from(x.data), [5, 1, 6, 6]) });
  assert.ok(maxAbsDiff(r.logits.data as Float32Array, net.predict(x).data) < 1e-5);
  assert.deepEqual(lowerNetwork(net, { inputShape: [1, 6, 6] }).ops.map((o) => o.op), ['Conv', 'Relu', 'Gemm', 'Scale']);
});

for (const [name, { net, inputShape, x }] of Object.entries(edgeCases(11))) {
  test(`ONNX: ${name}: onnxruntime-web matches predict`, async () => {
    const bytes = exportOnnx(net, { inputShape });
    checkOnnxGraph(decodeOnnx(bytes));
    const r = await (await ort.InferenceSession.create(bytes)).run({ input: new ort.Tensor('float32', Float32Array.from(x.data), x.shape) });
    assert.ok(maxAbsDiff(r.logits.data as Float32Array, net.predict(x).data) < 1e-5);
  });
}

test('ONNX: the book\'s zero padding of a max pooling takes part in the maximum (ONNX\'s own pads never do), at every optimization level', async () => {
  // one channel of −1s, pooled 2×2 with stride 2 and pad 1: the book's windows all touch the zero padding, so every maximum is 0
  const net = new Sequential([new Pooling(2, 2, 2, 1), new Affine(Tensor.from([[1, 0], [0, 1], [1, 1], [2, -1]]), Tensor.from([0, 0]))]);
  const x = Tensor.from(Array(4).fill(-1), [1, 1, 2, 2]);
  assert.deepEqual([...net.predict(x).data], [0, 0]);
  const bytes = exportOnnx(net, { inputShape: [1, 2, 2] });
  assert.deepEqual(decodeOnnx(bytes).graph.node.map((n: { op_type: string }) => n.op_type), ['MaxPool', 'Max', 'Flatten', 'Gemm', 'Softmax']);
  for (const graphOptimizationLevel of ['disabled', 'all'] as const) {
    const r = await (await ort.InferenceSession.create(bytes, { graphOptimizationLevel })).run({ input: new ort.Tensor('float32', Float32Array.from(x.data), x.shape) });
    assert.deepEqual([...(r.logits.data as Float32Array)], [0, 0], graphOptimizationLevel);
  }
  // 3×3 pooling, stride 1, pad 1 on 4×4: only the four inner windows stay clear of the padding
  const inner = new Sequential([new Pooling(3, 3, 1, 1), new Affine(Tensor.zeros([16, 1]), Tensor.zeros([1]))]);
  const mask = decodeOnnx(exportOnnx(inner, { inputShape: [1, 4, 4] })).graph.initializer.find((t: { name: string }) => t.name === 'Pooling1_padding');
  const values = new Float32Array(Uint8Array.from(mask!.raw_data).buffer);
  assert.deepEqual([...values].map((v) => (v === 0 ? 0 : 1)), [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
});

test('ONNX: the vendored onnx.proto is ONNX\'s own, and onnxProto.ts is what pbjs generates from it', async () => {
  const proto = readFileSync(new URL('../../src/io/onnx/onnx.proto', import.meta.url), 'utf8');
  assert.match(proto, /^package onnx;$/m);
  assert.match(proto, /SPDX-License-Identifier: Apache-2\.0/);
  const { generateOnnxProto, OUT } = await import(new URL('../../scripts/onnx-proto.mjs', import.meta.url).href);
  assert.equal(readFileSync(OUT, 'utf8'), await generateOnnxProto(), 'run node scripts/onnx-proto.mjs');
  assert.equal(ONNX_OPSET, 13);
});

test('ONNX figures', () => {
  for (const line of figures) console.log(`# ${line}`);
});

test('ONNX: a float64 network is exported as float32 and still matches predict', async () => {
  const net = new TwoLayerNet(784, 30, 10, 0.05, { seed: 4, dtype: 'float64' });
  const { x, pixels } = testImages(100);
  const x64 = Tensor.from(x.data, [100, 784], { dtype: 'float64' });
  const r = await (await ort.InferenceSession.create(exportOnnx(net))).run({ input: new ort.Tensor('float32', pixels, [100, 784]) });
  assert.ok(maxAbsDiff(r.probabilities.data as Float32Array, projectPrediction(net, x64).probabilities) <= 1e-5);
});

test('VERSION, recorded as producer_version, is package.json\'s version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(VERSION, pkg.version);
});
