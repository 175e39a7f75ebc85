import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkXml } from '../graph/helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** `npm run example <name> -- args`, as a user runs it. */
function example(name: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--import', 'tsx', 'examples/run.ts', name, ...args], { cwd: root, encoding: 'utf8' });
}

/** `key:1.23e-10` (chapter 6) or `key 1.23e-10` (chapter 7) lines, as the book prints them. */
function differences(stdout: string): [string, number][] {
  return stdout.trim().split('\n').map((line) => {
    const m = /^(\w+)[: ](\S+)$/.exec(line);
    assert.ok(m, `unexpected line: ${line}`);
    return [m[1], Number(m[2])];
  });
}

// The MNIST comparisons, overfitting runs, batch-norm-test and train-convnet take 40-50 s each
// on the plain JavaScript backend; they are left out here (run them with npm run example).
describe('chapter 6 and 7 examples', () => {
  it('optimizer-compare-naive: every path starts at (−7, 2), takes the book\'s first steps and ends near the minimum (0, 0)', () => {
    const svg = join(mkdtempSync(join(tmpdir(), 'backprop-naive-')), 'paths.svg');
    const r = example('optimizer-compare-naive', '--svg', svg);
    assert.equal(r.status, 0, r.stderr);
    const blocks = r.stdout.split(/^(?=\w+ \(lr )/m).filter((b) => /\(lr /.test(b));
    assert.deepEqual(blocks.map((b) => b.split(' ')[0]), ['SGD', 'Momentum', 'AdaGrad', 'Adam']);
    const f = (x: number, y: number): number => x ** 2 / 20 + y ** 2;
    for (const block of blocks) {
      const name = block.split(' ')[0];
      const points = [...block.slice(0, block.indexOf('final:')).matchAll(/\(\s*(-?\d+\.\d+),\s*(-?\d+\.\d+)\)/g)].map((m) => [Number(m[1]), Number(m[2])]);
      assert.equal(points.length, 31, `${name}: the start and 30 updates`);
      assert.deepEqual(points[0], [-7, 2]);
      const m = /final: \((-?\d+\.\d+), (-?\d+\.\d+)\)/.exec(block);
      assert.ok(m, block);
      const [x, y] = [Number(m[1]), Number(m[2])];
      assert.deepEqual(points[30], [x, y]);
      assert.ok(Math.abs(x) < 1 && Math.abs(y) < 0.5, `${name} ends at (${x}, ${y})`);
      assert.ok(f(x, y) < 0.02 * f(-7, 2), `${name}: f fell from ${f(-7, 2)} to ${f(x, y)}`);
    }
    const second = (name: string): number[] => {
      const block = blocks.find((b) => b.startsWith(name))!;
      return [...block.matchAll(/\(\s*(-?\d+\.\d+),\s*(-?\d+\.\d+)\)/g)].slice(1, 2).flatMap((m) => [Number(m[1]), Number(m[2])]);
    };
    // SGD: (x, y) − 0.95 · (x/10, 2y) = (−6.335, −1.8); Adam's first step moves each coordinate by lr = 0.3
    assert.deepEqual(second('SGD'), [-6.335, -1.8]);
    assert.deepEqual(second('Adam'), [-6.7, 1.7]);
    assert.match(r.stdout, /figure written to /);
    const names = checkXml(readFileSync(svg, 'utf8').replace(/^<\?xml[^>]*\?>\n/, ''));
    assert.equal(names[0], 'svg');
    assert.equal(names.filter((n) => n === 'clipPath').length, 4, 'four panels');
    for (const title of ['SGD', 'Momentum', 'AdaGrad', 'Adam']) assert.ok(readFileSync(svg, 'utf8').includes(`>${title}</text>`), title);
  });

  it('conv-gradient-check: SimpleConvNet\'s six parameters agree with numerical gradients below 1e-6', () => {
    const r = example('conv-gradient-check');
    assert.equal(r.status, 0, r.stderr);
    const diffs = differences(r.stdout);
    assert.deepEqual(diffs.map(([k]) => k), ['W1', 'b1', 'W2', 'b2', 'W3', 'b3']);
    for (const [key, d] of diffs) assert.ok(d >= 0 && d < 1e-6, `${key}: ${d}`);
  });

  it('batch-norm-gradient-check: every parameter, gamma and beta included, below 1e-6', () => {
    const r = example('batch-norm-gradient-check');
    assert.equal(r.status, 0, r.stderr);
    const diffs = differences(r.stdout);
    assert.deepEqual(diffs.map(([k]) => k), ['W1', 'b1', 'gamma1', 'beta1', 'W2', 'b2', 'gamma2', 'beta2', 'W3', 'b3']);
    for (const [key, d] of diffs) assert.ok(d >= 0 && d < 1e-6, `${key}: ${d}`);
  });

  it('train-convnet rejects a bad epoch count with exit code 2', () => {
    const r = example('train-convnet', 'many');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /epochs must be a whole number > 0, got 'many'/);
  });

  it('the runner lists every chapter 6 and 7 example', () => {
    const r = example('no-such-example');
    assert.equal(r.status, 2);
    for (const name of ['batch-norm-gradient-check', 'batch-norm-test', 'conv-gradient-check', 'optimizer-compare-mnist', 'optimizer-compare-naive',
      'overfit-dropout', 'overfit-weight-decay', 'train-convnet', 'weight-init-compare']) {
      assert.match(r.stderr, new RegExp(`\\b${name}\\b`), name);
    }
  });
});
