/**
 * The WebAssembly SIMD backend: the public entry points.
 *
 * @example
 * import { createWasmBackend } from './kernels/wasm/index.js';
 * import { registerBackend, setBackend } from './kernels/registry.js';
 * registerBackend(await createWasmBackend());   // name 'wasm', 2 threads where possible
 * setBackend('wasm');
 */
import type { Backend } from '../Backend.js';
import { Heap } from './Heap.js';
import { loadKernelModule, sharedMemorySupported, wasmSimdSupported } from './loader.js';
import { ThreadPool, controlBytes } from './threads.js';
import { TMP_BYTES_PER_THREAD, WasmBackend, type KernelExports } from './WasmBackend.js';

export { wasmSimdSupported } from './loader.js';
export { WasmNotBuiltError } from './loader.js';
export { WasmWorkerError } from './threads.js';
export type { WasmBackend } from './WasmBackend.js';

/** Options of createWasmBackend. */
export interface WasmBackendOptions {
  /**
   * Threads for large matrix products, the caller's included: 1, or 2 (one worker joins the
   * caller). Default: 2, or 1 on a single core. Falls back to 1 where SharedArrayBuffer or
   * worker_threads are unavailable. More than 2 works, but the backend is tuned for 2 cores.
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
}

/** 64 KiB pages: the initial memory, and the most a wasm32 memory can have. */
const INITIAL_PAGES = 32;
const MAX_PAGES = 65536;

/**
 * Creates the WebAssembly SIMD backend.
 *
 * @throws Error if this engine lacks WebAssembly SIMD; WasmNotBuiltError if `npm run build:wasm` has not run.
 * @example
 * const backend = await createWasmBackend({ threads: 1 });
 * backend.name; // 'wasm'
 */
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackend> {
  if (!wasmSimdSupported()) {
    throw new Error('wasm backend: this JavaScript engine does not support WebAssembly SIMD; use the js backend');
  }
  let threads = Math.max(1, Math.floor(options.threads ?? Math.min(2, await cores())));
  if (threads > 1 && !(sharedMemorySupported() && (await workerThreadsAvailable()))) threads = 1;
  const shared = threads > 1;
  const module = await loadKernelModule(shared ? 'kernels-shared.wasm' : 'kernels.wasm');
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const kernels = instance.exports as unknown as KernelExports;
  const heap = new Heap(memory, kernels.heapBase(), MAX_PAGES);
  // Blocks that live as long as the backend: edge-tile scratch per thread, the threads' control block.
  const tmp = heap.alloc(TMP_BYTES_PER_THREAD * threads);
  let pool: ThreadPool | null = null;
  if (shared) {
    const control = heap.alloc(controlBytes(threads));
    pool = await ThreadPool.start(module, memory, control, tmp, threads, {
      spin: options.spin ?? 10000,
      timeoutMs: options.workerTimeoutMs ?? 2000,
      backOff: options.threadBackOff ?? true,
    });
  }
  const backend = new WasmBackend(kernels, heap, pool, {
    name: options.name ?? 'wasm',
    threadThreshold: options.threadThreshold ?? 1e6,
    tmp,
  });
  warmUp(backend);
  return backend;
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

/**
 * The wasm backends the kernel test suite runs against: one thread (named 'wasm') and two
 * threads (named 'wasm-2t', so test titles tell them apart), with a threshold of 0 and no
 * back-off so that the threaded path runs on every size of the suite.
 */
export async function createTestBackends(): Promise<Backend[]> {
  return [
    await createWasmBackend({ threads: 1 }),
    await createWasmBackend({ threads: 2, name: 'wasm-2t', threadThreshold: 0, threadBackOff: false }),
  ];
}

/** Cores this process may use. */
async function cores(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  try {
    const os = await import('node:os');
    return os.availableParallelism?.() ?? os.cpus().length;
  } catch {
    return 1;
  }
}

async function workerThreadsAvailable(): Promise<boolean> {
  try {
    await import('node:worker_threads');
    return true;
  } catch {
    return false;
  }
}
