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

  it('two-layer-net prints the layer picture, with --set for its sizes', async () => {
    const lines = await run('two-layer-net', '--set', 'batch=32');
    assert.equal(lines[0], 'TwoLayerNet: batch 32, input 784, hidden 50, output 10');
    assert.ok(lines.includes('x (32, 784)                          dx (32, 784)'));
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
    [['apple', '--bogus'], /^graph: unknown option '--bogus' \(options: --set name=value, --svg FILE, --dot FILE;/],
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
    [['two-layer-net', '--set', 'batch=0'], 'graph: twoLayerNetGraph: batch must be a positive integer, got 0'],
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
