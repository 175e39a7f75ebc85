import { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../src/tensor/Tensor.js';
import type { Backend } from '../src/kernels/Backend.js';
import { Random } from '../src/random.js';
import { gatherRows } from '../src/tensor/ops.js';

/** A float64 tensor of standard normal values from a seeded generator. */
export function randn(shape: number[], rng: Random, backend?: Backend): Tensor {
  const t = Tensor.zeros(shape, { dtype: 'float64', backend });
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = rng.normal();
  return t;
}

/** Assert two arrays agree element by element within abs + rel tolerance, naming the first miss. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: lengths differ`);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])))) {
      assert.fail(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]} (tolerance ${tol})`);
    }
  }
}

/** Copy of a tensor's elements, to check that a call did not modify its arguments. */
export function snapshot(t: Tensor): number[] {
  return Array.from(t.data);
}

/** L = Σ out ⊙ g for a fixed g, so ∂L/∂out = g: the loss that checks a layer's backward(g). */
export function weightedSum(out: Tensor, g: Tensor): number {
  const [o, w] = [out.data, g.data];
  let s = 0;
  for (let i = 0; i < w.length; i++) s += o[i] * w[i];
  return s;
}

/** The book's check: the mean of |a − b| over all elements. */
export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** Correct predictions counted one row at a time: the independent check of a chunked accuracy. */
export function countCorrectRowByRow(net: { predict(x: Tensor): Tensor }, x: Tensor, labels: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const scores = Array.from(net.predict(gatherRows(x, Int32Array.of(i))).data);
    if (scores.indexOf(Math.max(...scores)) === labels[i]) correct++;
  }
  return correct;
}

/** A maker of temporary directories named `prefix…`, all removed when the calling test file's tests end. */
export function tempDirs(prefix: string): () => string {
  const made: string[] = [];
  after(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}

/**
 * Runs `code`, an ES module importing from src/ (paths relative to the repository's root), in a
 * process of its own under tsx; returns how it ended and what it printed.
 */
export function runModule(code: string): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const root = fileURLToPath(new URL('..', import.meta.url));
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
}
