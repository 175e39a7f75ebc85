import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { graphCommand } from '../../src/cli/graph.js';
import { UsageError } from '../../src/cli/errors.js';
import { APPLE_TEXT, checkXml } from './helpers.js';

async function run(...args: string[]): Promise<string[]> {
  const lines: string[] = [];
  await graphCommand(args, (line) => lines.push(line));
  return lines;
}

describe('backprop graph', () => {
  it('apple prints the picture, 220 and the gradients 2.2, 110, 200', async () => {
    assert.deepEqual(await run('apple'), APPLE_TEXT);
  });

  it('apple-orange prints 715 and the gradients 2.2, 110, 3.3, 165, 650', async () => {
    assert.deepEqual((await run('apple-orange')).slice(-6), [
      'price = 715', '∂price/∂apple      = 2.2', '∂price/∂apple_num  = 110', '∂price/∂orange     = 3.3',
      '∂price/∂orange_num = 165', '∂price/∂tax        = 650',
    ]);
  });

  it('--set overrides a book value and gives an expression its variables', async () => {
    assert.deepEqual((await run('apple', '--set', 'apple=150', '--set=tax=1')).slice(-4),
      ['price = 300', '∂price/∂apple     = 2', '∂price/∂apple_num = 150', '∂price/∂tax       = 300']);
    assert.deepEqual((await run('x * x + y', '--set', 'x=3', '--set', 'y=-1')).slice(-3), ['out = 8', '∂out/∂x = 6', '∂out/∂y = 1']);
    assert.deepEqual((await run('--set', 'x=2', '--', '-x^2')).slice(-2), ['out = -4', '∂out/∂x = -4']);
  });

  it('two-layer-net draws the autograd graph of the net itself, with --set for its sizes', async () => {
    const lines = await run('two-layer-net', '--set', 'batch=32');
    assert.equal(lines[0], 'L = softmaxCrossEntropy(linear(relu(linear(x, W1, b1)), W2, b2), t)');
    const row = (name: string) => lines.find((l) => new RegExp(`^${name}\\s{2,}`).test(l))!.split(/\s{2,}/);
    assert.deepEqual(row('x'), ['x', 'input', '(32, 784)', '(32, 784)']);
    assert.deepEqual(row('W1'), ['W1', 'input', '(784, 50)', '(784, 50)']);
    assert.deepEqual(row('t1'), ['t1', 'Affine', 'x, W1, b1', '(32, 50)', '(32, 50)']);
    assert.deepEqual(row('t2'), ['t2', 'ReLU', 't1', '(32, 50)', '(32, 50)']);
    assert.deepEqual(row('L').slice(0, 3), ['L', 'SoftmaxWithLoss', 't3, t']);
    assert.ok(lines.includes('∂L/∂b2 = (10,)'));
  });

  it('a tensor expression with --shape: shapes on the edges, values where few, backward from ones', async () => {
    const lines = await run('relu(x @ W + b)', '--shape', 'x=1,2', '--shape', 'W=2,3', '--set', 'x=1,-2', '--set', 'W=1,2,3,4,5,6', '--set', 'b=1,1,1');
    // x · W + b = [1 − 8 + 1, 2 − 10 + 1, 3 − 12 + 1] = [−6, −7, −8]: relu gives 0, so every gradient is 0 but b's path
    assert.equal(lines[0], 'out = relu(x dot W + b)');
    assert.ok(lines.includes('out = (1, 3) [[0,0,0]]'), lines.join('\n'));
    assert.ok(lines.includes('∂out/∂b = (3,) [0,0,0]'));
    const ok = await run('x @ W + b', '--shape=x=1,2', '--set', 'x=1,2', '--set', 'W=1,2,3,4,5,6', '--shape', 'W=2,3', '--set', 'b=1');
    assert.ok(ok.includes('out = (1, 3) [[10,13,16]]'), ok.join('\n'));
    assert.ok(ok.includes('∂out/∂x = (1, 2) [[6,15]]'));
    assert.ok(ok.includes('∂out/∂W = (2, 3)'));
    assert.ok(ok.includes('∂out/∂b = 3'), 'b is 0-D: broadcast to (1, 3), its gradient sums back');
    assert.match(ok.at(-1)!, /backward starts from ones, the gradient of sum\(out\)/);
  });

  it('--svg and --dot write whole files and leave no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'graph-cli-'));
    try {
      const svg = join(dir, 'apple.svg'), dot = join(dir, 'apple.dot');
      const lines = await run('apple', '--svg', svg, '--dot', dot);
      assert.deepEqual(lines.slice(-2), [`wrote ${svg}`, `wrote ${dot}`]);
      const svgText = readFileSync(svg, 'utf8');
      checkXml(svgText);
      for (const v of ['220', '2.2', '110', '200']) assert.ok(svgText.includes(`>${v}</text>`), v);
      assert.match(readFileSync(dot, 'utf8'), /^digraph "price" \{/);
      await run('two-layer-net', `--svg=${svg}`);
      assert.ok(readFileSync(svg, 'utf8').includes('>SoftmaxWithLoss</text>'));
      assert.ok(readFileSync(svg, 'utf8').includes('>(784, 50)</text>'));
      assert.deepEqual(readdirSync(dir).sort(), ['apple.dot', 'apple.svg']);
      // refused before drawing, in the user's own path (not a temporary file's)
      const missing = join(dir, 'missing', 'x.svg');
      await assert.rejects(run('apple', '--svg', missing), { name: 'UsageError', message: `--svg ${missing}: the folder ${join(dir, 'missing')} does not exist` });
      await assert.rejects(run('apple', '--dot', dir), { name: 'UsageError', message: `--dot ${dir}: ${dir} is a folder` });
      assert.deepEqual(readdirSync(dir).sort(), ['apple.dot', 'apple.svg']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--help prints the usage', async () => {
    assert.match((await run('--help'))[0], /^usage: backprop graph apple\|apple-orange\|two-layer-net/);
  });

  const bad: [string[], string | RegExp][] = [
    [[], /^graph: missing the graph to draw\. usage: backprop graph/],
    [['apple', '--bogus'], /^graph: unknown option '--bogus' \(options: --set name=value, --shape name=2,3, --svg FILE, --dot FILE;/],
    [['-x'], /^graph: unknown option '-x'.*after --/],
    [['apple', '--set', 'x=abc'], "graph: --set x=abc: 'abc' is not a finite number"],
    [['apple', '--set', 'apple='], "graph: --set apple=: '' is not a finite number"],
    [['apple', '--set', 'apple'], 'graph: --set apple: expected name=value, e.g. --set x=2'],
    [['apple', '--set'], 'graph: --set needs a value, e.g. --set x=2'],
    [['apple', '--svg'], 'graph: --svg needs a value, e.g. --svg graph.svg'],
    [['apple', '--set', 'banana=1'], "graph: --set banana: the graph has no variable 'banana'; it has apple, apple_num, tax"],
    [['x + 1', '--set', 'x=1', '--set', 'z=2'], "graph: --set z: the graph has no variable 'z'; it has x"],
    [['x', '+', 'y'], 'graph: expected one graph, got 3 arguments (x + y); quote an expression: backprop graph "x + y"'],
    [['(x + ))', '--set', 'x=1'], "graph: unexpected ')' at column 6\n  (x + ))\n       ^"],
    [['x * y', '--set', 'x=1'], "graph: unknown variable 'y' at column 5; known variables: x\n  x * y\n      ^\ngive it a value with --set y=VALUE"],
    [['two-layer-net', '--set', 'batch=0'], 'graph: two-layer-net: batch must be a whole number from 1 to 100000, got 0'],
    [['x @ W', '--shape', 'x=2,3', '--shape', 'W=2,3'], 'graph: matmul: inner dimensions differ: op(A) is 2×3, op(B) is 2×3 (A shape [2,3], B shape [2,3])'],
    [['x + y', '--shape', 'x=2,3', '--shape', 'y=2'], /^graph: add: shapes \[2,3\] and \[2\] do not broadcast: aligned from the right, axis −1 has 3 and 2/],
    [['x @ W', '--shape', 'x=2,3'], "graph: unknown variable 'W' at column 5; known variables: x\n  x @ W\n      ^\ngive it a shape with --shape W=2,3 or values with --set W=1,2,3"],
    [['x * 2', '--shape', 'x=2', '--shape', 'z=3'], "graph: --shape z: the expression has no variable 'z'; it has x"],
    [['x * 2', '--shape', 'x=2,0'], 'graph: --shape x=2,0: expected name=dims, whole numbers from 1 to 4096 separated by commas, e.g. --shape x=2,3'],
    [['x * 2', '--shape', 'x=2', '--set', 'x=1,2,3'], 'graph: x: 3 values do not fill shape (2) of 2 elements; give 2 values or one'],
    [['x * 2', '--shape', 'x=2', '--set', 'x=1,a'], "graph: --set x=1,a: 'a' is not a finite number"],
    [['x @ y', '--set', 'x=1'], /^graph: unknown variable 'y'/],
    [['sum(x)', '--set', 'x=1'], /^graph: unknown function 'sum' at column 1;[^]*\nsum is a function of tensor expressions: give the variables shapes with --shape, e\.g\. --shape x=2,3$/],
    [['log(x)', '--set', 'x=-1'], 'graph: log(-1) is NaN: log needs an input above 0'],
    [['log(x) * 2', '--shape', 'x=3', '--set', 'x=1,2,-3'], 'graph: log(x) is NaN at [2] (x[2] = -3): not a finite number for these values'],
    [['exp(y) + x', '--shape', 'x=2,2', '--shape', 'y=2,2', '--set', 'y=1000'], 'graph: exp(y) is Infinity at [0, 0] (y[0, 0] = 1000): not a finite number for these values'],
    [['x^0.5', '--shape', 'x=2', '--set', 'x=0'], 'graph: the gradient of x is Infinity at [0]: not a finite number for these values'],
    [['two-layer-net', '--set', 'hidden=5'], "graph: --set hidden: two-layer-net has no 'hidden'; it has batch, inputSize, hiddenSize, outputSize"],
  ];
  for (const [args, message] of bad) {
    it(`bad input: ${JSON.stringify(args)}`, async () => {
      await assert.rejects(run(...args), (e: unknown) => {
        assert.ok(e instanceof UsageError, String(e));
        if (typeof message === 'string') assert.equal(e.message, message);
        else assert.match(e.message, message);
        return true;
      });
    });
  }
});
