/**
 * Creating the WebAssembly SIMD backend on a platform: the part shared by Node (index.ts, with
 * platform.node.ts) and browsers (browser.ts, with platform.browser.ts). Platform-neutral: no
 * `node:` import here, nor in anything this imports.
 */
import { type Collector, Heap } from './Heap.js';
import { type KernelFile, canWait, sharedMemoryMissing, wasmSimdSupported } from './support.js';
import { type SpawnWorker, ThreadPool, controlBytes } from './threads.js';
import { TMP_BYTES_PER_THREAD, WasmBackend, type KernelExports } from './WasmBackend.js';

/** Options of createWasmBackend, in Node and in browsers. */
export interface WasmBackendOptions {
  /**
   * Threads for large matrix products, the caller's included: 1, or 2 (one worker joins the
   * caller). Default: 2, or 1 on a single core. Falls back to 1 where SharedArrayBuffer or
   * workers are unavailable (in browsers: a page without the COOP/COEP headers, or the main
   * thread, which may not block in Atomics.wait). More than 2 works, but the backend is tuned
   * for 2 cores.
   */
  threads?: number;
  /** Name in the backend registry; default 'wasm'. */
  name?: string;
  /** Products of at least this many FLOPs (2·m·k·n) use the extra threads; default 1e6 (measured break-even ~0.5e6). */
  threadThreshold?: number;
  /** Atomics.load spins of an idle worker before it sleeps; default 10000 (~70 µs). */
  spin?: number;
  /** How long to wait for a worker beyond a product's expected time before giving up, in ms; default 2000. */
  workerTimeoutMs?: number;
  /**
   * Step back to one thread for a while when a worker is starved of CPU by other processes
   * (a product waited on it for more than half its time); default true.
   */
  threadBackOff?: boolean;
  /**
   * Give the blocks of dropped tensors back before the memory grows, even inside a synchronous
   * loop (Node: a full garbage collection now and then, see collector.node.ts); default true.
   * False: only when FinalizationRegistry callbacks run, between tasks.
   */
  reclaim?: boolean;
  /**
   * The kernels built with relaxed SIMD's fused multiply-add (f32x4.relaxed_madd): 'auto'
   * (default) uses them where the engine compiles them and a trial product runs faster than with
   * the plain SIMD build; true insists (an error where unavailable); false never. Node only for
   * now (browsers use the plain build).
   */
  relaxedSimd?: boolean | 'auto';
  /**
   * The folder holding kernels.wasm and kernels-shared.wasm (a URL, or a path relative to the
   * page in browsers). Default: `./generated/` next to this module, given to bundlers as
   * `new URL('./generated/kernels.wasm', import.meta.url)`.
   */
  wasmBaseUrl?: string | URL;
}

/** What createBackend needs from Node or from a browser. */
export interface Platform {
  /** Cores this process may use. */
  cores(): Promise<number>;
  /** Why workers cannot start here (beyond shared memory, checked by createBackend), or null. */
  workersMissing(): Promise<string | null>;
  /** The compiled kernel module `file`, from the folder `baseUrl` or from the default place. */
  loadModule(file: KernelFile, baseUrl?: string | URL): Promise<WebAssembly.Module>;
  /** Starts one worker of the thread pool. */
  spawnWorker: SpawnWorker;
  /**
   * When the workers fail to start: 'throw' (Node: a broken installation should be loud) or
   * 'one-thread' (browsers: a page carries on without threads and says why).
   */
  onSpawnFailure: 'throw' | 'one-thread';
  /** Finds dropped storage inside synchronous loops (Heap.reclaim), where the platform can; else null. */
  collector?(): Collector | null;
  /** Lets the engine compile relaxed SIMD (Node 20: a V8 flag); platforms without it never try the relaxed build. */
  enableRelaxedSimd?(): void;
}

/** 64 KiB pages: the initial memory, and the most a wasm32 memory can have. */
const INITIAL_PAGES = 32;
const MAX_PAGES = 65536;

/**
 * Creates the WebAssembly SIMD backend on `platform` (see createWasmBackend in index.ts and browser.ts).
 *
 * @throws Error if this engine lacks WebAssembly SIMD; WasmNotBuiltError if the kernel modules are missing.
 */
export async function createBackend(platform: Platform, options: WasmBackendOptions = {}): Promise<WasmBackend> {
  if (!wasmSimdSupported()) {
    throw new Error('wasm backend: this JavaScript engine does not support WebAssembly SIMD; use the js backend');
  }
  let threads = Math.max(1, Math.floor(options.threads ?? Math.min(2, await platform.cores())));
  let singleThreadReason: string | null = null;
  if (threads > 1) {
    singleThreadReason = sharedMemoryMissing()
      ?? (canWait ? null : 'this thread may not block in Atomics.wait (a browser\'s main thread); create the backend in a Worker for threads')
      ?? (await platform.workersMissing());
    if (singleThreadReason !== null) threads = 1;
  }
  const shared = threads > 1;
  const relaxed = await useRelaxedSimd(platform, options);
  const module = await platform.loadModule(
    relaxed ? (shared ? 'kernels-relaxed-shared.wasm' : 'kernels-relaxed.wasm') : (shared ? 'kernels-shared.wasm' : 'kernels.wasm'),
    options.wasmBaseUrl,
  );
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const kernels = instance.exports as unknown as KernelExports;
  const heap = new Heap(memory, kernels.heapBase(), MAX_PAGES);
  // Blocks that live as long as the backend: edge-tile scratch per thread, the threads' control block.
  const tmp = heap.alloc(TMP_BYTES_PER_THREAD * threads);
  let pool: ThreadPool | null = null;
  if (shared) {
    const control = heap.alloc(controlBytes(threads));
    try {
      pool = await ThreadPool.start(platform.spawnWorker, module, memory, control, tmp, threads, {
        spin: options.spin ?? 10000,
        timeoutMs: options.workerTimeoutMs ?? 2000,
        backOff: options.threadBackOff ?? true,
      });
    } catch (e) {
      if (platform.onSpawnFailure === 'throw') throw e;
      singleThreadReason = `the worker threads could not start (${(e as Error).message})`;
    }
  }
  const backend = new WasmBackend(kernels, heap, pool, {
    name: options.name ?? 'wasm',
    threadThreshold: options.threadThreshold ?? 1e6,
    tmp,
    singleThreadReason,
    simd: relaxed ? 'relaxed' : 'plain',
    collector: options.reclaim === false ? null : platform.collector?.() ?? null,
  });
  warmUp(backend);
  return backend;
}

/**
 * Whether to run the relaxed-SIMD build: per options.relaxedSimd; for 'auto', where it compiles
 * and the MNIST product (100×784)·(784×50) runs at least 5% faster with it than with the plain
 * build (best of 10 alternating trials on one thread, ~15 ms). Measured, not assumed: relaxed_madd
 * is one fused multiply-add on some cores and no gain (or a loss) on others.
 */
async function useRelaxedSimd(platform: Platform, options: WasmBackendOptions): Promise<boolean> {
  const want = options.relaxedSimd ?? 'auto';
  if (want === false) return false;
  if (!platform.enableRelaxedSimd) {
    if (want === true) throw new Error('wasm backend: relaxedSimd: true, but this platform has no relaxed-SIMD build (Node only)');
    return false;
  }
  platform.enableRelaxedSimd();
  let relaxedModule: WebAssembly.Module;
  try {
    relaxedModule = await platform.loadModule('kernels-relaxed.wasm', options.wasmBaseUrl);
  } catch (e) {
    if (want === true) throw new Error(`wasm backend: relaxedSimd: true, but the relaxed-SIMD kernels do not load here: ${(e as Error).message}`);
    return false;
  }
  if (want === true) return true;
  const plainModule = await platform.loadModule('kernels.wasm', options.wasmBaseUrl);
  const trials = [await trialBackend(plainModule), await trialBackend(relaxedModule)];
  const best = [Infinity, Infinity];
  for (let round = 0; round < 10; round++) {
    for (const i of round % 2 === 0 ? [0, 1] : [1, 0]) best[i] = Math.min(best[i], trials[i]());
  }
  return best[1] < 0.95 * best[0];
}

/** A one-thread backend on its own small memory, returning a timer of 3 MNIST products (ms). */
async function trialBackend(module: WebAssembly.Module): Promise<() => number> {
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES });
  const kernels = (await WebAssembly.instantiate(module, { env: { memory } })).exports as unknown as KernelExports;
  const heap = new Heap(memory, kernels.heapBase(), MAX_PAGES);
  const backend = new WasmBackend(kernels, heap, null, { name: 'trial', threadThreshold: Infinity, tmp: heap.alloc(TMP_BYTES_PER_THREAD) });
  const [m, k, n] = [100, 784, 50];
  const [a, b, c] = [backend.alloc(m * k, 'float32'), backend.alloc(k * n, 'float32'), backend.alloc(m * n, 'float32')];
  a.data.forEach((_, i, d) => (d[i] = Math.sin(i)));
  b.data.forEach((_, i, d) => (d[i] = Math.cos(i)));
  const product = () => backend.matmul(a.data, b.data, c.data, m, k, n, false, false, false);
  for (let i = 0; i < 20; i++) product(); // past V8's baseline tier
  return () => {
    const t = performance.now();
    for (let i = 0; i < 3; i++) product();
    return performance.now() - t;
  };
}

/**
 * A few small products, so that V8 moves the matrix kernels from its baseline compiler to its
 * optimising one (about 3× faster) before the first real product rather than during it (~1 ms).
 */
function warmUp(backend: WasmBackend): void {
  const s = 32;
  const a = backend.alloc(s * s, 'float32');
  const b = backend.alloc(s * s, 'float32');
  const c = backend.alloc(s * s, 'float32');
  for (let i = 0; i < 32; i++) backend.matmul(a.data, b.data, c.data, s - (i & 3), s, s - (i & 7), (i & 1) === 1, (i & 2) === 2, false);
  for (const storage of [a, b, c]) backend.free(storage);
}
