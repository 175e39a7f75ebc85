import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.js';

/** Run the CLI in-process, capturing what it prints. */
async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false });
  return { code, out, err };
}

describe('backprop CLI: bad input gets one clear line and exit code 2', () => {
  const cases: [string[], RegExp][] = [
    [['train', '--lr', '0'], /--lr must be greater than 0, got 0/],
    [['train', '--lr', '-0.5'], /--lr must be greater than 0/],
    [['train', '--lr', 'fast'], /--lr must be a number, got 'fast'/],
    [['train', '--batch-size', '0'], /--batch-size must be at least 1, got 0/],
    [['train', '--batch-size', '8001'], /--batch-size 8001 is larger than the training set \(8000 images\)/],
    [['train', '--iters', '1e3x'], /--iters must be a whole number, got '1e3x'/],
    [['train', '--hidden', '2.5'], /--hidden must be a whole number, got '2.5'/],
    [['train', '--dtype', 'float16'], /--dtype must be one of float32, float64, got 'float16'/],
    [['train', '--bogus'], /unknown flag '--bogus'/],
    [['train', '--lr'], /--lr/],
    [['train', 'extra'], /unexpected argument 'extra'|extra/],
    [['gradcheck', '--samples', '0'], /--samples must be between 1 and 1000, got 0/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ];
  for (const [argv, message] of cases) {
    it(argv.join(' '), async () => {
      const r = await run(...argv);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, message);
      assert.equal(r.err.trim().split('\n').length, 1, `one line: ${r.err}`);
      assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    });
  }

  it('a missing data directory or a corrupt IDX file: exit 1, naming the file', async () => {
    const missing = await run('train', '--data', '/no/such/dir');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /\/no\/such\/dir/);
    const dir = mkdtempSync(join(tmpdir(), 'backprop-cli-'));
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      writeFileSync(join(dir, f), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    }
    const bad = await run('train', '--data', dir);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /train-images-idx3-ubyte/);
    assert.match(bad.err, /not an IDX file: bytes at offset 0/);
  });

  it('a loss that turns NaN stops training, naming the iteration and suggesting a smaller lr', async () => {
    const r = await run('train', '--lr', '1e30', '--iters', '50', '--quiet');
    assert.equal(r.code, 1);
    assert.match(r.err, /TrainingError: the loss became NaN at iteration \d+ \(optimizer sgd, lr 1e\+30\).*smaller learning rate/);
  });
});

describe('backprop train and gradcheck', () => {
  it('train writes plain per-epoch lines, a final line and a JSON report (atomically)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backprop-report-'));
    const report = join(dir, 'report.json');
    const r = await run('train', '--iters', '200', '--seed', '3', '--report', report);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.ok(lines.some((l) => /^epoch\s+0\s+iter\s+1\/200 .* train acc 0\.\d{4}  test acc 0\.\d{4}/.test(l)), r.out);
    assert.match(r.out, /final: train accuracy 0\.\d{4}, test accuracy 0\.\d{4} after 200 iterations/);
    assert.doesNotMatch(r.out, /\r/, 'no progress bar when not on a terminal');
    const json = JSON.parse(readFileSync(report, 'utf8'));
    assert.equal(json.config.iters, 200);
    assert.equal(json.config.lr, 0.1);
    assert.equal(json.config.batchSize, 100);
    assert.equal(json.config.hidden, 50);
    assert.equal(json.config.seed, 3);
    assert.equal(json.history.length, 4); // epochs at iterations 1, 81, 161, then the final record at 200
    assert.equal(json.history[3].iteration, 200);
    for (const h of json.history) for (const k of ['loss', 'trainAccuracy', 'testAccuracy', 'seconds']) assert.equal(typeof h[k], 'number');
    assert.ok(json.final.testAccuracy > 0.6, `test accuracy ${json.final.testAccuracy}`);
    assert.equal(json.final.testAccuracy, json.history[3].testAccuracy);
    assert.ok(json.final.seconds > 0);
    assert.deepEqual(readdirSync(dir), ['report.json'], 'no temporary file left behind');
  });

  it('--quiet prints only the final line; the same seed gives the same result', async () => {
    const a = await run('train', '--iters', '60', '--quiet', '--seed', '9', '--dtype', 'float64');
    const b = await run('train', '--iters', '60', '--quiet', '--seed', '9', '--dtype', 'float64');
    assert.equal(a.out.trim().split('\n').length, 1);
    assert.equal(a.out.replace(/in [\d.]+s/, ''), b.out.replace(/in [\d.]+s/, ''));
  });

  it('gradcheck prints W1 b1 W2 b2, all below 1e-6 in float64', async () => {
    const r = await run('gradcheck');
    assert.equal(r.code, 0, r.err);
    for (const key of ['W1', 'b1', 'W2', 'b2']) {
      const m = r.out.match(new RegExp(`^${key}: (\\S+)$`, 'm'));
      assert.ok(m, `${key} line in ${r.out}`);
      assert.ok(Number(m[1]) < 1e-6, `${key} ${m[1]}`);
    }
  });

  it('help lists the commands; train --help lists its flags', async () => {
    assert.match((await run('help')).out, /train .*\n.*gradcheck/s);
    const h = await run('train', '--help');
    for (const flag of ['--data', '--iters', '--batch-size', '--lr', '--hidden', '--seed', '--dtype', '--report', '--quiet']) assert.ok(h.out.includes(flag), flag);
  });
});

describe('the installed command (bin/backprop.js over dist/)', () => {
  it('prints a one-line error and exits 2 on a bad flag', () => {
    const r = spawnSync(process.execPath, [new URL('../../bin/backprop.js', import.meta.url).pathname, 'train', '--lr', 'x'], { encoding: 'utf8' });
    if (r.stderr.includes('dist/ is missing')) assert.fail('dist/ is missing: npm test (pretest: scripts/build.mjs) should have built it');
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, "backprop: UsageError: --lr must be a number, got 'x'\n");
  });
});
