/**
 * Behaviour of the WebAssembly backend beyond the shared kernel suite (kernels.test.ts):
 * storage in the wasm memory, the zero-copy and copy paths, freeing, and threads.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FloatArray } from '../../src/kernels/Backend.js';
import { JsBackend } from '../../src/kernels/reference/JsBackend.js';
import { Heap, type ReclaimPolicy } from '../../src/kernels/wasm/Heap.js';
import { Tensor } from '../../src/tensor/Tensor.js';
import { readWasmFile } from '../../src/kernels/wasm/loader.js';
import { createWasmBackend, wasmSimdSupported, WasmNotBuiltError, WasmWorkerError, type WasmBackend } from '../../src/kernels/wasm/index.js';
import { Random } from '../../src/random.js';
import { runModule } from '../helpers.js';

const rng = new Random(11);
const js = new JsBackend();

function randomArray(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** A Float32Array of the backend's own, holding `values` (re-read .data after later allocations). */
function resident(backend: WasmBackend, values: Float32Array) {
  const s = backend.alloc(values.length, 'float32');
  s.data.set(values);
  return s;
}

/** The garbage collector, exposed at run time when node was not started with --expose-gc. */
function getGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function collect(): Promise<void> {
  const gc = getGc();
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r)); // FinalizationRegistry callbacks run as tasks
  }
}

it('WebAssembly SIMD is detected on this Node', () => {
  assert.equal(wasmSimdSupported(), true);
});

it('a missing kernel module asks for `npm run build:wasm`', async () => {
  await assert.rejects(readWasmFile(new URL('./no-such-dir/kernels.wasm', import.meta.url)), (e: Error) => {
    assert.ok(e instanceof WasmNotBuiltError);
    assert.match(e.message, /kernels\.wasm is missing; run `npm run build:wasm`/);
    return true;
  });
});

describe('Heap (the allocator over the wasm memory)', () => {
  const newHeap = () => new Heap(new WebAssembly.Memory({ initial: 1, maximum: 100 }), 100, 100);

  it('hands out 64-byte aligned, zeroed, non-overlapping blocks', () => {
    const heap = newHeap();
    const a = heap.alloc(10);
    const b = heap.alloc(100);
    assert.equal(a % 64, 0);
    assert.equal(b % 64, 0);
    assert.ok(a >= 100);
    assert.ok(b >= a + 64);
    new Uint8Array(heap.buffer, a, 64).fill(7);
    heap.release(a);
    const c = heap.alloc(64); // reuses a's block, zeroed again
    assert.equal(c, a);
    assert.deepEqual([...new Uint8Array(heap.buffer, c, 64)], new Array(64).fill(0));
  });

  it('zeroes a block that reaches back into memory handed out before, past the top it went back to', () => {
    const heap = newHeap();
    const a = heap.alloc(1000);
    new Uint8Array(heap.buffer, a, 1024).fill(7);
    heap.release(a); // the topmost block: back to the untouched region, its bytes still 7
    const b = heap.alloc(3000); // starts where a did and goes on into memory never handed out
    assert.equal(b, a);
    assert.ok(new Uint8Array(heap.buffer, b, 3008).every((v) => v === 0));
    new Uint8Array(heap.buffer, b, 3008).fill(9);
    heap.release(b);
    assert.ok(new Uint8Array(heap.buffer, heap.alloc(64), 64).every((v) => v === 0));
    assert.ok(new Uint8Array(heap.buffer, heap.alloc(4000), 4032).every((v) => v === 0), 'a block partly over the 9s and partly beyond them');
  });

  it('reuses freed blocks of the same size, coalesces neighbours and rejects double frees', () => {
    const heap = newHeap();
    const blocks = Array.from({ length: 6 }, () => heap.alloc(1000));
    const keep = heap.alloc(64); // stops the freed run from merging into the top
    heap.alloc(heap.byteLength - (keep + 64)); // fills the memory: the next miss must look at the free lists
    for (const p of blocks) heap.release(p);
    assert.equal(heap.alloc(1000), blocks[5]); // exact-size free list
    heap.release(blocks[5]);
    assert.throws(() => heap.release(blocks[5]), /freed twice/);
    // A block bigger than any single freed one fits into the coalesced run before the memory grows.
    const bytes = heap.byteLength;
    const big = heap.alloc(5000);
    assert.equal(big, blocks[0]);
    assert.equal(heap.byteLength, bytes);
    assert.ok(heap.sizeOf(keep));
  });

  it('grows the memory when full and counts generations', () => {
    const heap = newHeap();
    const gen = heap.generation;
    const p = heap.alloc(200_000); // more than the initial 64 KiB page
    assert.ok(heap.byteLength >= p + 200_000);
    assert.ok(heap.generation > gen);
    assert.throws(() => heap.alloc(100 * 65536), /out of memory/);
  });

  /** A heap of at most `pages` 64 KiB pages whose reclaim hook releases the blocks the test has dropped, taking `costMs`. */
  const reclaiming = (pages: number, policy: ReclaimPolicy, costMs = 0) => {
    const heap = new Heap(new WebAssembly.Memory({ initial: 1, maximum: pages }), 100, pages, policy);
    const dropped: number[] = [];
    heap.reclaim = () => {
      const end = performance.now() + costMs;
      while (performance.now() < end); // a collection that takes costMs
      for (const p of dropped.splice(0)) heap.release(p);
    };
    return { heap, dropped };
  };

  it('reclaims dropped blocks before growing, once its budget has been handed out since the last time', () => {
    const { heap, dropped } = reclaiming(1000, { timeShare: 0.01, minBytes: 1 << 20, maxBytes: 4 << 20 });
    const kept = heap.alloc(1000);
    for (let i = 0; i < 500; i++) dropped.push(heap.alloc(100_000)); // 50 MB handed out, all dropped
    assert.ok(heap.reclaims >= 5, `${heap.reclaims} reclaims`);
    assert.ok(heap.reclaimBytes >= 1 << 20 && heap.reclaimBytes <= 4 << 20, `budget ${heap.reclaimBytes}`);
    assert.ok(heap.byteLength < 8 << 20, `memory ${heap.byteLength} bytes`);
    assert.equal(heap.sizeOf(kept), 1024);
  });

  it('a costly reclaim raises the budget, up to its maximum (memory stays bounded whatever a collection costs)', () => {
    const max = 3 << 20;
    const { heap, dropped } = reclaiming(1000, { timeShare: 0.01, minBytes: 1 << 20, maxBytes: max }, 20);
    for (let i = 0; i < 200; i++) dropped.push(heap.alloc(100_000));
    assert.ok(heap.reclaims >= 2, `${heap.reclaims} reclaims`);
    // 20 ms per reclaim at 1% of the time wants ~2 s of allocation between reclaims: far more than max
    assert.equal(heap.reclaimBytes, max);
    assert.ok(heap.byteLength < 2 * max, `memory ${heap.byteLength} bytes`);
  });

  it('at the memory\'s limit it reclaims whatever its budget, rather than running out of memory', () => {
    // 100 pages (6.4 MB) and a budget never reached: only the limit makes it reclaim
    const { heap, dropped } = reclaiming(100, { timeShare: 0.01, minBytes: 1 << 30, maxBytes: 1 << 30 });
    for (let i = 0; i < 50; i++) dropped.push(heap.alloc(1 << 20));
    assert.ok(heap.reclaims > 0);
    // with nothing dropped, the limit is the limit
    dropped.length = 0;
    assert.throws(() => {
      for (let i = 0; i < 10; i++) heap.alloc(1 << 20);
    }, /out of memory/);
  });
});

for (const threads of [1, 2]) {
  describe(`wasm backend storage (${threads} thread${threads > 1 ? 's' : ''})`, () => {
    let backend: WasmBackend;
    before(async () => {
      backend = await createWasmBackend({ threads });
    });

    it('names itself wasm and reports its threads', () => {
      assert.equal(backend.name, 'wasm');
      assert.equal(backend.threads, threads);
    });

    it('storage views survive memory growth', () => {
      const first = backend.alloc(1000, 'float32');
      const f64 = backend.alloc(333, 'float64');
      first.data.forEach((_, i, a) => (a[i] = i * 0.5));
      f64.data.forEach((_, i, a) => (a[i] = -i / 3));
      const oldView = first.data;
      const bytes = backend.heap.byteLength;
      const hold = [];
      while (backend.heap.byteLength === bytes) hold.push(backend.alloc(100_000, 'float32'));
      // the memory grew: the storage hands out a fresh view with the same contents
      assert.notEqual(first.data, oldView);
      assert.equal(first.data.buffer, backend.heap.buffer);
      assert.deepEqual([...first.data.subarray(0, 5)], [0, 0.5, 1, 1.5, 2]);
      assert.equal(first.data[999], 499.5);
      assert.equal(f64.data[332], -332 / 3);
      if (threads === 1) assert.equal(oldView.length, 0); // a plain memory detaches old views
      assert.ok(hold.length > 0);
    });

    it('kernels on arrays inside the wasm memory run in place (zero copy)', () => {
      const [m, k, n] = [37, 53, 29];
      const a = randomArray(m * k);
      const b = randomArray(k * n);
      const sa = resident(backend, a);
      const sb = resident(backend, b);
      const sc = backend.alloc(m * n, 'float32');
      const expected = new Float32Array(m * n);
      js.matmul(a, b, expected, m, k, n, false, false, false);
      backend.matmul(sa.data, sb.data, sc.data, m, k, n, false, false, false);
      closeTo(sc.data, expected, 1e-5);
      // Element-wise kernels on resident arrays need no scratch at all.
      const scratch = (backend as unknown as { scratchBytes: number }).scratchBytes;
      const x = resident(backend, randomArray(1000));
      const before = Float32Array.from(x.data);
      backend.relu(x.data, x.data); // in place
      assert.deepEqual([...x.data], [...before].map((v) => (v > 0 ? v : 0)));
      backend.axpy(2, x.data, x.data); // x += 2·x
      closeTo(x.data, before.map((v) => (v > 0 ? 3 * v : 0)), 1e-6);
      assert.equal((backend as unknown as { scratchBytes: number }).scratchBytes, scratch);
    });

    it('plain arrays (copy path), resident arrays and a mix give identical results', () => {
      const [m, k, n] = [50, 784, 10];
      const a = randomArray(m * k);
      const b = randomArray(k * n);
      const plain = new Float32Array(m * n);
      backend.matmul(a, b, plain, m, k, n, false, false, false);
      const sa = resident(backend, a);
      const sb = resident(backend, b);
      const sc = backend.alloc(m * n, 'float32');
      backend.matmul(sa.data, sb.data, sc.data, m, k, n, false, false, false);
      assert.deepEqual(sc.data, plain);
      const mixed = new Float32Array(m * n);
      backend.matmul(sa.data, b, mixed, m, k, n, false, false, false);
      assert.deepEqual(mixed, plain);
      // accumulate reads the plain C back in
      backend.matmul(a, sb.data, mixed, m, k, n, false, false, true);
      closeTo(mixed, plain.map((v) => 2 * v), 1e-6);
      // outputs outside the memory, other kernels
      const y = new Float32Array(m * n);
      backend.softmax(sc.data, y, m, n);
      const yRef = new Float32Array(m * n);
      js.softmax(plain, yRef, m, n);
      closeTo(y, yRef, 1e-6);
    });

    it('a call that grows the memory still reads resident arguments correctly', async () => {
      const fresh = await createWasmBackend({ threads });
      const [m, k, n] = [300, 200, 700];
      const a = randomArray(m * k);
      const b = randomArray(k * n);
      const sa = resident(fresh, a);
      const sb = resident(fresh, b);
      const bytes = fresh.heap.byteLength;
      const c = new Float32Array(m * n); // copying C in needs scratch: the memory grows mid-call
      fresh.matmul(sa.data, sb.data, c, m, k, n, false, false, false);
      assert.ok(fresh.heap.byteLength > bytes);
      const expected = new Float32Array(m * n);
      js.matmul(a, b, expected, m, k, n, false, false, false);
      closeTo(c, expected, 1e-4);
      await fresh.close();
    });

    it('rejects arrays too short for the sizes given', () => {
      assert.throws(() => backend.matmul(new Float32Array(5), new Float32Array(6), new Float32Array(6), 2, 3, 2, false, false, false), /A has 5 elements but 6/);
      assert.throws(() => backend.crossEntropyLabels(new Float32Array(6), Int32Array.from([0, 3]), 2, 3), /label 3 at row 1/);
    });

    it('frees storage when it is garbage-collected, but not while a view of it lives', async () => {
      const heap = backend.heap;
      let ptr = -1;
      let keptPtr = -1;
      let keptView: FloatArray | null = null;
      (() => {
        const s = backend.alloc(4096, 'float32') as unknown as { ptr: number };
        ptr = s.ptr;
        const t = backend.alloc(4096, 'float32');
        keptPtr = (t as unknown as { ptr: number }).ptr;
        keptView = t.data;
      })();
      assert.ok(heap.sizeOf(ptr));
      await collect();
      assert.equal(heap.sizeOf(ptr), undefined, 'the dropped storage was freed');
      assert.ok(heap.sizeOf(keptPtr), 'a storage whose view is still referenced stays allocated');
      keptView![0] = 1;
      keptView = null;
      await collect();
      assert.equal(heap.sizeOf(keptPtr), undefined);
    });

    it('tensors, views and row views held across many reclaims keep their contents', () => {
      // a small budget: a reclaim (full collection) every few dozen of these allocations
      const heap = backend.heap;
      const policy = heap.policy;
      heap.policy = { timeShare: 0.01, minBytes: 1 << 20, maxBytes: 2 << 20 };
      // room to reclaim in without growing, so that the kept plain views stay attached (growth detaches them on 1 thread)
      backend.free(backend.alloc(16 << 18, 'float32'));
      const reclaims = heap.reclaims;
      const bytes = heap.byteLength;
      const generation = heap.generation;
      try {
        const n = 10_000; // 40 KB a tensor
        const tensors: [number, Tensor][] = [];
        const views: [number, FloatArray][] = [];
        const rowViews: [number, FloatArray][] = [];
        for (let step = 1; step <= 3000; step++) {
          const t = Tensor.empty([100, n / 100], { backend }); // uninitialized: maybe a reused block
          t.data.fill(step);
          if (step % 50 === 0) tensors.push([step, t]);
          else if (step % 50 === 10) views.push([step, t.data]); // only the view is kept
          else if (step % 50 === 20) rowViews.push([step, t.rows(10, 20).data]); // only a view of some rows
        }
        assert.equal(heap.generation, generation, 'the memory grew: the kept views were detached, nothing to check');
        const blocks = new Set<number>();
        for (const [step, t] of tensors) {
          assert.ok(t.data.every((v) => v === step), `tensor of step ${step} was overwritten`);
          blocks.add((t.storage as unknown as { ptr: number }).ptr);
        }
        for (const [step, v] of views) assert.ok(v.every((x) => x === step), `view of step ${step} was overwritten`);
        for (const [step, v] of rowViews) assert.ok(v.length === 1000 && v.every((x) => x === step), `row view of step ${step} was overwritten`);
        assert.equal(blocks.size, tensors.length);
        assert.ok(heap.reclaims - reclaims >= 5, `${heap.reclaims - reclaims} reclaims`);
        // the dropped ones came back: 3000 × 40 KB were handed out
        assert.ok(heap.byteLength - bytes < (3000 * 40_000) / 4, `memory grew from ${bytes} to ${heap.byteLength} bytes`);
      } finally {
        heap.policy = policy;
      }
    });

    it('free() releases a storage at once', () => {
      const s = backend.alloc(100, 'float32');
      const ptr = (s as unknown as { ptr: number }).ptr;
      backend.free(s);
      assert.equal(backend.heap.sizeOf(ptr), undefined);
      assert.throws(() => s.data, /freed/);
      backend.free(s); // twice is harmless
    });
  });
}

describe('wasm backend: the vector exp\'s table (assembly/exp.ts)', () => {
  it('T[i] + (i << 47) is 2^(i/32) rounded to the nearest double, for i = 0..31', () => {
    // the table as written in the source (the module does not export it)
    const source = readFileSync(new URL('../../src/kernels/wasm/assembly/exp.ts', import.meta.url), 'utf8');
    const body = /const TABLE = memory\.data<u64>\(\[([^\]]*)\]\)/.exec(source);
    assert.ok(body, 'exp.ts: no TABLE = memory.data<u64>([...])');
    const table = body[1].match(/0x[0-9A-Fa-f]{16}/g)!.map((h) => BigInt(h));
    assert.equal(table.length, 32);
    table.forEach((t, i) => {
      const bits = t + (BigInt(i) << 47n);
      assert.equal(bits >> 52n, 0x3ffn, `T[${i}]: 2^(${i}/32) is in [1, 2)`);
      const m = (bits & ((1n << 52n) - 1n)) | (1n << 52n); // the double is m · 2^−52
      // nearest: (m − ½)·2^−52 ≤ 2^(i/32) ≤ (m + ½)·2^−52, raised to the 32nd power
      const target = 1n << BigInt(i + 53 * 32);
      assert.ok((2n * m - 1n) ** 32n <= target && target <= (2n * m + 1n) ** 32n, `T[${i}] = 0x${t.toString(16)} is not 2^(${i}/32) rounded`);
    });
  });
});

describe('wasm backend: dropped tensors at exit', () => {
  it('a process whose last garbage collection finds dropped tensors exits normally (no "illegal access" abort)', () => {
    // A full collection in an 'exit' handler, with dropped tensors to find: Node 20 then runs the
    // registry's cleanup task where JavaScript may no longer run, which aborted the process when
    // the registry belonged to another (vm) context (collector.node.ts).
    const code = `
      import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
      import { runInNewContext } from 'node:vm';
      import { createWasmBackend } from './src/kernels/wasm/index.ts';
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc');
      const backend = await createWasmBackend({ threads: 1 });
      const drop = () => { for (let i = 0; i < 1000; i++) backend.alloc(1000, 'float32'); };
      process.on('exit', () => { drop(); gc(); console.log('exit handler done'); });`;
    const r = runModule(code);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'exit handler done\n');
    assert.equal(r.signal, null);
    assert.equal(r.status, 0);
  });
});

describe('wasm backend: the product with A\'s zeros skipped (sparseA)', () => {
  /** The zero-skipping kernel's runs (backend.sparseProducts), as `calls.n`. */
  const counted = (backend: WasmBackend) => ({
    get n() {
      return backend.sparseProducts;
    },
  });
  /** An m×k image-like A: each row non-zero only in `band` of its k columns. */
  const images = (m: number, k: number, band: number) => {
    const a = new Float32Array(m * k);
    for (let i = 0; i < m; i++) for (let p = Math.floor(k / 2 - band / 2); p < k / 2 + band / 2; p++) a[i * k + p] = rng.next() < 0.7 ? rng.next() : 0;
    return a;
  };

  for (const threads of [1, 2]) {
    it(`${threads} thread${threads > 1 ? 's' : ''}: runs where A is sparse, with the blocked product's numbers bit for bit; not where A is dense or B holds an Inf`, async () => {
      const backend = await createWasmBackend({ threads, threadThreshold: 0, threadBackOff: false });
      const calls = counted(backend);
      // B's last panel of 16, 8 or 4 columns before any dot-product columns; 101 and 600 rows
      for (const [m, k, n] of [[101, 784, 50], [600, 784, 50], [101, 300, 40], [600, 240, 20]]) {
        const b = randomArray(k * n), bias = randomArray(n);
        for (const [a, sparseRuns] of [[images(m, k, Math.min(150, k / 3)), true], [randomArray(m * k), false]] as const) {
          const plain = new Float32Array(m * n), skipped = new Float32Array(m * n);
          backend.matmulFused(a, b, plain, m, k, n, false, false, { bias, relu: true });
          const before = calls.n;
          backend.matmulFused(a, b, skipped, m, k, n, false, false, { bias, relu: true, sparseA: true });
          assert.equal(calls.n - before, sparseRuns ? 1 : 0, sparseRuns ? 'the zero-skipping kernel ran' : 'dense A: the blocked product');
          assert.deepEqual(new Uint32Array(skipped.buffer), new Uint32Array(plain.buffer));
          // and the same from the backend's own storage (no copies)
          const [ra, rb, rc] = [resident(backend, a), resident(backend, b), backend.alloc(m * n, 'float32')];
          backend.matmulFused(ra.data, rb.data, rc.data, m, k, n, false, false, { sparseA: true });
          const ref = new Float32Array(m * n);
          backend.matmulFused(a, b, ref, m, k, n, false, false, {});
          assert.deepEqual(rc.data, ref);
        }
      }
      // B with an Inf: the kernel refuses (0 · Inf is NaN in the blocked product) and the blocked product runs
      const [m, k, n] = [101, 784, 50];
      const b = randomArray(k * n);
      const a = images(m, k, 150);
      // in the first panel, and in the last row's column 47 (the last packed panel, packed by the
      // last pack chunk on 2 threads); columns 48 and 49 are dot products over every p (as the
      // blocked product's), which skip no term: a NaN there changes nothing, and the kernel runs
      for (const [at, refused] of [[3, true], [(k - 1) * n + 47, true], [k * n - 1, false]] as const) {
        const bad = b.slice();
        bad[at] = at === 3 ? Infinity : NaN;
        const plain = new Float32Array(m * n), skipped = new Float32Array(m * n);
        backend.matmulFused(a, bad, plain, m, k, n, false, false, {});
        const before = calls.n;
        backend.matmulFused(a, bad, skipped, m, k, n, false, false, { sparseA: true });
        assert.equal(calls.n, refused ? before : before + 1, `B[${at}] not finite: ${refused ? 'the blocked product ran' : 'the zero-skipping product ran'}`);
        assert.ok(plain.some(Number.isNaN), 'the blocked product gives NaN for 0 · Inf');
        assert.deepEqual(new Uint32Array(skipped.buffer), new Uint32Array(plain.buffer));
      }
      await backend.close();
    });
  }
});

describe('wasm backend: the zero-skipping product pairs rows alike (sparseOrder)', () => {
  /** sparseOrder's key written out: bit 63 − j set where one of A[i, jw .. jw + 4) is not ±0 (w = 16·⌈k / 1024⌉). */
  const key = (a: Float32Array, k: number, i: number): bigint => {
    const w = 16 * Math.ceil(k / 1024);
    let bits = 0n;
    for (let j = 0; j * w < k; j++) {
      for (let p = j * w; p < Math.min(k, j * w + 4); p++) if (a[i * k + p] !== 0) bits |= 1n << BigInt(63 - j);
    }
    return bits;
  };

  it('sparseOrder sorts a range of rows by where their non-zeros lie, rows of equal keys in order', async () => {
    const backend = await createWasmBackend({ threads: 1 });
    const { sparseOrder, sparseListBytes } = backend.kernels;
    // k: one block of 3 columns, a last block of 2, 49 blocks of 16 (28×28 images), 33 of 32
    for (const [m, k, i0, i1] of [[5, 3, 0, 5], [40, 18, 3, 37], [300, 784, 0, 256], [300, 784, 257, 300], [20, 1030, 0, 20], [1, 784, 0, 1]]) {
      const a = sampledValues(m * k, 0.6, false);
      // a few rows alike, so that equal keys occur
      for (let i = 0; i + 3 < m; i += 7) a.copyWithin((i + 3) * k, i * k, (i + 1) * k);
      const ra = resident(backend, a);
      const scratch = backend.alloc(sparseListBytes(k) / 4, 'float32');
      sparseOrder(ra.data.byteOffset, k, k, i0, i1, scratch.data.byteOffset);
      const order = Array.from(new Int32Array(scratch.data.buffer, scratch.data.byteOffset, i1 - i0));
      const expected = Array.from({ length: i1 - i0 }, (_, r) => i0 + r).sort((x, y) => {
        const [kx, ky] = [key(a, k, x), key(a, k, y)];
        return kx < ky ? -1 : kx > ky ? 1 : x - y;
      });
      assert.deepEqual(order, expected, `${m}×${k}, rows ${i0} to ${i1}`);
    }
    await backend.close();
  });

  for (const [threads, relaxedSimd] of [[1, false], [1, true], [2, false], [2, true]] as const) {
    it(`${threads} thread${threads > 1 ? 's' : ''}, ${relaxedSimd ? 'relaxed' : 'plain'} SIMD build: rows paired out of order give the blocked product's numbers, bit for bit`, async () => {
      const backend = await createWasmBackend({ threads, threadThreshold: 0, threadBackOff: false, relaxedSimd });
      // rows non-zero in the left or the right half of their columns, in turn (so no row is
      // paired with its neighbour), over several ranges of ORDER_ROWS (256) rows, an odd count
      for (const m of [61, 600, 1001]) {
        const [k, n] = [784, 50];
        const a = new Float32Array(m * k);
        for (let i = 0; i < m; i++) {
          const left = (i % 2 === 0) !== (i % 5 === 0);
          for (let p = left ? 0 : k / 2; p < (left ? k / 2 : k); p++) if (rng.next() < 0.3) a[i * k + p] = rng.next() - 0.25;
        }
        const b = randomArray(k * n), bias = randomArray(n);
        const plain = new Float32Array(m * n), skipped = new Float32Array(m * n);
        backend.matmulFused(a, b, plain, m, k, n, false, false, { bias, relu: true });
        const before = backend.sparseProducts;
        backend.matmulFused(a, b, skipped, m, k, n, false, false, { bias, relu: true, sparseA: true });
        assert.equal(backend.sparseProducts - before, 1, `${m} rows: the zero-skipping kernel ran`);
        assert.deepEqual(new Uint32Array(skipped.buffer), new Uint32Array(plain.buffer), `${m} rows`);
      }
      await backend.close();
    });
  }
});

/**
 * What the zero-skipping products' samplings must count right: `zeros` of the values +0, then
 * 5% −0, 5% NaN, and 5% Inf if `infinity`; the rest in (0, 1).
 */
function sampledValues(length: number, zeros: number, infinity: boolean): Float32Array {
  const a = new Float32Array(length);
  for (let i = 0; i < a.length; i++) {
    const u = rng.next();
    a[i] = u < zeros ? 0 : u < zeros + 0.05 ? -0 : u < zeros + 0.1 ? NaN : infinity && u < zeros + 0.15 ? Infinity : u;
  }
  return a;
}

/**
 * The samplings' count written out: group s of `size` rows of C starts at row
 * size·⌊s·groups / samples⌋ (groups = ⌈m / size⌉; the last group may be shorter); each p counts
 * where one of the group's rows i has value(i, p) not ±0 (NaN is not 0; −0 is).
 */
function sampledCount(m: number, k: number, size: number, samples: number, value: (i: number, p: number) => number): number {
  const groups = Math.ceil(m / size);
  let used = 0;
  for (let s = 0; s < samples; s++) {
    const i0 = size * Math.floor((s * groups) / samples);
    for (let p = 0; p < k; p++) {
      let any = false;
      for (let i = i0; i < Math.min(i0 + size, m); i++) if (!(value(i, p) === 0)) any = true;
      if (any) used++;
    }
  }
  return used;
}

/**
 * sparseShare's count written out: over the pairs of rows that sampledCount's groups of 2 are,
 * Σ_p 2·[one of the pair non-zero] + [first row non-zero] + [second row non-zero] when the rows
 * are sorted (four times the mean of the pair's count and its rows' counts), else 4·[one of the
 * pair non-zero]; a last odd row being its own second row.
 */
function pairedCount(m: number, k: number, samples: number, value: (i: number, p: number) => number, sorted: boolean): number {
  const pairs = Math.ceil(m / 2);
  let used = 0;
  for (let s = 0; s < samples; s++) {
    const i = 2 * Math.floor((s * pairs) / samples);
    const i2 = i + 1 < m ? i + 1 : i;
    for (let p = 0; p < k; p++) {
      const x = value(i, p) === 0 ? 0 : 1, y = value(i2, p) === 0 ? 0 : 1;
      used += sorted ? 2 * Math.max(x, y) + x + y : 4 * Math.max(x, y);
    }
  }
  return used;
}

describe('wasm backend: the zero-skipping product\'s sampling (sparseShare) and when it runs', () => {
  it('sparseShare (pairs of rows of A: ×4, the mean of a pair\'s and its rows\' counts where the rows are sorted) and sparseTransShare (groups of 3 columns of A, stored k×m: the group\'s) count, over groups evenly spaced, the p where values are non-zero (NaN counts, −0 does not)', async () => {
    const backend = await createWasmBackend({ threads: 1 });
    const { sparseShare, sparseTransShare } = backend.kernels;
    const kinds = [
      { size: 2, at: (a: Float32Array, m: number, k: number) => (i: number, p: number) => a[i * k + p] },
      { size: 3, at: (a: Float32Array, m: number) => (i: number, p: number) => a[p * m + i] },
    ];
    for (const { size, at } of kinds) {
      for (const [m, k] of [[1, 5], [2, 4], [3, 13], [4, 13], [5, 7], [33, 7], [101, 784], [784, 100], [8, 1], [9, 1]]) {
        const a = sampledValues(m * k, 0.5, size === 2);
        const ra = resident(backend, a);
        const groups = Math.ceil(m / size);
        for (const samples of [1, Math.min(groups, 3), Math.min(groups, 16)]) {
          if (size === 3) {
            assert.equal(sparseTransShare(ra.data.byteOffset, m, k, samples), sampledCount(m, k, size, samples, at(a, m, k)), `3-row groups, ${m}×${k}, ${samples} samples`);
            continue;
          }
          for (const sorted of [false, true]) {
            assert.equal(sparseShare(ra.data.byteOffset, m, k, samples, sorted ? 1 : 0), pairedCount(m, k, samples, at(a, m, k), sorted), `pairs, ${sorted ? 'sorted' : 'neighbours'}, ${m}×${k}, ${samples} samples`);
          }
        }
      }
    }
    await backend.close();
  });

  it('a product of few rows keeps the blocked product (preparing B would cost more than the zeros save); many rows of the same A skip them', async () => {
    const backend = await createWasmBackend({ threads: 1 });
    const [k, n] = [784, 50];
    const b = randomArray(k * n);
    for (const [m, runs] of [[8, false], [40, true]] as const) {
      // each row non-zero in ~20% of its columns: an estimated share ~0.28 (a pair's ~0.36, a row's 0.2), below 0.75 − 10 / 40 (with 8 rows: below 0)
      const a = new Float32Array(m * k);
      for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) if (rng.next() < 0.2) a[i * k + p] = rng.next();
      const plain = new Float32Array(m * n), skipped = new Float32Array(m * n);
      backend.matmulFused(a, b, plain, m, k, n, false, false, {});
      const before = backend.sparseProducts;
      backend.matmulFused(a, b, skipped, m, k, n, false, false, { sparseA: true });
      assert.equal(backend.sparseProducts - before, runs ? 1 : 0, `${m} rows`);
      assert.deepEqual(new Uint32Array(skipped.buffer), new Uint32Array(plain.buffer));
    }
    await backend.close();
  });
});

describe('wasm backend: the transposed product with A\'s zeros skipped (sparseA with transA: an Affine\'s dW = xᵀ · dout)', () => {
  /** A k×m batch of image-like rows: each value non-zero with probability `density`, NaN and −0 among the zeros' neighbours. */
  const batch = (k: number, m: number, density: number) => {
    const a = new Float32Array(k * m);
    for (let i = 0; i < a.length; i++) {
      const u = rng.next();
      a[i] = u < density ? rng.next() - 0.3 : u < density + 0.02 ? -0 : 0;
    }
    return a;
  };
  for (const threads of [1, 2]) {
    it(`${threads} thread${threads > 1 ? 's' : ''}: the blocked product's bits (and the formula within rounding) for every shape of tile edge; not where A is dense, B holds an Inf, or k exceeds a k block`, async () => {
      const backend = await createWasmBackend({ threads, threadThreshold: 0, threadBackOff: false });
      // rows of C 3·q, 3·q + 1, 3·q + 2 (a last group of 3, 1, 2 rows); last panels of 0, 1, 5, 11, 1 columns
      for (const [m, k, n] of [[784, 100, 50], [100, 33, 5], [101, 40, 13], [102, 37, 1], [100, 100, 24], [101, 64, 11], [102, 33, 25], [101, 100, 12]]) {
        const a = batch(k, m, 0.05), b = randomArray(k * n);
        const plain = new Float32Array(m * n), skipped = new Float32Array(m * n);
        backend.matmulFused(a, b, plain, m, k, n, true, false, {});
        const before = backend.sparseProducts;
        backend.matmulFused(a, b, skipped, m, k, n, true, false, { sparseA: true });
        const what = `${m}×${k}×${n}`;
        // a share of ~1 − 0.95³ ≈ 0.14 over at least 16·33 samples, below 0.55 − 10·threads / m
        assert.equal(backend.sparseProducts - before, 1, `${what}: the zero-skipping kernel ran`);
        assert.deepEqual(new Uint32Array(skipped.buffer), new Uint32Array(plain.buffer), `${what}: bits`);
        // the formula in float64: C[i, j] = Σ_p A[p, i] · B[p, j]
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let sum = 0, size = 0;
            for (let p = 0; p < k; p++) (sum += a[p * m + i] * b[p * n + j]), (size += Math.abs(a[p * m + i] * b[p * n + j]));
            assert.ok(Math.abs(skipped[i * n + j] - sum) <= 1e-6 * (1 + size), `${what}: C[${i}, ${j}] ${skipped[i * n + j]} against ${sum}`);
          }
        }
        // from the backend's own storage: the kernels' sampling, the same bits
        const [ra, rb, rc] = [resident(backend, a), resident(backend, b), backend.alloc(m * n, 'float32')];
        const resBefore = backend.sparseProducts;
        backend.matmulFused(ra.data, rb.data, rc.data, m, k, n, true, false, { sparseA: true });
        assert.equal(backend.sparseProducts - resBefore, 1, `${what}: resident A, the kernel ran`);
        assert.deepEqual(new Uint32Array(rc.data.slice().buffer), new Uint32Array(plain.buffer), `${what}: resident bits`);
      }
      // dense A, an Inf in B (0 · Inf is NaN in the blocked product), k beyond a k block: the blocked product
      const [m, n] = [300, 20];
      for (const [what, k, a, b] of [
        ['dense A', 50, randomArray(50 * 300), randomArray(50 * 20)],
        ['Inf in B', 50, batch(50, 300, 0.1), Object.assign(randomArray(50 * 20), { 7: Infinity })],
        ['k > KC', 1100, batch(1100, 300, 0.1), randomArray(1100 * 20)],
      ] as const) {
        const plain = new Float32Array(m * n), skipped = new Float32Array(m * n);
        backend.matmulFused(a, b, plain, m, k, n, true, false, {});
        const before = backend.sparseProducts;
        backend.matmulFused(a, b, skipped, m, k, n, true, false, { sparseA: true });
        assert.equal(backend.sparseProducts, before, `${what}: the blocked product ran`);
        if (what === 'Inf in B') assert.ok(plain.some(Number.isNaN), 'the blocked product gives NaN for 0 · Inf');
        assert.deepEqual(new Uint32Array(skipped.buffer), new Uint32Array(plain.buffer), `${what}: bits`);
      }
      await backend.close();
    });
  }
});

describe('wasm backend: the relaxed-SIMD build or the plain one', () => {
  it("relaxedSimd true gives the relaxed build, false the plain one, 'auto' one of the two (its trial's verdict, kept for the process), all within rounding of the reference", async () => {
    const [m, k, n] = [37, 300, 29];
    const a = randomArray(m * k), b = randomArray(k * n);
    const expected = new Float32Array(m * n);
    new JsBackend().matmul(a, b, expected, m, k, n, false, false, false);
    const builds: string[] = [];
    for (const relaxedSimd of [true, false, 'auto', 'auto'] as const) {
      const backend = await createWasmBackend({ threads: 1, relaxedSimd });
      builds.push(backend.simd);
      const c = new Float32Array(m * n);
      backend.matmul(a, b, c, m, k, n, false, false, false);
      for (let i = 0; i < c.length; i++) assert.ok(Math.abs(c[i] - expected[i]) <= 1e-5 * (1 + Math.abs(expected[i])), `relaxedSimd ${relaxedSimd}: C[${i}] ${c[i]} against ${expected[i]}`);
      await backend.close();
    }
    assert.deepEqual(builds.slice(0, 2), ['relaxed', 'plain']);
    assert.ok(builds[2] === 'relaxed' || builds[2] === 'plain');
    assert.equal(builds[3], builds[2], "the trial runs once per process: a second 'auto' backend gets the same build");
  });
});

describe('wasm backend: products with few rows read B where it lies (DIRECT_B, relaxed-SIMD build)', () => {
  // [m, k, n, transA]: the last panel (12 wide) 1 column (a convolution's dW: columnTile1, then
  // 6 rows of halfTile6), none, 2 (A not transposed: packed for dotTile), 3 (columnTile4,
  // halfTile), 5 (tile), 11 (tile3x12 reading past the row); k beyond one k block (1024), with A
  // transposed or not (then the 2-column panel is packed block by block on 1 thread)
  const shapes: [number, number, number, boolean][] = [
    [30, 2500, 25, true], [20, 1300, 26, false], [30, 576, 25, false], [5, 40, 24, false], [13, 300, 26, false], [30, 200, 27, true],
    [64, 100, 29, true], [7, 50, 35, false], [33, 700, 1, true], [50, 100, 10, true],
  ];
  const taller = 70; // rows added: a product of m + 70 > 64 rows packs B

  for (const threads of [1, 2]) {
    it(`${threads} thread${threads > 1 ? 's' : ''}: the same bits as those rows of a taller product (B packed), accumulated and fused too; within rounding of the reference`, async () => {
      const backend = await createWasmBackend({ threads, relaxedSimd: true, threadBackOff: false });
      try {
        for (const [m, k, n, tA] of shapes) {
          const M = m + taller;
          const b = randomArray(k * n), bias = randomArray(n);
          const aTall = randomArray(M * k);
          // op(A)'s first m rows: A's first m rows, or (transposed) the first m of each depth's M
          const a = new Float32Array(m * k);
          for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) a[tA ? p * m + i : i * k + p] = aTall[tA ? p * M + i : i * k + p];
          const start = randomArray(M * n);
          for (const mode of ['plain', 'accumulate', 'bias+relu'] as const) {
            const what = `${m}×${k}×${n}${tA ? ' Aᵀ' : ''} ${mode}, ${threads} thread(s)`;
            const cTall = Float32Array.from(start), c = Float32Array.from(start.subarray(0, m * n));
            const run = (x: Float32Array, out: Float32Array, rows: number) => {
              if (mode === 'bias+relu') backend.matmulFused(x, b, out, rows, k, n, tA, false, { bias, relu: true });
              else backend.matmul(x, b, out, rows, k, n, tA, false, mode === 'accumulate');
            };
            const before = backend.directProducts;
            run(aTall, cTall, M);
            assert.equal(backend.directProducts, before, `${what}: the taller product packs B`);
            run(a, c, m);
            assert.equal(backend.directProducts, before + 1, `${what}: B read where it lies`);
            assert.deepEqual(new Uint32Array(c.buffer), new Uint32Array(cTall.buffer, 0, m * n), `${what}: not the taller product's bits`);
            // and the formula, in float64, written out here
            for (let i = 0; i < m; i++) {
              for (let j = 0; j < n; j++) {
                let sum = mode === 'accumulate' ? start[i * n + j] : 0;
                for (let p = 0; p < k; p++) sum += a[tA ? p * m + i : i * k + p] * b[p * n + j];
                if (mode === 'bias+relu') sum = Math.max(0, sum + bias[j]);
                assert.ok(Math.abs(c[i * n + j] - sum) <= 1e-5 * Math.sqrt(k) * (1 + Math.abs(sum)), `${what}: C[${i}, ${j}] ${c[i * n + j]} against ${sum}`);
              }
            }
          }
        }
      } finally {
        await backend.close();
      }
    });
  }

  it("a convolution's dW (100 products summed, matmulBatch) reads B where it lies, with a loop of packed products' bits", async () => {
    const backend = await createWasmBackend({ threads: 1, relaxedSimd: true });
    const [batch, m, k, n] = [4, 30, 576, 25];
    const a = randomArray(batch * m * k), b = randomArray(batch * k * n);
    const got = new Float32Array(m * n);
    const before = backend.directProducts;
    backend.matmulBatch(a, b, got, batch, { a: m * k, b: k * n, c: 0 }, m, k, n, false, false, false, null, false);
    assert.equal(backend.directProducts, before + 1);
    // the same sums as products of 94 rows (B packed), the first 30 rows of each A_i
    const want = new Float32Array((m + 64) * n);
    for (let i = 0; i < batch; i++) {
      const ai = new Float32Array((m + 64) * k);
      ai.set(a.subarray(i * m * k, (i + 1) * m * k));
      backend.matmul(ai, b.subarray(i * k * n, (i + 1) * k * n), want, m + 64, k, n, false, false, i > 0);
    }
    assert.equal(backend.directProducts, before + 1);
    assert.deepEqual(new Uint32Array(got.buffer), new Uint32Array(want.buffer, 0, m * n));
    await backend.close();
  });

  it('not in the plain build, nor for float64, Bᵀ or more than 64 rows, nor where the memory ends within 16 bytes of B', async () => {
    const plain = await createWasmBackend({ threads: 1, relaxedSimd: false });
    const relaxed = await createWasmBackend({ threads: 1, relaxedSimd: true });
    const product = (backend: WasmBackend, m: number, tB: boolean, f64 = false) => {
      const [k, n] = [40, 25];
      const make = (len: number) => (f64 ? Float64Array.from(randomArray(len)) : randomArray(len));
      const before = backend.directProducts;
      backend.matmul(make(m * k), make(k * n), f64 ? new Float64Array(m * n) : new Float32Array(m * n), m, k, n, false, tB, false);
      return backend.directProducts - before;
    };
    assert.equal(product(plain, 30, false), 0, 'plain build');
    assert.equal(product(relaxed, 30, false), 1, 'relaxed build, 30 rows');
    assert.equal(product(relaxed, 64, false), 1, 'relaxed build, 64 rows');
    assert.equal(product(relaxed, 65, false), 0, 'relaxed build, 65 rows');
    assert.equal(product(relaxed, 30, true), 0, 'Bᵀ');
    assert.equal(product(relaxed, 30, false, true), 0, 'float64');
    const readsB = (backend: WasmBackend, bEnd: number) =>
      (backend as unknown as { readsB(f64: boolean, transB: boolean, m: number, bEnd: number): boolean }).readsB(false, false, 30, bEnd);
    const end = relaxed.heap.buffer.byteLength;
    assert.equal(readsB(relaxed, end - 16), true);
    assert.equal(readsB(relaxed, end - 15), false, 'B ends 15 bytes before the memory does');
    await Promise.all([plain.close(), relaxed.close()]);
  });
});

describe('wasm backend threads', () => {
  const shapes: [string, number, number, number, boolean, boolean][] = [
    ['(100×784)·(784×50)', 100, 784, 50, false, false],
    ['(100×784)ᵀ·(100×50)', 784, 100, 50, true, false],
    ['(100×50)·(784×50)ᵀ', 100, 50, 784, false, true],
    ['(1000×1000)²', 1000, 1000, 1000, false, false],
    // the book's conv dW: B read where it lies, cut by panels only (A's short rows share cache lines)
    ['(57600×30)ᵀ·(57600×25)', 30, 57600, 25, true, false],
  ];
  let one: WasmBackend;
  let two: WasmBackend;
  before(async () => {
    one = await createWasmBackend({ threads: 1 });
    two = await createWasmBackend({ threads: 2, threadBackOff: false });
  });

  for (const [label, m, k, n, tA, tB] of shapes) {
    it(`2 threads give bit-identical results to 1 thread on ${label}`, () => {
      const a = randomArray(m * k);
      const b = randomArray(k * n);
      const c1 = one.alloc(m * n, 'float32');
      const c2 = two.alloc(m * n, 'float32');
      const a1 = resident(one, a), b1 = resident(one, b);
      const a2 = resident(two, a), b2 = resident(two, b);
      one.matmul(a1.data, b1.data, c1.data, m, k, n, tA, tB, false);
      two.matmul(a2.data, b2.data, c2.data, m, k, n, tA, tB, false);
      assert.deepEqual(c2.data, c1.data);
      // and the copy path of the 2-thread backend
      const c3 = new Float32Array(m * n);
      two.matmul(a, b, c3, m, k, n, tA, tB, false);
      assert.deepEqual(c3, c1.data);
    });
  }

  it('products cut by panels on 2 threads (few panels, A and B within L2) equal 1 thread bit for bit, fused outputs too, on both builds', async () => {
    // threaded sizes (2·m·k·n ≥ 1e6), each cut by panels on at least one build: 3 to 8 panels,
    // narrow last ones (relaxed build, 12 wide: 2, 6, 2, 4 and 4 columns), 13 to 1000 rows, A
    // transposed too (the step's xᵀ·dout)
    const shapes: [number, number, number, boolean][] = [
      [100, 784, 50, false], [784, 100, 50, true], [200, 784, 30, false], [50, 784, 50, false], [13, 1000, 40, false],
      [500, 500, 96, false], [1000, 200, 64, true],
    ];
    for (const relaxedSimd of [true, false]) {
      const one1 = await createWasmBackend({ threads: 1, relaxedSimd });
      const two2 = await createWasmBackend({ threads: 2, relaxedSimd, threadBackOff: false });
      for (const [m, k, n, tA] of shapes) {
        const a = randomArray(m * k), b = randomArray(k * n), bias = randomArray(n), mask = randomArray(m * n);
        for (const fused of [{}, { bias, relu: true }, { mask }]) {
          const c1 = new Float32Array(m * n), c2 = new Float32Array(m * n);
          one1.matmulFused(a, b, c1, m, k, n, tA, false, fused);
          two2.matmulFused(a, b, c2, m, k, n, tA, false, fused);
          assert.deepEqual(new Uint32Array(c2.buffer), new Uint32Array(c1.buffer), `${m}×${k}×${n}${tA ? ' Aᵀ' : ''} ${Object.keys(fused).join('+') || 'plain'} (${relaxedSimd ? 'relaxed' : 'plain'} build)`);
        }
        const ref = new Float32Array(m * n), c = new Float32Array(m * n);
        js.matmul(a, b, ref, m, k, n, tA, false, false);
        two2.matmul(a, b, c, m, k, n, tA, false, false);
        closeTo(c, ref, 1e-4 * Math.sqrt(k));
      }
      await Promise.all([one1.close(), two2.close()]);
    }
  });

  it("sumColumns of wide matrices (a convolution's db, 100×17280; 7×5003) shared out on 2 threads: each column summed in row order in float32, bit for bit", () => {
    for (const [rows, cols] of [[100, 17280], [7, 5003], [3, 2048]]) {
      const x = randomArray(rows * cols);
      const want = new Float32Array(cols); // the sum written out: row by row, rounded to float32 at each step
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) want[j] = Math.fround(want[j] + x[i * cols + j]);
      for (const backend of [one, two]) {
        const xs = resident(backend, x), out = backend.alloc(cols, 'float32');
        backend.sumColumns(xs.data, out.data, rows, cols);
        assert.deepEqual(new Uint32Array(out.data.buffer, out.data.byteOffset, cols), new Uint32Array(want.buffer), `${rows}×${cols}, ${backend.threads} thread(s)`);
      }
    }
  });

  it('float64 products: 2 threads equal 1 thread bit for bit, and both equal the reference', () => {
    const [m, k, n] = [101, 300, 77];
    const a = Float64Array.from(randomArray(m * k));
    const b = Float64Array.from(randomArray(k * n));
    for (const [tA, tB] of [[false, false], [true, false], [false, true]] as const) {
      const c1 = new Float64Array(m * n);
      const c2 = new Float64Array(m * n);
      const ref = new Float64Array(m * n);
      one.matmul(a, b, c1, m, k, n, tA, tB, false);
      two.matmul(a, b, c2, m, k, n, tA, tB, false);
      js.matmul(a, b, ref, m, k, n, tA, tB, false);
      assert.deepEqual(c2, c1);
      closeTo(c1, ref, 1e-13);
    }
  });

  it('a terminated worker gives an error, then the backend carries on with one thread', async () => {
    const backend = await createWasmBackend({ threads: 2, threadBackOff: false });
    const [m, k, n] = [200, 300, 400];
    const a = randomArray(m * k);
    const b = randomArray(k * n);
    const c = new Float32Array(m * n);
    await backend.pool!.workers[0].terminate();
    assert.throws(() => backend.matmul(a, b, c, m, k, n, false, false, false), WasmWorkerError);
    assert.equal(backend.threads, 1);
    backend.matmul(a, b, c, m, k, n, false, false, false);
    const expected = new Float32Array(m * n);
    one.matmul(a, b, expected, m, k, n, false, false, false);
    assert.deepEqual(c, expected);
  });

  it('a worker that exits in the middle of a product gives an error, not a hang', { timeout: 30_000 }, async () => {
    const backend = await createWasmBackend({ threads: 2, workerTimeoutMs: 200, threadBackOff: false });
    const [m, k, n] = [1000, 1000, 1000];
    const a = randomArray(m * k);
    const b = randomArray(k * n);
    const c = new Float32Array(m * n);
    backend.pool!.crashNext = true;
    // The worker may be too late to claim a chunk of this product (the caller then runs them
    // all and the error comes with the next product), but it never hangs.
    let error: unknown;
    for (let attempt = 0; attempt < 5 && !error; attempt++) {
      try {
        backend.matmul(a, b, c, m, k, n, false, false, false);
      } catch (e) {
        error = e;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(error instanceof WasmWorkerError, `expected a WasmWorkerError, got ${error}`);
    assert.match((error as Error).message, /worker thread 1 (exited|crashed)/);
    assert.equal(backend.threads, 1);
  });

  it('a starved worker makes the products step back to one thread for a while, then return to two', async () => {
    const backend = await createWasmBackend({ threads: 2 });
    const pool = backend.pool!;
    const [m, k, n] = [64, 256, 64]; // 2 MFLOP: above the threads threshold
    const a = randomArray(m * k);
    const b = randomArray(k * n);
    const expected = new Float32Array(m * n);
    one.matmul(a, b, expected, m, k, n, false, false, false);
    // The worker holds a chunk for 20 ms in each product: the caller spends most of each
    // product waiting, and after two in a row it stops using threads.
    assert.equal(pool.backOffs, 0, 'a new pool has not backed off (priming runs the back-off and resets it)');
    pool.starveMs = 20;
    for (let i = 0; i < 2; i++) {
      const c = new Float32Array(m * n);
      backend.matmul(a, b, c, m, k, n, false, false, false);
      assert.deepEqual(c, expected);
    }
    pool.starveMs = 0;
    assert.equal(pool.useThreads(), false, 'still on two threads after products that waited on a starved worker');
    assert.equal(pool.backOffs, 1);
    assert.equal(backend.threads, 2); // stepping back is not a failure
    const c = new Float32Array(m * n);
    backend.matmul(a, b, c, m, k, n, false, false, false); // one thread meanwhile
    assert.deepEqual(c, expected);
    await new Promise((r) => setTimeout(r, 100)); // the first back-off lasts 25 ms
    assert.equal(pool.useThreads(), true);
    backend.matmul(a, b, c, m, k, n, false, false, false);
    assert.deepEqual(c, expected);
    await backend.close();
  });

  it('with threadBackOff: false, a starved worker does not stop the products using it', async () => {
    const backend = await createWasmBackend({ threads: 2, threadBackOff: false });
    const [m, k, n] = [64, 256, 64];
    const a = randomArray(m * k);
    const b = randomArray(k * n);
    const c = new Float32Array(m * n);
    backend.pool!.starveMs = 20;
    for (let i = 0; i < 5; i++) backend.matmul(a, b, c, m, k, n, false, false, false);
    assert.equal(backend.pool!.useThreads(), true);
    assert.equal(backend.pool!.backOffs, 0);
    await backend.close();
  });
});

describe('wasm backend: gatherRowsAhead (rows copied by idle workers, a side job)', () => {
  const [rows, cols] = [3000, 784];
  /** out[i, :] = src[index[i], :], written out. */
  const gathered = (src: Float32Array, index: Int32Array): Float32Array => {
    const out = new Float32Array(index.length * cols);
    for (let i = 0; i < index.length; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = src[index[i] * cols + j];
    return out;
  };
  const randomIndex = (count: number): Int32Array => Int32Array.from({ length: count }, () => rng.int(rows));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  for (const threads of [1, 2]) {
    it(`${threads} thread${threads > 1 ? 's' : ''}: the rows gatherRows gives, with products, a gather and a reused index in between`, async () => {
      const backend = await createWasmBackend({ threads, threadBackOff: false });
      const values = randomArray(rows * cols);
      const src = resident(backend, values);
      const [a, b] = [randomArray(100 * 784), randomArray(784 * 50)];
      const expectedProduct = new Float32Array(100 * 50);
      backend.matmul(a, b, expectedProduct, 100, 784, 50, false, false, false); // with no side job
      for (const count of [100, 101, 7, 2, 1]) {
        const index = randomIndex(count);
        const expected = gathered(values, index);
        const out = backend.alloc(count * cols, 'float32');
        const wait = backend.gatherRowsAhead(src.data, index, out.data, cols);
        const kept = Int32Array.from(index);
        index.fill(0); // read before gatherRowsAhead returned
        // a threaded product while the rows are being copied: the workers join it, then go back
        const c = new Float32Array(100 * 50);
        backend.matmul(a, b, c, 100, 784, 50, false, false, false);
        assert.deepEqual(c, expectedProduct);
        const other = backend.alloc(count * cols, 'float32');
        backend.gatherRows(src.data, kept, other.data, cols);
        wait();
        assert.deepEqual(out.data, expected, `${count} rows`);
        assert.deepEqual(other.data, expected);
        wait(); // again: nothing to wait for
        // a second one before the first is waited for: the first is finished first
        const [x, y] = [backend.alloc(count * cols, 'float32'), backend.alloc(count * cols, 'float32')];
        const first = backend.gatherRowsAhead(src.data, kept, x.data, cols);
        const reversed = kept.slice().reverse();
        const second = backend.gatherRowsAhead(src.data, reversed, y.data, cols);
        second();
        first();
        assert.deepEqual(x.data, expected);
        assert.deepEqual(y.data, gathered(values, reversed));
      }
      await backend.close();
    });
  }

  it('2 threads: a side job published while a worker looks for work runs each chunk once (its claim word closed while its fields change)', { timeout: 60_000 }, async () => {
    // Before the fix, a worker could claim against the new total while the claim word still held
    // the last tag (0 before the first side job): chunk 0 ran twice and the wait never ended.
    // The hook holds the caller between writing the fields and opening the job.
    const values = randomArray(rows * cols);
    for (let attempt = 0; attempt < 3; attempt++) {
      const backend = await createWasmBackend({ threads: 2, threadBackOff: false, workerTimeoutMs: 300 });
      const src = resident(backend, values);
      const out = backend.alloc(100 * cols, 'float32');
      const [a, b, c] = [randomArray(100 * 784), randomArray(784 * 50), new Float32Array(100 * 50)];
      backend.pool!.sidePublishPauseMs = 5;
      for (let j = 0; j < 3; j++) {
        backend.matmul(a, b, c, 100, 784, 50, false, false, false); // then the worker spins, looking for work
        const index = randomIndex(100);
        backend.gatherRowsAhead(src.data, index, out.data, cols)();
        assert.deepEqual(out.data, gathered(values, index), `attempt ${attempt}, side job ${j + 1}`);
      }
      assert.equal(backend.threads, 2, `attempt ${attempt}: the pool failed`);
      await backend.close();
    }
  });

  it('2 threads: a worker copies the rows while the caller only waits on the clock', async () => {
    const backend = await createWasmBackend({ threads: 2, threadBackOff: false });
    const values = randomArray(rows * cols);
    const src = resident(backend, values);
    const index = randomIndex(100);
    const out = backend.alloc(100 * cols, 'float32');
    out.data.fill(NaN);
    const wait = backend.gatherRowsAhead(src.data, index, out.data, cols);
    const expected = gathered(values, index);
    const done = () => out.data.every((v, i) => Object.is(v, expected[i]));
    for (let i = 0; i < 500 && !done(); i++) await sleep(10);
    assert.ok(done(), 'the rows were not copied within 5 s without the caller');
    wait();
    await backend.close();
  });

  it('a worker that exits holding a chunk: the wait throws a WasmWorkerError, the rows are right, then one thread', { timeout: 30_000 }, async () => {
    const backend = await createWasmBackend({ threads: 2, workerTimeoutMs: 200, threadBackOff: false });
    const values = randomArray(rows * cols);
    const src = resident(backend, values);
    backend.pool!.crashNext = true;
    let error: unknown;
    let checked = 0;
    // The worker, told to exit once it has claimed a chunk, may wake too late to claim one (the
    // wait then copies every row): a few tries, each giving it 20 ms.
    for (let attempt = 0; attempt < 10 && !error; attempt++) {
      const index = randomIndex(100);
      const out = backend.alloc(100 * cols, 'float32');
      const wait = backend.gatherRowsAhead(src.data, index, out.data, cols);
      await sleep(20);
      try {
        wait();
      } catch (e) {
        error = e;
      }
      assert.deepEqual(out.data, gathered(values, index));
      checked++;
    }
    assert.ok(error instanceof WasmWorkerError, `expected a WasmWorkerError, got ${error}`);
    assert.match((error as Error).message, /worker thread 1 exited/);
    assert.equal(backend.threads, 1);
    const index = randomIndex(50);
    const out = backend.alloc(50 * cols, 'float32');
    backend.gatherRowsAhead(src.data, index, out.data, cols)();
    assert.deepEqual(out.data, gathered(values, index));
    assert.ok(checked > 0);
  });

  it('a batch below the data set in memory is gathered by the kernels, not by the reference (no false overlap)', async () => {
    const backend = await createWasmBackend({ threads: 2, threadBackOff: false });
    const out = backend.alloc(100 * cols, 'float32'); // first: below src
    const values = randomArray(rows * cols);
    const src = resident(backend, values);
    assert.ok(out.data.byteOffset < src.data.byteOffset);
    const js = (backend as unknown as { js: JsBackend }).js;
    let referenceCalls = 0;
    const gather = js.gatherRows.bind(js);
    js.gatherRows = (...args) => (referenceCalls++, gather(...args));
    const index = randomIndex(100);
    backend.gatherRows(src.data, index, out.data, cols);
    assert.deepEqual(out.data, gathered(values, index));
    const next = randomIndex(100);
    backend.gatherRowsAhead(src.data, next, out.data, cols)();
    assert.deepEqual(out.data, gathered(values, next));
    assert.equal(referenceCalls, 0);
    // rows gathered into the data set itself: the reference's copy, row after row
    backend.gatherRows(src.data, Int32Array.from([2, 0]), src.data.subarray(0, 2 * cols), cols);
    assert.equal(referenceCalls, 1);
    await backend.close();
  });

  it('a worker that exits during a product while rows are being copied ahead: the wait gives the right rows', { timeout: 30_000 }, async () => {
    const backend = await createWasmBackend({ threads: 2, workerTimeoutMs: 200, threadBackOff: false });
    const values = randomArray(rows * cols);
    const src = resident(backend, values);
    const [m, k, n] = [400, 784, 400];
    const [a, b, c] = [randomArray(m * k), randomArray(k * n), new Float32Array(m * n)];
    let failed = false;
    for (let attempt = 0; attempt < 10 && !failed; attempt++) {
      // many rows: the worker is still copying them when the product comes
      const index = randomIndex(2000);
      const out = backend.alloc(2000 * cols, 'float32');
      const wait = backend.gatherRowsAhead(src.data, index, out.data, cols);
      backend.pool!.crashNext = true; // the product publishes it; the worker exits in the product or in a side chunk
      try {
        backend.matmul(a, b, c, m, k, n, false, false, false);
      } catch (e) {
        assert.ok(e instanceof WasmWorkerError, String(e));
        failed = true;
      }
      try {
        wait();
      } catch (e) {
        assert.ok(e instanceof WasmWorkerError, String(e));
        failed = true;
      }
      assert.deepEqual(out.data, gathered(values, index), `attempt ${attempt}`);
      await sleep(20);
    }
    assert.ok(failed, 'the worker never exited');
    assert.equal(backend.threads, 1);
  });

  it('falls back to gatherRows where it cannot share the copy out: arrays outside the memory, float64, a row out of range', async () => {
    const backend = await createWasmBackend({ threads: 2, threadBackOff: false });
    const values = randomArray(rows * cols);
    const index = randomIndex(100);
    const out = new Float32Array(100 * cols);
    backend.gatherRowsAhead(values, index, out, cols)(); // plain arrays: copied through
    assert.deepEqual(out, gathered(values, index));
    const v64 = Float64Array.from(values.subarray(0, 10 * cols));
    const o64 = new Float64Array(2 * cols);
    backend.gatherRowsAhead(v64, Int32Array.from([9, 3]), o64, cols)();
    assert.deepEqual(o64, Float64Array.from([...v64.subarray(9 * cols, 10 * cols), ...v64.subarray(3 * cols, 4 * cols)]));
    const src = resident(backend, values);
    const o = backend.alloc(2 * cols, 'float32');
    const expected = new Float32Array(2 * cols);
    new JsBackend().gatherRows(values, Int32Array.from([0, rows]), expected, cols); // the reference's partial copy
    backend.gatherRowsAhead(src.data, Int32Array.from([0, rows]), o.data, cols)();
    assert.deepEqual(o.data, expected);
    await backend.close();
  });
});

function closeTo(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])))) {
      assert.fail(`element ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}
