/**
 * Shared machinery of the property-based tests (test/<module>/*.property.test.ts), which feed
 * every parser of outside input with generated files and command lines (fast-check).
 *
 * - BACKPROP_FC_SEED: the seed (default 20261201, so `npm test` is reproducible). A failure
 *   prints the seed and fast-check's path; rerun with BACKPROP_FC_SEED=<seed> to replay it.
 * - BACKPROP_FC_RUNS: multiplies every property's number of cases (default 1), for long runs:
 *   BACKPROP_FC_RUNS=50 node --import tsx --test test/data/idx.property.test.ts
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';

const seedText = process.env.BACKPROP_FC_SEED;
/** The seed of every property in this run. */
export const FC_SEED = seedText === undefined || seedText === '' ? 20261201 : Number(seedText);
if (!Number.isSafeInteger(FC_SEED)) throw new Error(`BACKPROP_FC_SEED must be a whole number, got '${seedText}'`);
const runsText = process.env.BACKPROP_FC_RUNS;
const RUNS_FACTOR = runsText === undefined || runsText === '' ? 1 : Number(runsText);
if (!(RUNS_FACTOR > 0)) throw new Error(`BACKPROP_FC_RUNS must be a number > 0, got '${runsText}'`);

/** Cases run by each property, and the time they took, for the long-run report. */
const tally: { name: string; runs: number; ms: number }[] = [];
process.on('exit', () => {
  if (tally.length === 0) return;
  const total = tally.reduce((n, t) => n + t.runs, 0);
  const ms = tally.reduce((n, t) => n + t.ms, 0);
  console.log(`fast-check seed ${FC_SEED}: ${total} cases in ${(ms / 1000).toFixed(1)} s (${tally.map((t) => `${t.name} ${t.runs}`).join(', ')})`);
});

/**
 * Runs `property` for `runs` × BACKPROP_FC_RUNS cases with the run's seed. On failure the
 * error names the property, the seed and fast-check's replay path, and the shrunk input.
 */
export function check<Ts extends [unknown, ...unknown[]]>(name: string, runs: number, property: fc.IProperty<Ts>): void {
  const numRuns = Math.max(1, Math.round(runs * RUNS_FACTOR));
  const start = performance.now();
  const result = fc.check(property, { seed: FC_SEED, numRuns, endOnFailure: false });
  tally.push({ name, runs: result.numRuns, ms: performance.now() - start });
  if (result.failed) report(name, result);
}

/** Async form of {@link check}, for properties that await (the CLI). */
export async function checkAsync<Ts extends [unknown, ...unknown[]]>(name: string, runs: number, property: fc.IAsyncProperty<Ts>): Promise<void> {
  const numRuns = Math.max(1, Math.round(runs * RUNS_FACTOR));
  const start = performance.now();
  const result = await fc.check(property, { seed: FC_SEED, numRuns });
  tally.push({ name, runs: result.numRuns, ms: performance.now() - start });
  if (result.failed) report(name, result);
}

/** Fails with the property's error, the shrunk input (cut short) and how to replay it. */
function report<Ts>(name: string, result: fc.RunDetails<Ts>): never {
  const input = fc.stringify(result.counterexample);
  const cause = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
  assert.fail(
    `${name}: failed after ${result.numRuns} cases (shrunk ${result.numShrinks} times): ${cause}\n` +
      `input: ${input.length > 3000 ? `${input.slice(0, 3000)}… (${input.length} characters)` : input}\n` +
      `replay: BACKPROP_FC_SEED=${FC_SEED} (fast-check seed ${result.seed}, path "${result.counterexamplePath}")`,
  );
}

/** What a call allocated, as seen two ways. */
export interface Allocation<T> {
  /** The call's result, if it returned. */
  result?: T;
  /** What it threw, if it threw. */
  error?: unknown;
  /**
   * Bytes asked of every `new ArrayBuffer(n)` and `new <TypedArray>(n | arrayLike)` made in JS
   * during the call (by our code and by libraries such as fast-png), including requests that
   * failed: a parser that tries to allocate 10 GB from a 100-byte header shows up here.
   */
  requested: number;
  /** Growth of `process.memoryUsage().arrayBuffers`: native allocations (zlib, Buffer) still held. */
  grown: number;
}

const TYPED_ARRAYS = [
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
] as const;

/**
 * Calls `fn` with every global typed-array constructor (and ArrayBuffer) wrapped to count the
 * bytes requested, and measures native array-buffer growth around it. The wrappers are
 * removed before returning, whatever `fn` does.
 */
export function measureAllocations<T>(fn: () => T): Allocation<T> {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = new Map<string, unknown>();
  let requested = 0;
  const wrap = (name: string, bytesPer: (args: unknown[]) => number): void => {
    const original = g[name] as new (...args: unknown[]) => object;
    saved.set(name, original);
    g[name] = new Proxy(original, {
      construct(target, args, newTarget) {
        requested += bytesPer(args);
        return Reflect.construct(target, args, newTarget === g[name] ? target : newTarget);
      },
    });
  };
  const lengthOf = (x: unknown): number => {
    if (typeof x === 'number') return x;
    if (typeof x === 'bigint') return Number(x);
    if (x instanceof (saved.get('ArrayBuffer') as ArrayBufferConstructor) || x instanceof SharedArrayBuffer) return 0; // a view
    const n = (x as { length?: unknown } | null)?.length;
    return typeof n === 'number' ? n : 0;
  };
  wrap('ArrayBuffer', (args) => (typeof args[0] === 'number' ? args[0] : 0));
  for (const name of TYPED_ARRAYS) {
    const size = (g[name] as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    wrap(name, (args) => lengthOf(args[0]) * size);
  }
  const before = process.memoryUsage().arrayBuffers;
  try {
    return { result: fn(), requested, grown: process.memoryUsage().arrayBuffers - before };
  } catch (error) {
    return { error, requested, grown: process.memoryUsage().arrayBuffers - before };
  } finally {
    for (const [name, original] of saved) g[name] = original;
  }
}

/** Asserts that a call allocated at most `limit` bytes, either way of counting. */
export function assertAllocatedAtMost(a: Allocation<unknown>, limit: number, what: string): void {
  assert.ok(a.requested <= limit, `${what}: asked for ${a.requested} bytes of typed arrays (limit ${limit})`);
  assert.ok(a.grown <= limit, `${what}: array buffers grew by ${a.grown} bytes (limit ${limit})`);
}

/**
 * Placeholders for arrays nested `depth` deep, too deep for JSON.stringify (which overflows the
 * stack at ~10,000): put one in a value, stringify it, then {@link expandDeep} the text.
 */
export const deepArb: fc.Arbitrary<string> = fc.integer({ min: 1000, max: 30000 }).map((depth) => `\u0001deep:${depth}`);

/** JSON text with every {@link deepArb} placeholder replaced by its nested arrays. */
export function expandDeep(json: string): string {
  return json.replace(/"\\u0001deep:(\d+)"/g, (_, depth: string) => '['.repeat(Number(depth)) + ']'.repeat(Number(depth)));
}

/** `arb` in one case of `1 + nulls`, null in the others. */
export function sometimes<T>(arb: fc.Arbitrary<T>, nulls = 3): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: nulls, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
}

/**
 * A byte-level mutation of a valid file, as the property tests break files: cut it short,
 * flip or set a byte, insert, delete or append bytes. `at` is a fraction of the file's
 * length, so one mutation applies to a file of any size.
 */
export interface Mutation {
  kind: 'truncate' | 'flip' | 'set' | 'insert' | 'delete' | 'append';
  at: number;
  xor: number;
  value: number;
  bytes: Uint8Array;
  count: number;
}

/** Positions are fractions of the file's length, so one mutation applies to any file. */
const fraction = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

/** Arbitrary mutations, applied with {@link applyMutation}. */
export const mutationArb: fc.Arbitrary<Mutation> =
  fc.record({
    kind: fc.constantFrom<Mutation['kind']>('truncate', 'flip', 'flip', 'set', 'insert', 'delete', 'append'),
    at: fraction,
    xor: fc.integer({ min: 1, max: 255 }),
    value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x20, 0x22, 0x2c, 0x5b, 0x7b),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    count: fc.integer({ min: 1, max: 16 }),
  });

/** The file with one mutation applied (a fresh copy; the input is not modified). */
export function applyMutation(file: Uint8Array, m: Mutation): Uint8Array {
  const at = Math.floor(m.at * file.length);
  switch (m.kind) {
    case 'truncate':
      return file.slice(0, at);
    case 'flip': {
      const out = file.slice();
      if (out.length) out[at] ^= m.xor;
      return out;
    }
    case 'set': {
      const out = file.slice();
      if (out.length) out[at] = m.value;
      return out;
    }
    case 'insert':
      return concat(file.subarray(0, at), m.bytes, file.subarray(at));
    case 'delete':
      return concat(file.subarray(0, at), file.subarray(at + m.count));
    case 'append':
      return concat(file, m.bytes);
  }
}

/** The byte arrays joined into one. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
