import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import { didYouMean } from '../../src/cli/suggest.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false });
  return { code, out, err };
}

const COMMANDS = ['train', 'eval', 'predict', 'export', 'gradcheck', 'compare-optimizers', 'data', 'graph', 'playground'];

describe('did you mean …?', () => {
  it('the closest candidate within a third of the word, counting a swap of neighbours as one edit', () => {
    assert.equal(didYouMean('trian', COMMANDS), 'train'); // a swap
    assert.equal(didYouMean('trainn', COMMANDS), 'train'); // an insertion
    assert.equal(didYouMean('gradchek', COMMANDS), 'gradcheck'); // a deletion
    assert.equal(didYouMean('compare-optimisers', COMMANDS), 'compare-optimizers'); // a substitution
    assert.equal(didYouMean('compare', COMMANDS), 'compare-optimizers'); // the only one it begins
    assert.equal(didYouMean('Train', COMMANDS), 'train');
    assert.equal(didYouMean('itres', ['iters', 'epochs', 'lr']), 'iters');
    assert.equal(didYouMean('rl', ['iters', 'epochs', 'lr']), 'lr');
    assert.equal(didYouMean('frobnicate', COMMANDS), undefined);
    assert.equal(didYouMean('x', ['lr']), undefined, 'two edits are too many for a one-letter word');
    assert.equal(didYouMean('tran', ['train', 'trap']), 'train', 'a tie goes to the first');
  });

  for (const [argv, line] of [
    [['trian'], "backprop: UsageError: unknown command 'trian'; did you mean train? (commands: train, eval, predict, export, gradcheck, compare-optimizers, data, graph, playground, help)"],
    [['help', 'trian'], "backprop: UsageError: no help on 'trian'; did you mean train? (commands: train, eval, predict, export, gradcheck, compare-optimizers, data, graph, playground)"],
    [['compare'], "backprop: UsageError: unknown command 'compare'; did you mean compare-optimizers? (commands: train, eval, predict, export, gradcheck, compare-optimizers, data, graph, playground, help)"],
    [['frobnicate'], "backprop: UsageError: unknown command 'frobnicate' (commands: train, eval, predict, export, gradcheck, compare-optimizers, data, graph, playground, help)"],
    [['train', '--itres', '5'], "backprop: UsageError: train: unknown flag '--itres'; did you mean --iters? (see backprop train --help)"],
    [['train', '--itres=5'], "backprop: UsageError: train: unknown flag '--itres'; did you mean --iters? (see backprop train --help)"],
    [['compare-optimizers', '--optimiser', 'sgd'], "backprop: UsageError: compare-optimizers: unknown flag '--optimiser'; did you mean --optimizers? (see backprop compare-optimizers --help)"],
    [['eval', '--modle', 'x'], "backprop: UsageError: eval: unknown flag '--modle'; did you mean --model? (see backprop eval --help)"],
    [['train', '--bogus'], "backprop: UsageError: train: unknown flag '--bogus' (see backprop train --help)"],
  ] as const) {
    it(`${argv.join(' ')}: exit 2, one line`, async () => {
      const r = await run(...argv);
      assert.equal(r.code, 2);
      assert.equal(r.err, line + '\n');
      assert.equal(r.out, '');
    });
  }
});

describe('help', () => {
  it('lists every command with its summary in one column', async () => {
    const r = await run('help');
    assert.equal(r.code, 0);
    const rows = r.out.split('\n').filter((l) => /^ {2}\S/.test(l));
    assert.deepEqual(rows.map((l) => l.trim().split(/\s{2,}/)[0]), [...COMMANDS, 'help [cmd]']);
    const columns = new Set(rows.map((l) => l.search(/(?<=\S {2,})\S/)));
    assert.equal(columns.size, 1, `summaries start in one column:\n${rows.join('\n')}`);
  });

  it('help COMMAND prints that command\'s help, as COMMAND --help does', async () => {
    for (const c of COMMANDS) {
      const topic = await run('help', c);
      const flag = await run(c, '--help');
      assert.equal(topic.code, 0, c);
      assert.equal(topic.out, flag.out, c);
      assert.ok(topic.out.toLowerCase().includes(`backprop ${c}`), `${c}: ${topic.out.slice(0, 80)}`);
    }
  });

  it('no command: the help, exit 2', async () => {
    const r = await run();
    assert.equal(r.code, 2);
    assert.match(r.out, /^Usage: backprop <command>/);
  });
});

describe('counts in words', () => {
  it('1 epoch, 1 iteration', async () => {
    const epoch = await run('train', '--epochs', '1');
    assert.equal(epoch.code, 0, epoch.err);
    assert.match(epoch.out, /, 1 epoch \(80 iterations\), seed 0\n/);
    const iteration = await run('train', '--iters', '1');
    assert.match(iteration.out, /, 1 iteration, seed 0\n/);
    assert.match(iteration.out, / after 1 iteration in /);
    assert.doesNotMatch(epoch.out + iteration.out, /\b1 (epochs|iterations)\b/);
  });
});
