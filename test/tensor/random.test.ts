import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Random } from '../../src/random.js';

describe('Random', () => {
  it('the same seed gives the same numbers; another seed gives others', () => {
    const a = new Random(42);
    const b = new Random(42);
    const c = new Random(43);
    const sa = Array.from({ length: 100 }, () => a.next());
    assert.deepEqual(sa, Array.from({ length: 100 }, () => b.next()));
    assert.notDeepEqual(sa, Array.from({ length: 100 }, () => c.next()));
  });

  it('uniform in [0, 1) and normal with mean 0, std 1 (100,000 draws)', () => {
    const r = new Random(1);
    let s = 0;
    let s2 = 0;
    let min = 1;
    let max = 0;
    const n = 100000;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      min = Math.min(min, u);
      max = Math.max(max, u);
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    assert.ok(min >= 0 && max < 1 && min < 1e-3 && max > 0.999);
    assert.ok(Math.abs(s / n) < 0.015, `mean ${s / n}`);
    assert.ok(Math.abs(Math.sqrt(s2 / n) - 1) < 0.015, `std ${Math.sqrt(s2 / n)}`);
  });

  it('int(n) covers 0..n−1 evenly; choice draws with replacement; permutation is a permutation', () => {
    const r = new Random(2);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 50000; i++) counts[r.int(10)]++;
    for (const c of counts) assert.ok(Math.abs(c - 5000) < 300, `counts ${counts}`);
    const ch = r.choice(5, 1000);
    assert.ok(ch.every((v) => v >= 0 && v < 5));
    assert.ok(new Set(ch).size === 5);
    const p = r.permutation(1000);
    assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
    assert.throws(() => r.int(0), /Random.int: n must be a whole number/);
  });

  it('choice(n, size) draws what size calls of int(n) draw (rejections included), and checks n as int does', () => {
    for (const n of [1, 3, 7, 1000, 2 ** 31 + 1, 2 ** 32]) {
      const a = new Random(5), b = new Random(5);
      const expected = Int32Array.from({ length: 200 }, () => a.int(n)); // as an Int32Array stores them (n > 2^31 wraps)
      assert.deepEqual(b.choice(n, 200), expected, `n = ${n}`);
      assert.equal(b.nextUint32(), a.nextUint32(), `n = ${n}: the stream goes on alike`);
    }
    assert.throws(() => new Random(1).choice(0, 3), /Random.int: n must be a whole number/);
    assert.throws(() => new Random(1).choice(2.5, 3), /Random.int: n must be a whole number/);
    assert.equal(new Random(1).choice(0, 0).length, 0);
  });

  it('getState(into) writes the state getState returns into the given object', () => {
    const r = new Random(4);
    r.normal();
    const into = { s: [9, 9, 9, 9], spare: null as number | null };
    const same = r.getState(into);
    assert.equal(same, into);
    assert.deepEqual(into, r.getState());
    const short = { s: [] as number[], spare: 1 };
    assert.deepEqual(r.getState(short), r.getState());
  });

  it('getState/setState resumes the same stream, normal spare included', () => {
    const r = new Random(3);
    r.normal();
    const state = r.getState();
    const rest = Array.from({ length: 5 }, () => r.normal());
    const q = new Random(99);
    q.setState(JSON.parse(JSON.stringify(state)));
    assert.deepEqual(Array.from({ length: 5 }, () => q.normal()), rest);
  });
});
