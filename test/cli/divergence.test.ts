import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false });
  return { code, out, err };
}

/** The rule written out: an epoch mean above 2 · max(first loss, ln 10) has diverged. */
const limit = (first: number): number => 2 * Math.max(first, Math.log(10));

describe('backprop train: divergence with a finite loss', () => {
  it('--lr 1e6 --iters 300 stops at the first epoch with the TrainingError line, exit 1', async () => {
    const r = await run('train', '--lr', '1e6', '--iters', '300');
    assert.equal(r.code, 1, r.err);
    const m = /^backprop: TrainingError: the loss rose to (\d+\.\d{4}) at iteration 81, from (\d+\.\d{4}) at the start \(optimizer sgd, lr 1000000\): training diverged; try a smaller learning rate\n$/.exec(r.err);
    assert.ok(m, r.err);
    const [rose, start] = [Number(m[1]), Number(m[2])];
    assert.ok(rose > limit(start) && rose < -Math.log(1e-7), `finite, near the log guard's ceiling: ${rose}`);
    // the data and net lines, epoch 0, and nothing after the diverged epoch
    assert.deepEqual(r.out.trim().split('\n').map((l) => l.split(/[: ]/)[0]), ['data', 'net', 'epoch']);
    assert.doesNotMatch(r.out, /final:/);
  });

  it('--no-divergence-check lets it run to the end', async () => {
    const r = await run('train', '--lr', '1e6', '--iters', '300', '--no-divergence-check');
    assert.equal(r.code, 0, r.err);
    const losses = [...r.out.matchAll(/^epoch .* loss (\d+\.\d+) /gm)].map((m) => Number(m[1]));
    assert.ok(losses.slice(1).every((l) => l > limit(losses[0])), `diverged all along: ${losses}`);
    assert.match(r.out, /final: .* after 300 iterations/);
  });

  it('a loss that turns NaN keeps its line (iteration, optimizer, lr, what to try)', async () => {
    const r = await run('train', '--lr', '1e30', '--optimizer', 'momentum', '--iters', '50', '--quiet');
    assert.equal(r.code, 1);
    assert.match(r.err, /^backprop: TrainingError: the loss became NaN at iteration \d+ \(optimizer momentum, lr 1e\+30\): training diverged; try a smaller learning rate\n$/);
  });

  it('compare-optimizers has --no-divergence-check in its help', async () => {
    assert.match((await run('compare-optimizers', '--help')).out, /--no-divergence-check/);
  });
});

describe('the CLI\'s default recipes run clean with the check on', () => {
  // each default, long enough for several epoch checks: the risky epochs are the first ones
  for (const args of [
    ['train'], // the book's chapter 5 run, whole: 10,000 iterations, 125 epoch checks
    ['train', '--model', 'mlp'], // whole: 20 epochs
    ['train', '--model', 'cnn', '--epochs', '2'],
    ['train', '--optimizer', 'adam', '--epochs', '3'],
    ['train', '--model', 'mlp', '--optimizer', 'nesterov', '--batch-norm', '--epochs', '3'],
  ]) {
    it(args.join(' '), async () => {
      const r = await run(...args, '--quiet');
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^final: train accuracy 0\.\d{4}, test accuracy 0\.\d{4} after \d+ iterations/);
    });
  }

  it('compare-optimizers (500 iterations: five 100-iteration windows for each optimizer)', async () => {
    const r = await run('compare-optimizers', '--iters', '500', '--quiet');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /test acc/);
  });
});
