/**
 * The seeded random generator every random choice goes through (initial weights,
 * mini-batches, splits, dropout masks): the same seed gives the same numbers, run after run,
 * in Node and in the browser.
 *
 * Algorithm: xoshiro128** (Blackman and Vigna), seeded through splitmix32; normal deviates by
 * the Box–Muller transform.
 *
 * @example
 * const rng = new Random(42);
 * rng.next();    // uniform in [0, 1)
 * rng.normal();  // standard normal
 * rng.int(10);   // 0..9
 */
export class Random {
  private s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed = 0) {
    if (!Number.isFinite(seed)) throw new RangeError(`Random: seed must be a finite number, got ${seed}`);
    // splitmix32 spreads the seed over the 128-bit state, so nearby seeds give unrelated streams.
    let x = (Math.floor(seed) ^ Math.floor(seed / 2 ** 32)) >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform integer in 0..n−1, without modulo bias. */
  int(n: number): number {
    return this.below(n, rejectionLimit(n));
  }

  /** int(n), given its rejectionLimit: r is drawn again while r ≥ limit. */
  private below(n: number, limit: number): number {
    let r: number;
    do r = this.nextUint32(); while (r >= limit);
    return r % n;
  }

  /** A standard normal deviate (mean 0, std 1). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u: number;
    do u = this.next(); while (u === 0);
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** `size` indices drawn from 0..n−1 with replacement (NumPy's `random.choice(n, size)`). */
  choice(n: number, size: number, out?: Int32Array): Int32Array {
    const o = out && out.length === size ? out : new Int32Array(size);
    if (size === 0) return o;
    const limit = rejectionLimit(n); // int(n)'s, once for all the indices
    for (let i = 0; i < size; i++) o[i] = this.below(n, limit);
    return o;
  }

  /** A random permutation of 0..n−1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /**
   * The whole state, to save with a model and resume the same stream later; written into `into`
   * (its `s` reused when it holds four words) instead of a new object when given.
   */
  getState(into?: RandomState): RandomState {
    if (into === undefined) return { s: [...this.s], spare: this.spare };
    if (into.s.length !== 4) into.s = [0, 0, 0, 0];
    for (let i = 0; i < 4; i++) into.s[i] = this.s[i];
    into.spare = this.spare;
    return into;
  }

  /** Continue from a state returned by getState. */
  setState(state: RandomState): void {
    if (!Array.isArray(state.s) || state.s.length !== 4 || state.s.every((v) => v === 0)) {
      throw new RangeError('Random.setState: state.s must be four 32-bit words, not all zero');
    }
    this.s.set(state.s);
    this.spare = state.spare;
  }
}

/** A serialisable snapshot of a Random. */
export interface RandomState {
  /** The four 32-bit words of the xoshiro128** state. */
  s: number[];
  /** The second normal value of the last Box–Muller pair, if not yet used. */
  spare: number | null;
}

/** 2^32 − (2^32 mod n): the uint32 draws below it map onto 0..n−1 evenly by r mod n. n is checked. */
function rejectionLimit(n: number): number {
  if (!(Number.isInteger(n) && n > 0 && n <= 2 ** 32)) throw new RangeError(`Random.int: n must be a whole number in 1..2^32, got ${n}`);
  return 2 ** 32 - (2 ** 32 % n);
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
