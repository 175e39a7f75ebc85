import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { main } from '../../src/cli/main.js';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { loadBundledDigits } from '../../src/data/bundledDigits.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false });
  return { code, out, err };
}

/** The tensors of a model file as raw bytes, by name. */
function tensorBytes(path: string): Record<string, string> {
  const f = parseSafetensors(readFileSync(path), path);
  return Object.fromEntries(Object.entries(f.tensors).map(([k, t]) => [k, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64')]));
}

const dir = mkdtempSync(join(tmpdir(), 'backprop-cli-models-'));

describe('train --save / --resume', () => {
  for (const [name, flags] of [
    ['two-layer, SGD', ['--backend', 'js']],
    ['mlp with batch norm, dropout, weight decay and Adam', ['--model', 'mlp', '--hidden', '40,30', '--batch-norm', '--dropout', '0.2', '--weight-decay', '0.001', '--optimizer', 'adam']],
  ] as const) {
    it(`${name}: a resumed run reaches bit-identical weights to an uninterrupted one`, async () => {
      const whole = join(dir, `whole-${name.length}.safetensors`);
      const part = join(dir, `part-${name.length}.safetensors`);
      let r = await run('train', ...flags, '--epochs', '2', '--seed', '5', '--save', whole, '--quiet');
      assert.equal(r.code, 0, r.err);
      r = await run('train', ...flags, '--epochs', '1', '--seed', '5', '--save', part, '--quiet');
      assert.equal(r.code, 0, r.err);
      r = await run('train', '--resume', part, '--epochs', '2', '--backend', flags[1] === 'js' ? 'js' : 'auto');
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /resuming .* at iteration 80/);
      assert.match(r.out, /after 160 iterations/);
      assert.deepEqual(tensorBytes(part), tensorBytes(whole));
    });
  }

  it('resuming refuses changed settings and runs that are already longer', async () => {
    const file = join(dir, 'short.safetensors');
    assert.equal((await run('train', '--epochs', '1', '--save', file, '--quiet')).code, 0);
    let r = await run('train', '--resume', file, '--lr', '0.5');
    assert.equal(r.code, 2);
    assert.equal(r.err, `backprop: UsageError: --lr differs from the run saved in ${file}: recorded 0.1, given 0.5; a resumed run keeps its settings (leave out --lr, or start a new run without --resume)\n`);
    r = await run('train', '--resume', file, '--iters', '10');
    assert.equal(r.code, 2);
    assert.match(r.err, /has already run 80 iterations, more than the 10 asked for/);
    r = await run('train', '--resume', join(dir, 'missing.safetensors'));
    assert.equal(r.code, 2);
    assert.match(r.err, /--resume .*missing.safetensors: no such file/);
  });

  it('a training state that does not fit the run it records is refused in one line (exit 1), not a RangeError', async () => {
    const file = join(dir, 'edited.safetensors');
    assert.equal((await run('train', '--epochs', '1', '--save', file, '--quiet', '--backend', 'js')).code, 0);
    // edit the file as a damaged or hand-edited one would be: the state's batch size (100) no longer equals the config's
    const f = parseSafetensors(readFileSync(file), file);
    const training = JSON.parse(f.metadata.training);
    assert.equal(training.miniBatchSize, 100);
    training.miniBatchSize = 50;
    writeFileSync(file, serializeSafetensors(f.tensors, { ...f.metadata, training: JSON.stringify(training) }));
    const r = await run('train', '--resume', file, '--epochs', '2', '--backend', 'js');
    assert.equal(r.code, 1);
    assert.equal(r.err.split('\n').length, 2, r.err);
    assert.match(r.err, /^backprop: ModelFileError: .*edited\.safetensors: its training state does not fit the run it records \(the state has miniBatchSize 50 but this trainer has 100; .*\); it cannot be resumed\n$/);
  });

  it('the same command line with --resume added is accepted, in any spelling of the same values, and ends bit-identical', async () => {
    const flags = ['--model', 'mlp', '--hidden', '40,30', '--batch-norm', '--dropout', '0.2', '--weight-decay', '0.001', '--optimizer', 'adam', '--init', 'he', '--seed', '5'];
    const whole = join(dir, 'same-whole.safetensors');
    const part = join(dir, 'same-part.safetensors');
    assert.equal((await run('train', ...flags, '--epochs', '2', '--save', whole, '--quiet')).code, 0);
    assert.equal((await run('train', ...flags, '--epochs', '1', '--save', part, '--quiet')).code, 0);
    let r = await run('train', ...flags, '--epochs', '2', '--resume', part);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /resuming .* at iteration 80/);
    assert.deepEqual(tensorBytes(part), tensorBytes(whole));
    // equal values written otherwise: the defaults spelled out, 40, 30 with a space, relu for he, 1e-3 for 0.001
    r = await run('train', '--resume', part, '--epochs', '2', '--model', 'mlp', '--hidden', '40, 30', '--init', 'relu', '--lr', '1e-3',
      '--dropout', '0.20', '--weight-decay', '1e-3', '--activation', 'relu', '--dtype', 'float32', '--batch-size', '100', '--split-seed', '0', '--batch-norm', '--optimizer', 'adam', '--seed', '5');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /has already run|after 160 iterations/);
  });

  it('a real difference is refused, naming the flag, the recorded value and the given one', async () => {
    const mlp = join(dir, 'differ-mlp.safetensors');
    assert.equal((await run('train', '--model', 'mlp', '--hidden', '20', '--epochs', '1', '--save', mlp, '--quiet')).code, 0);
    const two = join(dir, 'differ-two.safetensors');
    assert.equal((await run('train', '--epochs', '1', '--save', two, '--quiet')).code, 0);
    for (const [file, args, flag, recorded, given] of [
      [mlp, ['--hidden', '20,20'], 'hidden', '20', '20,20'],
      [mlp, ['--batch-norm'], 'batch-norm', 'off', 'on'],
      [mlp, ['--init', 'xavier'], 'init', 'he', 'xavier'],
      [mlp, ['--activation', 'tanh'], 'activation', 'relu', 'tanh'],
      [mlp, ['--dropout', '0.5'], 'dropout', '0', '0.5'],
      [mlp, ['--model', 'cnn'], 'model', 'mlp', 'cnn'],
      [two, ['--dtype', 'float64'], 'dtype', 'float32', 'float64'],
      [two, ['--weight-std', '0.02'], 'weight-std', '0.01', '0.02'],
      [two, ['--batch-size', '50'], 'batch-size', '100', '50'],
      [two, ['--seed', '1'], 'seed', '0', '1'],
      [two, ['--optimizer', 'momentum'], 'optimizer', 'sgd', 'momentum'],
    ] as const) {
      const r = await run('train', '--resume', file, '--epochs', '2', ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.equal(r.err, `backprop: UsageError: --${flag} differs from the run saved in ${file}: recorded ${recorded}, given ${given}; a resumed run keeps its settings (leave out --${flag}, or start a new run without --resume)\n`);
      assert.equal(r.out, '');
    }
  });

  it('bad model flags are usage errors', async () => {
    for (const [args, message] of [
      [['--model', 'rnn'], /--model must be one of two-layer, mlp, cnn, got 'rnn'/],
      [['--optimizer', 'lion'], /--optimizer must be one of sgd, momentum, nesterov, adagrad, rmsprop, adam, got 'lion'/],
      [['--dropout', '0.5'], /--dropout applies to --model mlp \(MultiLayerNet\), not two-layer/],
      [['--model', 'mlp', '--dropout', '1'], /--dropout must be below 1/],
      [['--model', 'mlp', '--hidden', '100,x'], /--hidden must be a whole number, got 'x'/],
      [['--init', 'he'], /--init he applies to --model mlp/],
      [['--iters', '5', '--epochs', '1'], /give --iters or --epochs, not both/],
      [['--backend', 'gpu'], /--backend must be one of auto, js, wasm, got 'gpu'/],
    ] as const) {
      const r = await run('train', ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, message);
    }
  });
});

describe('eval and predict', () => {
  const model = join(dir, 'eval.safetensors');

  it('eval prints the test accuracy and a confusion matrix on the recorded split', async () => {
    assert.equal((await run('train', '--iters', '300', '--save', model, '--quiet')).code, 0);
    const trained = await run('train', '--iters', '300', '--quiet');
    const r = await run('eval', '--model', model);
    assert.equal(r.code, 0, r.err);
    const acc = r.out.match(/test accuracy: (0\.\d{4}) \((\d+) of 2000\)/);
    assert.ok(acc, r.out);
    assert.equal(acc[1], trained.out.match(/test accuracy (0\.\d{4})/)![1], 'eval agrees with training on the same split');
    const rows = r.out.trim().split('\n').slice(-10);
    const total = rows.reduce((s, row) => s + row.trim().split(/\s+/).slice(1, 11).reduce((u, v) => u + Number(v), 0), 0);
    assert.equal(total, 2000);
    const other = await run('eval', '--model', model, '--split-seed', '1');
    assert.equal(other.code, 0, other.err);
    assert.match(other.out, /split seed 1\), test split/);
  });

  it('predict classifies PNGs of any size, dark-on-light or light-on-dark', async () => {
    const test = loadBundledDigits().test;
    const paths: string[] = [];
    for (const i of [0, 1, 2, 3]) {
      const S = 28 * 3;
      const data = new Uint8Array(S * S);
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
        const v = test.images[i * 784 + Math.floor(y / 3) * 28 + Math.floor(x / 3)];
        data[y * S + x] = i % 2 ? v : 255 - v; // odd: white on black like MNIST; even: black on white
      }
      const p = join(dir, `digit${i}.png`);
      writeFileSync(p, encode({ width: S, height: S, data, channels: 1, depth: 8 }));
      paths.push(p);
    }
    const r = await run('predict', '--model', model, ...paths);
    assert.equal(r.code, 0, r.err);
    const answers = [...r.out.matchAll(/digit(\d)\.png: (\d) \(probability (0\.\d+)\)/g)];
    assert.equal(answers.length, 4);
    let right = 0;
    for (const [, i, predicted] of answers) if (Number(predicted) === test.labels[Number(i)]) right++;
    assert.ok(right >= 3, `${right} of 4 right:\n${r.out}`);
    const blocks = r.out.split(/\n(?=\S)/);
    for (const block of blocks) {
      const probs = [...block.matchAll(/^ {2}\d {2}(0\.\d{4}|1\.0000)/gm)].map((m) => Number(m[1]));
      assert.equal(probs.length, 10);
      assert.ok(Math.abs(probs.reduce((s, p) => s + p, 0) - 1) < 2e-3);
    }
  });

  it('bad input: missing model, not a PNG, a blank image', async () => {
    let r = await run('eval');
    assert.equal(r.code, 2);
    assert.match(r.err, /eval: --model FILE is required/);
    r = await run('eval', '--model', join(dir, 'none.safetensors'));
    assert.equal(r.code, 1);
    assert.match(r.err, /none\.safetensors/);
    const notPng = join(dir, 'not.png');
    writeFileSync(notPng, 'hello');
    r = await run('predict', '--model', model, notPng);
    assert.equal(r.code, 1);
    assert.match(r.err, /not\.png: not a readable PNG image/);
    const blank = join(dir, 'blank.png');
    writeFileSync(blank, encode({ width: 10, height: 10, data: new Uint8Array(100).fill(255), channels: 1, depth: 8 }));
    r = await run('predict', '--model', model, blank);
    assert.equal(r.code, 1);
    assert.match(r.err, /blank\.png: no digit found/);
    r = await run('predict', '--model', model);
    assert.equal(r.code, 2);
    assert.match(r.err, /give one or more PNG images/);
  });

  it('saving leaves no temporary files behind', () => {
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), []);
  });
});
