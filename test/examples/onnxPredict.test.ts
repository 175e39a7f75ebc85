/**
 * The README's export example: a model saved by `backprop train --save`, exported with
 * `backprop export --onnx`, then run by examples/onnx-predict.mjs (plain Node and
 * onnxruntime-web, as a user runs it); its answers must be the project's own predictions.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { loadModel } from '../../src/io/modelFiles.js';
import { Tensor } from '../../src/tensor/Tensor.js';
import { softmaxRows } from '../../src/tensor/ops.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const mnist = createRequire(import.meta.url)('mnist') as { get(i: number): number[] }[];
const quiet = { out: () => {}, err: (t: string) => void process.stderr.write(t), isTTY: false };

describe('examples/onnx-predict.mjs', () => {
  for (const [kind, flags] of [['two-layer', ['--iters', '300']], ['cnn', ['--model', 'cnn', '--iters', '30', '--backend', 'auto']]] as const) {
    it(`${kind}: runs the exported model and prints the project's own predictions`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'backprop-onnx-example-'));
      const model = join(dir, 'model.safetensors');
      const onnx = join(dir, 'model.onnx');
      assert.equal(await main(['train', ...flags, '--save', model, '--quiet'], quiet), 0);
      assert.equal(await main(['export', '--model', model, '--onnx', onnx], quiet), 0);
      const r = spawnSync(process.execPath, ['examples/onnx-predict.mjs', onnx], { cwd: root, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, 10);

      const { network } = loadModel(model);
      const pixels = Float32Array.from({ length: 10 * 784 }, (_, i) => mnist[Math.floor(i / 784)].get(0)[i % 784]);
      const p = softmaxRows(network.predict(Tensor.from(pixels, [10, 784]))).data;
      lines.forEach((line, digit) => {
        const row = Array.from(p.subarray(digit * 10, digit * 10 + 10));
        const best = row.indexOf(Math.max(...row));
        assert.equal(line, `digit ${digit}: predicted ${best} (probability ${row[best].toFixed(3)})`);
      });
    });
  }
});
