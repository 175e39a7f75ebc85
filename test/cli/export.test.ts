/**
 * `backprop export`: models saved by `backprop train --save` exported to ONNX and TF.js, loaded
 * by onnxruntime-web, and the bad inputs a user can give.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { decodeOnnx, checkOnnxGraph, onnxRuntime } from '../io/onnxCheck.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'backprop-cli-export-'));
const ort = onnxRuntime();

describe('backprop export', () => {
  for (const [kind, flags] of [
    ['two-layer', ['--iters', '200']],
    ['mlp', ['--model', 'mlp', '--batch-norm', '--dropout', '0.3', '--activation', 'tanh', '--epochs', '1']],
    ['cnn', ['--model', 'cnn', '--iters', '10', '--backend', 'auto']],
  ] as const) {
    it(`${kind}: the saved model exports to ONNX (run by onnxruntime-web, with the training metadata) and TF.js`, async () => {
      const model = join(dir, `${kind}.safetensors`);
      const trained = await run('train', ...flags, '--save', model, '--quiet');
      assert.equal(trained.code, 0, trained.err);
      const testAccuracy = Number(/test accuracy ([\d.]+)/.exec(trained.out)![1]);

      const onnx = join(dir, `${kind}.onnx`);
      const tfjs = join(dir, `${kind}-tfjs`);
      const r = await run('export', '--model', model, '--onnx', onnx, '--tfjs', tfjs);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`wrote ${onnx.replace(/[.]/g, '\\.')}: ONNX opset 13, [\\d,]+ bytes; input "input" \\[N,${kind === 'cnn' ? '1,28,28' : '784'}\\]`));
      assert.deepEqual(readdirSync(tfjs).sort(), ['model.json', 'weights.bin']);
      assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), [], 'no temporary files left');

      const bytes = readFileSync(onnx);
      const decoded = decodeOnnx(bytes);
      checkOnnxGraph(decoded);
      const meta = Object.fromEntries(decoded.metadata_props!.map((p) => [p.key, p.value]));
      assert.equal(JSON.parse(meta.architecture).model, kind);
      assert.equal(JSON.parse(meta.data).source, 'bundled');
      assert.equal(Number(meta.test_accuracy).toFixed(4), testAccuracy.toFixed(4));
      assert.equal(JSON.parse(meta.config).seed, 0);
      const session = await ort.InferenceSession.create(bytes);
      const dims = kind === 'cnn' ? [2, 1, 28, 28] : [2, 784];
      const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(2 * 784).fill(0.2), dims) });
      const p = out.probabilities.data as Float32Array;
      assert.ok(Math.abs(p.slice(0, 10).reduce((a, b) => a + b, 0) - 1) < 1e-5);
    });
  }

  it('a file that is not a model: one line, exit 1, and the existing output left as it was', async () => {
    const notModel = join(dir, 'notes.safetensors');
    writeFileSync(notModel, 'these are my notes, not a model\n');
    const onnx = join(dir, 'kept.onnx');
    writeFileSync(onnx, 'old contents');
    const r = await run('export', '--model', notModel, '--onnx', onnx);
    assert.equal(r.code, 1);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, /^backprop: ModelFileError: .*notes\.safetensors: /);
    assert.equal(readFileSync(onnx, 'utf8'), 'old contents');
  });

  it('a safetensors file that is not a backprop model is named as such', async () => {
    const other = join(dir, 'other.safetensors');
    const header = Buffer.from(JSON.stringify({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }).padEnd(40));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(other, Buffer.concat([len, header, Buffer.alloc(4)]));
    const r = await run('export', '--model', other, '--onnx', join(dir, 'other.onnx'));
    assert.equal(r.code, 1);
    assert.match(r.err, /__metadata__\.format is missing, expected "backprop-model\/1" \(not a backprop model file\)\n$/);
  });

  it('output paths are checked before the model is read', async () => {
    const missing = join(dir, 'no-such-folder', 'm.onnx');
    let r = await run('export', '--model', join(dir, 'absent.safetensors'), '--onnx', missing);
    assert.equal(r.code, 2);
    assert.match(r.err, /--onnx .*no-such-folder\/m\.onnx: the folder .*no-such-folder does not exist/);
    r = await run('export', '--model', join(dir, 'absent.safetensors'), '--tfjs', join(dir, 'a', 'b'));
    assert.match(r.err, /--tfjs .*a\/b: folder .*\/a does not exist/);
    r = await run('export', '--model', join(dir, 'absent.safetensors'), '--onnx', dir);
    assert.match(r.err, /--onnx .* is a folder/);
    assert.ok(!existsSync(missing));
  });

  it('usage errors: no model, no output, a missing model file, an unknown flag', async () => {
    assert.match((await run('export', '--onnx', join(dir, 'x.onnx'))).err, /--model FILE\.safetensors is required/);
    assert.match((await run('export', '--model', 'm.safetensors')).err, /give --onnx OUT\.onnx and\/or --tfjs DIR/);
    const r = await run('export', '--model', join(dir, 'absent.safetensors'), '--onnx', join(dir, 'x.onnx'));
    assert.equal(r.code, 2);
    assert.match(r.err, /absent\.safetensors: no such file/);
    assert.match((await run('export', '--model', 'm', '--keras', 'x')).err, /unknown flag '--keras'/);
    assert.match((await run('help', 'export')).out, /Usage: backprop export --model FILE\.safetensors/);
  });
});
