/**
 * Property-based tests of the CLI's flag parsing, alone (parseFlags, intFlag, positiveFlag) and
 * as the commands use it (main): generated valid flags are all accepted, in any order and
 * syntax; any command line at all ends in exit 2 with one UsageError line naming the flag or
 * command, or gets past the flags (to the data or model, which the tests point at a missing
 * path so that nothing trains), never another exception or a stack trace.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { intFlag, parseFlags, positiveFlag } from '../../src/cli/args.js';
import { UsageError } from '../../src/cli/errors.js';
import { main } from '../../src/cli/main.js';
import { OPTIMIZER_NAMES } from '../../src/optimizers/createOptimizer.js';
import { checkAsync, check } from '../property.js';

const dir = mkdtempSync(join(tmpdir(), 'backprop-cli-property-'));
const MISSING_DATA = join(dir, 'no-such-data');
const MISSING_MODEL = join(dir, 'no-such-model.safetensors');
const OUT = join(dir, 'out');
mkdirSync(OUT);
// The commands write --svg, --dot and other outputs relative to the working directory: keep them in dir.
const cwd = process.cwd();
before(() => process.chdir(dir));
after(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

/** Run the CLI in-process, capturing what it prints. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false });
  return { code, out, err };
}

/**
 * Each command's flags, and the flags put first so that a command line the flags accept stops at
 * once: a missing data directory or model file, and the TypeScript backend (no WebAssembly start).
 */
const COMMANDS: Record<string, { flags: string[]; first: string[]; exclude?: string }> = {
  train: {
    flags: ['split-seed', 'model', 'hidden', 'activation', 'init', 'weight-std', 'weight-decay', 'dropout', 'batch-norm', 'dtype', 'optimizer', 'lr', 'iters', 'epochs', 'batch-size', 'seed', 'backend', 'threads', 'save', 'resume', 'report', 'plot', 'quiet', 'help'],
    first: ['--data', MISSING_DATA, '--backend', 'js'],
    exclude: 'data',
  },
  'compare-optimizers': { flags: ['iters', 'batch-size', 'seed', 'optimizers', 'backend', 'threads', 'plot', 'quiet', 'help'], first: ['--data', MISSING_DATA, '--backend', 'js'], exclude: 'data' },
  gradcheck: { flags: ['dtype', 'seed', 'samples', 'help'], first: ['--data', MISSING_DATA], exclude: 'data' },
  eval: { flags: ['data', 'split-seed', 'backend', 'threads', 'help'], first: ['--model', MISSING_MODEL, '--backend', 'js'], exclude: 'model' },
  predict: { flags: ['backend', 'threads', 'help'], first: ['--model', MISSING_MODEL, '--backend', 'js'], exclude: 'model' },
  graph: { flags: ['set', 'svg', 'dot', 'help'], first: [] },
  help: { flags: ['help'], first: [] },
};

/** Values a flag might be given: numbers in many spellings, the choices, lists, paths, junk. */
const valueArb = fc.oneof(
  fc.integer({ min: -5, max: 300 }).map(String),
  fc.constantFrom('0', '-1', '1e3', '1e400', '0x10', '1.5', '-0.5', '.5', '5.', '+3', ' 7', '', ' ', 'NaN', 'Infinity', '-Infinity', '1e-7', '9007199254740993'),
  fc.constantFrom(...OPTIMIZER_NAMES, 'SGD', 'Adam', 'two-layer', 'mlp', 'cnn', 'relu', 'sigmoid', 'tanh', 'he', 'xavier', 'float32', 'float64', 'float16', 'js', 'gpu', 'bundled'),
  fc.constantFrom('50,50', '1,,2', '100,', ',', 'sgd,adam', 'sgd,sgd', 'momentum, adagrad'),
  fc.constantFrom(join(OUT, 'a.svg'), join(OUT, 'a.json'), 'out/b.dot', MISSING_MODEL, join(MISSING_DATA, 'x.svg')),
  fc.constantFrom('x*y', 'apple', 'apple-orange', 'two-layer-net', '(a + b))', 'x=1', 'y=2', 'batch=3', 'x=abc', 'exp(x)', '-x', '1e999'),
  fc.constantFrom('a\nb', '--', '-', '=', '__proto__', 'constructor', 'toString', 'é', '\t'),
  fc.string({ maxLength: 6 }),
);

/**
 * A flag name: the command's own, a misspelling of one, or another word; never `exclude`, the
 * flag that stops the command (a generated `--data bundled` would train for minutes).
 */
function nameArb(names: string[], exclude?: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...names) },
    fc.tuple(fc.constantFrom(...names), fc.nat(), fc.constantFrom('drop', 'double', 'upper', 'swap')).map(([n, i, how]) => {
      const k = i % n.length;
      if (how === 'drop') return n.slice(0, k) + n.slice(k + 1);
      if (how === 'double') return n.slice(0, k) + n[k] + n.slice(k);
      if (how === 'upper') return n.toUpperCase();
      return n.slice(0, k) + n.slice(k + 1, k + 2) + n.slice(k, k + 1) + n.slice(k + 2);
    }),
    fc.constantFrom('data', 'model', 'no-quiet', 'version', '__proto__', 'constructor', 'h', ''),
  ).filter((n) => n !== exclude);
}

/** A command line for `command`: flags in every syntax, values, positionals and separators. */
function argvArb(command: string): fc.Arbitrary<string[]> {
  const { flags: names, exclude } = COMMANDS[command];
  const token = fc.oneof(
    { weight: 5, arbitrary: fc.tuple(nameArb(names, exclude), valueArb).map(([n, v]) => [`--${n}`, v]) },
    { weight: 2, arbitrary: nameArb(names, exclude).map((n) => [`--${n}`]) },
    { weight: 2, arbitrary: fc.tuple(nameArb(names, exclude), valueArb).map(([n, v]) => [`--${n}=${v}`]) },
    fc.constantFrom(['-h'], ['-x'], ['-hx'], ['--'], ['-'], ['-5']),
    valueArb.map((v) => [v]),
  );
  return fc.array(token, { maxLength: 6 }).map((ts) => ts.flat());
}

/** How a command line may end: help, a usage error, or past the flags to the missing data or model. */
function assertOutcome(r: { code: number; out: string; err: string }, argv: string[]): void {
  const where = `argv ${JSON.stringify(argv)}: exit ${r.code}, ${JSON.stringify(r.err)}`;
  assert.doesNotMatch(r.err, /\n\s+at /, `no stack trace: ${where}`);
  if (r.code === 0) {
    assert.equal(r.err, '', where);
    // a graph's picture, or help
    if (argv[0] !== 'graph') assert.match(r.out, /^Usage: backprop /, `help: ${where}`);
    assert.ok(r.out.length > 0, where);
    return;
  }
  assert.ok(r.err.endsWith('\n'), where);
  if (r.code === 2) {
    assert.match(r.err, /^backprop: UsageError: /, where);
    // a graph's syntax error shows the expression and a caret on the next lines; all else is one line
    if (argv[0] !== 'graph') assert.equal(r.err.split('\n').length, 2, `one line: ${where}`);
    assert.match(r.err, /--|^backprop: UsageError: (train|eval|predict|gradcheck|compare-optimizers|graph|playground|help)\b|unknown command|no help on |give /, `names the flag or command: ${where}`);
    return;
  }
  assert.equal(r.code, 1, where);
  assert.equal(r.err.split('\n').length, 2, `one line: ${where}`);
  if (argv[0] === 'graph' && /^backprop: error: (ENOENT|EACCES|EISDIR|ENOTDIR)/.test(r.err)) {
    // an --svg or --dot path that cannot be written fails late, with the raw system error: issue 8 item 8, not flag parsing
    assert.ok(argv.some((a, i) => i > 0 && /^--(svg|dot)/.test(argv[i - 1] + a)), where);
    return;
  }
  // past the flags: the data or model given (the missing one put first, or one generated) cannot be read
  assert.match(r.err, /^backprop: (DataError|ModelFileError): /, `exit 1 only for data or a model that cannot be read: ${where}`);
}

describe('CLI flags, property-based', () => {
  it('parseFlags returns the generated flags, in any order and syntax, negative numbers included', () => {
    const options = { lr: { type: 'string' }, seed: { type: 'string' }, hidden: { type: 'string' }, quiet: { type: 'boolean' }, list: { type: 'string', multiple: true } } as const;
    const arb = fc.record({
      lr: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }).map(String)),
      seed: fc.option(fc.integer().map(String)),
      hidden: fc.option(fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 3 }).map((h) => h.join(','))),
      quiet: fc.boolean(),
      list: fc.array(fc.stringMatching(/^[a-z0-9.]{1,5}$/), { maxLength: 3 }),
      inline: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
      order: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
    });
    check('parseFlags round trip', 800, fc.property(arb, ({ lr, seed, hidden, quiet, list, inline, order }) => {
      const groups: string[][] = [];
      const add = (name: string, value: string, k: number): void => void groups.push(inline[k % 5] ? [`--${name}=${value}`] : [`--${name}`, value]);
      if (lr !== null) add('lr', lr, 0);
      if (seed !== null) add('seed', seed, 1);
      if (hidden !== null) add('hidden', hidden, 2);
      if (quiet) groups.push(['--quiet']);
      list.forEach((v, k) => add('list', v, 3 + k));
      // shuffle the groups, keeping the --list values in their order
      const keyed = groups.map((g, k) => ({ g, key: g[0].startsWith('--list') ? 1e9 + k : order[k % order.length] }));
      const argv = keyed.sort((a, b) => a.key - b.key).flatMap((x) => x.g);
      const { values, positionals } = parseFlags('test', argv, options);
      assert.deepEqual(positionals, []);
      assert.equal(values.lr, lr ?? undefined);
      assert.equal(values.seed, seed ?? undefined);
      assert.equal(values.hidden, hidden ?? undefined);
      assert.equal(values.quiet, quiet ? true : undefined);
      assert.deepEqual(values.list, list.length ? list : undefined);
    }));
  });

  it('intFlag and positiveFlag give back the number written, in any spelling, and refuse the rest with a UsageError naming the flag', () => {
    const spellings = (n: number): fc.Arbitrary<string> => fc.constantFrom(String(n), n.toExponential(), `${n}.0`, ` ${n} `, n >= 0 ? `+${n}` : `${n}`);
    check('intFlag', 800, fc.property(fc.integer({ min: -1000, max: 1e9 }).chain((n) => fc.tuple(fc.constant(n), spellings(n))), ([n, text]) => {
      if (n >= 1) assert.equal(intFlag('iters', text, 0, 1), n);
      else assert.throws(() => intFlag('iters', text, 0, 1), (e: unknown) => e instanceof UsageError && e.message.startsWith('--iters must be at least 1'));
    }));
    check('positiveFlag', 800, fc.property(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(NaN, Infinity, -Infinity)), fc.string({ maxLength: 3 }), (x, junk) => {
      const text = String(x);
      if (x > 0 && Number.isFinite(x)) assert.equal(positiveFlag('lr', text, 0.1), x);
      else assert.throws(() => positiveFlag('lr', text, 0.1), (e: unknown) => e instanceof UsageError && e.message.startsWith('--lr must be'));
      if (junk.trim() !== '' && !Number.isFinite(Number(text + junk))) {
        assert.throws(() => positiveFlag('lr', text + junk, 0.1), (e: unknown) => e instanceof UsageError && e.message.startsWith(`--lr must be a number, got '${text + junk}'`));
      }
    }));
  });

  it('train accepts every valid combination of flags, in any order and syntax, and goes on to the data', async () => {
    const number = (x: number): fc.Arbitrary<string> => fc.constantFrom(String(x), x.toExponential());
    const arb = fc.constantFrom('two-layer', 'mlp', 'cnn').chain((model) => {
      const mlp = model === 'mlp';
      return fc.record({
        model: fc.constant(model),
        hidden: fc.option(mlp ? fc.array(fc.integer({ min: 1, max: 100000 }), { minLength: 1, maxLength: 3 }).map((h) => h.join(',')) : fc.integer({ min: 1, max: 100000 }).map(String)),
        init: fc.option(fc.oneof(fc.double({ min: 1e-6, max: 10, noNaN: true }).chain(number), mlp ? fc.constantFrom('he', 'xavier', 'relu', 'sigmoid') : fc.constant('0.01'))),
        activation: mlp ? fc.option(fc.constantFrom('relu', 'sigmoid', 'tanh')) : fc.constant(null),
        'weight-decay': mlp ? fc.option(fc.double({ min: 0, max: 1, noNaN: true }).chain(number)) : fc.constant(null),
        dropout: mlp ? fc.option(fc.double({ min: 0, max: 0.99, noNaN: true }).chain(number)) : fc.constant(null),
        'batch-norm': fc.constant(mlp ? true : null),
        dtype: fc.option(fc.constantFrom('float32', 'float64')),
        optimizer: fc.option(fc.constantFrom(...OPTIMIZER_NAMES)),
        lr: fc.option(fc.double({ min: 1e-9, max: 100, noNaN: true }).chain(number)),
        length: fc.option(fc.tuple(fc.constantFrom('iters', 'epochs'), fc.integer({ min: 1, max: 1e6 }))),
        'batch-size': fc.option(fc.integer({ min: 1, max: 5000 }).map(String)),
        seed: fc.option(fc.integer({ min: 0, max: 2 ** 31 }).map(String)),
        threads: fc.option(fc.integer({ min: 1, max: 64 }).map(String)),
        save: fc.option(fc.constant(join(OUT, 'model.safetensors'))),
        report: fc.option(fc.constant(join(OUT, 'report.json'))),
        plot: fc.option(fc.constant('out/chart.svg')),
        quiet: fc.boolean(),
        inline: fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
        order: fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
      });
    });
    await checkAsync('train valid flags', 800, fc.asyncProperty(arb, async (f) => {
      const groups: string[][] = [];
      let k = 0;
      for (const [name, value] of Object.entries(f)) {
        if (['inline', 'order', 'model', 'length', 'quiet', 'batch-norm'].includes(name) || value === null) continue;
        groups.push(f.inline[k++ % f.inline.length] ? [`--${name}=${value}`] : [`--${name}`, String(value)]);
      }
      groups.push([`--model=${f.model}`]);
      if (f.length) groups.push([`--${f.length[0]}`, String(f.length[1])]);
      if (f.quiet) groups.push(['--quiet']);
      if (f['batch-norm']) groups.push(['--batch-norm']);
      const argv = ['train', ...COMMANDS.train.first, ...groups.map((g, i) => ({ g, key: f.order[i % f.order.length] })).sort((a, b) => a.key - b.key).flatMap((x) => x.g)];
      const r = await run(argv);
      assert.equal(r.code, 1, `${JSON.stringify(argv)}: ${r.err}`);
      assert.equal(r.err, `backprop: DataError: cannot read dataset directory ${MISSING_DATA}: no such directory\n`, JSON.stringify(argv));
    }));
  });

  for (const command of Object.keys(COMMANDS)) {
    it(`${command}: any command line ends in help, one UsageError line, or the missing data or model`, async () => {
      await checkAsync(`${command} any flags`, command === 'train' ? 1200 : 500, fc.asyncProperty(argvArb(command), async (generated) => {
        const argv = [command, ...COMMANDS[command].first, ...generated];
        assertOutcome(await run(argv), argv);
      }));
    });
  }

  it('an unknown or misspelt command is a UsageError', async () => {
    const commandArb = fc.oneof(fc.string({ maxLength: 8 }), nameArb(Object.keys(COMMANDS)));
    await checkAsync('unknown command', 300, fc.asyncProperty(commandArb.filter((c) => !(c in COMMANDS) && !['--help', '-h', '--version', 'playground', 'data', 'export'].includes(c) && c !== ''), async (command) => {
      const r = await run([command, '--data', MISSING_DATA]);
      assertOutcome(r, [command]);
      assert.equal(r.code, 2, r.err);
    }));
  });
});

describe('CLI flags: what the property tests found', () => {
  it("'help constructor' and 'help __proto__' are unknown topics, not Object's source", async () => {
    for (const topic of ['constructor', '__proto__', 'toString']) {
      const r = await run(['help', topic]);
      assert.equal(r.code, 2, topic);
      assert.equal(r.out, '', topic);
      assert.match(r.err, new RegExp(`^backprop: UsageError: no help on '${topic}'.*\\(commands: train, `), topic);
    }
  });
  it('a value holding a newline is shown escaped, so the error stays one line', async () => {
    const r = await run(['train', '--backend', 'a\nb']);
    assert.equal(r.code, 2);
    assert.equal(r.err, "backprop: UsageError: --backend must be one of auto, js, wasm, got 'a\\nb'\n");
    const data = await run(['train', '--data', join(dir, 'x\ty')]);
    assert.equal(data.err, `backprop: DataError: cannot read dataset directory ${join(dir, 'x\\ty')}: no such directory\n`);
  });
});
