/**
 * The checks the browser test (../wasm-browser.test.ts) runs inside Chromium, on the page's
 * main thread and in a Web Worker: the wasm backend, created with the browser entry point,
 * against the TypeScript reference kernels. Bundled by scripts/build-web.mjs's bundleForBrowser.
 */
import type { FloatArray } from '../../../src/kernels/Backend.js';
import { JsBackend } from '../../../src/kernels/reference/JsBackend.js';
import { createWasmBackend, WasmWorkerError, type WasmBackend } from '../../../src/kernels/wasm/browser.js';
import { Random } from '../../../src/random.js';

/** One comparison: its name, whether it passed, and what was seen. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface CheckReport {
  crossOriginIsolated: boolean;
  /** Threads of the backend created with the default options (2 where possible). */
  defaultThreads: number;
  singleThreadReason: string | null;
  checks: Check[];
}

const js = new JsBackend();
const rng = new Random(5);

function random(n: number, f64 = false): FloatArray {
  const a = f64 ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** Largest |a − b| / (1 + |b|). */
function maxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i]));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean =>
  a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => Object.is(v, b[i]));

/**
 * Runs every check. The backends ask for 2 threads: they get them in a Worker of a
 * cross-origin-isolated page, and elsewhere fall back to one (the report says why).
 */
export async function runChecks(): Promise<CheckReport> {
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail = ''): void => void checks.push({ name, ok, detail });
  const closeTo = (name: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void => {
    const e = maxError(actual, expected);
    check(name, e <= tol, `max relative error ${e} (tolerance ${tol})`);
  };

  const auto = await createWasmBackend();
  const one = await createWasmBackend({ threads: 1 });
  // every size on the threads, when there are threads
  const two = await createWasmBackend({ threads: 2, threadThreshold: 0, threadBackOff: false });

  // a product small enough to check by hand: [[1,2],[3,4],[5,6]]·[[7,8,9],[10,11,12]]
  for (const [label, b] of [['1 thread', one], ['2 threads', two]] as const) {
    const c = new Float32Array(9);
    b.matmul(Float32Array.of(1, 2, 3, 4, 5, 6), Float32Array.of(7, 8, 9, 10, 11, 12), c, 3, 2, 3, false, false, false);
    check(`3×2 · 2×3 by hand (${label})`, same(c, [27, 30, 33, 61, 68, 75, 95, 106, 117]), `[${c.join(', ')}]`);
  }

  // the MNIST products (both transposes) and odd sizes: wasm against js, 2 threads against 1
  const shapes: [number, number, number, boolean, boolean][] = [
    [7, 5, 3, false, false], [37, 53, 29, false, false], [100, 784, 50, false, false],
    [784, 100, 50, true, false], [100, 50, 784, false, true], [33, 17, 65, true, true],
  ];
  for (const [m, k, n, tA, tB] of shapes) {
    const label = `${m}×${k}×${n}${tA ? ' Aᵀ' : ''}${tB ? ' Bᵀ' : ''}`;
    const a = random(m * k);
    const b = random(k * n);
    const ref = new Float32Array(m * n);
    js.matmul(a, b, ref, m, k, n, tA, tB, false);
    const c1 = new Float32Array(m * n);
    one.matmul(a, b, c1, m, k, n, tA, tB, false);
    closeTo(`matmul ${label}: wasm (1 thread) = js`, c1, ref, 1e-4);
    // in the backend's memory (zero copy), accumulating into C
    const sa = two.alloc(m * k, 'float32');
    sa.data.set(a);
    const sb = two.alloc(k * n, 'float32');
    sb.data.set(b);
    const sc = two.alloc(m * n, 'float32');
    two.matmul(sa.data, sb.data, sc.data, m, k, n, tA, tB, false);
    check(`matmul ${label}: ${two.threads} threads = 1 thread, bit for bit`, same(sc.data, c1));
    two.matmul(sa.data, sb.data, sc.data, m, k, n, tA, tB, true);
    closeTo(`matmul ${label}: accumulate`, sc.data, ref.map((v) => 2 * v), 1e-4);
  }

  // gatherRowsAhead: rows copied by the idle workers (a side job), a product in between
  {
    const [rows, cols, count] = [500, 784, 100];
    const src = two.alloc(rows * cols, 'float32');
    src.data.set(random(rows * cols));
    const index = Int32Array.from({ length: count }, (_, i) => (i * 37 + 11) % rows);
    const expected = new Float32Array(count * cols);
    js.gatherRows(src.data, index, expected, cols);
    const out = two.alloc(count * cols, 'float32');
    const wait = two.gatherRowsAhead(src.data, index, out.data, cols);
    const [a, b] = [random(100 * 784), random(784 * 50)];
    const [c, c1] = [new Float32Array(100 * 50), new Float32Array(100 * 50)];
    two.matmul(a, b, c, 100, 784, 50, false, false, false);
    one.matmul(a, b, c1, 100, 784, 50, false, false, false);
    wait();
    check(`gatherRowsAhead (${two.threads} thread${two.threads > 1 ? 's' : ''}): gatherRows's rows`, same(out.data, expected));
    check('a product while rows are copied ahead: 1 thread\'s, bit for bit', same(c, c1));
  }

  // float64
  {
    const [m, k, n] = [41, 30, 17];
    const a = random(m * k, true);
    const b = random(k * n, true);
    const ref = new Float64Array(m * n);
    js.matmul(a, b, ref, m, k, n, false, true, false);
    const c = new Float64Array(m * n);
    two.matmul(a, b, c, m, k, n, false, true, false);
    closeTo('matmul float64 41×30×17 Bᵀ: wasm = js', c, ref, 1e-13);
  }

  // element-wise and row kernels of a training step
  {
    const [rows, cols] = [13, 10];
    const x = random(rows * cols) as Float32Array;
    const bias = random(cols) as Float32Array;
    const pairs: [string, (b: JsBackend | WasmBackend, out: Float32Array) => void][] = [
      ['addBias', (b, out) => b.addBias(x, bias, out, rows, cols)],
      ['relu', (b, out) => b.relu(x, out)],
      ['sigmoid', (b, out) => b.sigmoid(x, out)],
      ['softmax', (b, out) => b.softmax(x, out, rows, cols)],
    ];
    for (const [name, run] of pairs) {
      const expected = new Float32Array(rows * cols);
      run(js, expected);
      const actual = new Float32Array(rows * cols);
      run(two, actual);
      closeTo(`${name}: wasm = js`, actual, expected, 1e-6);
    }
    const labels = Int32Array.from({ length: rows }, (_, i) => (i * 7) % cols);
    const y = new Float32Array(rows * cols);
    js.softmax(x, y, rows, cols);
    const lossJs = js.crossEntropyLabels(y, labels, rows, cols);
    const lossWasm = two.crossEntropyLabels(y, labels, rows, cols);
    check('crossEntropyLabels: wasm = js', Math.abs(lossWasm - lossJs) <= 1e-5 * (1 + Math.abs(lossJs)), `${lossWasm} vs ${lossJs}`);
  }

  // threads only: a worker that stops gives an error, then the backend goes on with one thread
  if (two.threads > 1) {
    const [m, k, n] = [200, 300, 100];
    const a = random(m * k);
    const b = random(k * n);
    const expected = new Float32Array(m * n);
    one.matmul(a, b, expected, m, k, n, false, false, false);

    const stopped = await createWasmBackend({ threads: 2, threadThreshold: 0, threadBackOff: false });
    await stopped.pool!.workers[0].terminate();
    const c = new Float32Array(m * n);
    let error: unknown;
    try {
      stopped.matmul(a, b, c, m, k, n, false, false, false);
    } catch (e) {
      error = e;
    }
    check('a terminated thread worker: WasmWorkerError', error instanceof WasmWorkerError, String(error));
    stopped.matmul(a, b, c, m, k, n, false, false, false);
    check('a terminated thread worker: then one thread, same result', stopped.threads === 1 && same(c, expected), `threads ${stopped.threads}`);

    const crashing = await createWasmBackend({ threads: 2, threadThreshold: 0, threadBackOff: false, workerTimeoutMs: 200 });
    crashing.pool!.crashNext = true;
    error = undefined;
    // the worker may be too late to claim a chunk of one product (the caller runs them all): try a few
    for (let attempt = 0; attempt < 10 && !error; attempt++) {
      try {
        crashing.matmul(a, b, c, m, k, n, false, false, false);
      } catch (e) {
        error = e;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    check('a thread worker that exits mid-product: WasmWorkerError, no hang', error instanceof WasmWorkerError && /worker thread 1 exited/.test((error as Error).message), String(error));
    crashing.matmul(a, b, c, m, k, n, false, false, false);
    check('a thread worker that exits mid-product: then one thread, same result', crashing.threads === 1 && same(c, expected), `threads ${crashing.threads}`);
    for (const backend of [stopped, crashing]) await backend.close();
  }

  const report: CheckReport = {
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    defaultThreads: auto.threads,
    singleThreadReason: auto.singleThreadReason,
    checks,
  };
  for (const backend of [auto, one, two]) await backend.close();
  return report;
}
