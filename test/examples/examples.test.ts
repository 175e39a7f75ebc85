import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** `npm run example <name>`, as a user runs it. */
function example(name: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--import', 'tsx', 'examples/run.ts', name], { cwd: root, encoding: 'utf8' });
}

describe('examples print what the book prints', () => {
  it('buy-apple', () => {
    const r = example('buy-apple');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'price: 220\ndApple: 2.2\ndApple_num: 110\ndTax: 200\n');
  });

  it('buy-apple-orange', () => {
    const r = example('buy-apple-orange');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'price: 715\ndApple: 2.2\ndApple_num: 110\ndOrange: 3.3\ndOrange_num: 165\ndTax: 650\n');
  });

  it('gradient-check: W1 b1 W2 b2 differences, all tiny', () => {
    const r = example('gradient-check');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split(':')[0]), ['W1', 'b1', 'W2', 'b2']);
    for (const l of lines) assert.ok(Number(l.split(':')[1]) < 1e-6, l);
  });

  it('an unknown example lists the examples and exits 2', () => {
    const r = example('no-such-example');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Examples: .*buy-apple.*train-neuralnet/);
  });
});
