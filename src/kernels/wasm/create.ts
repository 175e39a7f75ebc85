/**
 * Creating the WebAssembly SIMD backend on a platform: the part shared by Node (index.ts, with
 * platform.node.ts) and browsers (browser.ts, with platform.browser.ts). Platform-neutral: no
 * `node:` import here, nor in anything this imports.
 */
import { type Collector, Heap } from './Heap.js';
import { type KernelFile, canWait, sharedMemoryMissing, wasmSimdSupported } from './support.js';
import { type SpawnWorker, type SpawnWorkerSync, ThreadPool, controlBytes } from './threads.js';
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

/** What createBackendSync needs: the same as Platform, answered without waiting (Node). */
export interface SyncPlatform {
  cores(): number;
  workersMissing(): string | null;
  loadModule(file: KernelFile, baseUrl?: string | URL): WebAssembly.Module;
  spawnWorker: SpawnWorkerSync;
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
  checkSimd();
  const plan = threadPlan(options.threads ?? Math.min(2, await platform.cores()), await platform.workersMissing());
  const relaxed = await useRelaxedSimd(platform, options, plan.threads > 1);
  const module = await platform.loadModule(kernelFile(plan.threads > 1, relaxed), options.wasmBaseUrl);
  const memory = newMemory(plan.threads);
  const parts = layOut(memory, (await WebAssembly.instantiate(module, { env: { memory } })).exports, plan.threads);
  warmUp(module, plan.threads > 1);
  let pool: ThreadPool | null = null;
  if (parts.control !== null) {
    try {
      pool = await ThreadPool.start(platform.spawnWorker, module, memory, parts.control, parts.tmp, plan.threads, poolOptions(options));
    } catch (e) {
      if (platform.onSpawnFailure === 'throw') throw e;
      plan.reason = `the worker threads could not start (${(e as Error).message})`;
    }
  }
  return finish(parts, pool, plan.reason, options, relaxed, platform);
}

/**
 * As createBackend, without waiting: the module is read and compiled synchronously and the
 * caller blocks (Atomics.wait) until its worker threads are ready. For Node, where the default
 * backend is made on first use.
 */
export function createBackendSync(platform: SyncPlatform, options: WasmBackendOptions = {}): WasmBackend {
  checkSimd();
  const plan = threadPlan(options.threads ?? Math.min(2, platform.cores()), platform.workersMissing());
  const relaxed = useRelaxedSimdSync(platform, options, plan.threads > 1);
  const module = platform.loadModule(kernelFile(plan.threads > 1, relaxed), options.wasmBaseUrl);
  const memory = newMemory(plan.threads);
  const parts = layOut(memory, new WebAssembly.Instance(module, { env: { memory } }).exports, plan.threads);
  warmUp(module, plan.threads > 1);
  const pool = parts.control === null ? null
    : ThreadPool.startSync(platform.spawnWorker, module, memory, parts.control, parts.tmp, plan.threads, poolOptions(options));
  return finish(parts, pool, plan.reason, options, relaxed, platform);
}

function checkSimd(): void {
  if (!wasmSimdSupported()) {
    throw new Error('wasm backend: this JavaScript engine does not support WebAssembly SIMD; use the js backend');
  }
}

/** The threads to start (1 where shared memory, Atomics.wait or workers are missing) and why not more. */
function threadPlan(requested: number, workersMissing: string | null): { threads: number; reason: string | null } {
  const threads = Math.max(1, Math.floor(requested));
  if (threads === 1) return { threads, reason: null };
  const reason = sharedMemoryMissing()
    ?? (canWait ? null : 'this thread may not block in Atomics.wait (a browser\'s main thread); create the backend in a Worker for threads')
    ?? workersMissing;
  return reason === null ? { threads, reason } : { threads: 1, reason };
}

const newMemory = (threads: number): WebAssembly.Memory =>
  new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared: threads > 1 });

interface Parts { kernels: KernelExports; heap: Heap; tmp: number; control: number | null }

/** The heap over the instance's memory, and the blocks that live as long as the backend: edge-tile scratch per thread, the threads' control block. */
function layOut(memory: WebAssembly.Memory, exports: WebAssembly.Exports, threads: number): Parts {
  const kernels = exports as unknown as KernelExports;
  const heap = new Heap(memory, kernels.heapBase(), MAX_PAGES);
  const tmp = heap.alloc(TMP_BYTES_PER_THREAD * threads);
  return { kernels, heap, tmp, control: threads > 1 ? heap.alloc(controlBytes(threads)) : null };
}

const poolOptions = (options: WasmBackendOptions) => ({
  spin: options.spin ?? 10000,
  timeoutMs: options.workerTimeoutMs ?? 2000,
  backOff: options.threadBackOff ?? true,
});

function finish(
  parts: Parts, pool: ThreadPool | null, singleThreadReason: string | null, options: WasmBackendOptions,
  relaxed: boolean, platform: { collector?(): Collector | null },
): WasmBackend {
  return new WasmBackend(parts.kernels, parts.heap, pool, {
    name: options.name ?? 'wasm',
    threadThreshold: options.threadThreshold ?? 1e6,
    tmp: parts.tmp,
    singleThreadReason,
    simd: relaxed ? 'relaxed' : 'plain',
    collector: options.reclaim === false ? null : platform.collector?.() ?? null,
  });
}

/** The kernel module for a shared (threads) or plain memory, built with relaxed SIMD or not. */
const kernelFile = (shared: boolean, relaxed: boolean): KernelFile =>
  relaxed ? (shared ? 'kernels-relaxed-shared.wasm' : 'kernels-relaxed.wasm') : (shared ? 'kernels-shared.wasm' : 'kernels.wasm');

/**
 * Whether to run the relaxed-SIMD build: per options.relaxedSimd; for 'auto', where it compiles
 * and the three products of an MNIST training step run at least 1% faster with it than with the
 * plain build (see measureRelaxed; the best of alternating trials, so where both builds are as
 * fast either may win). Measured, not assumed: relaxed_madd is one fused multiply-add on
 * some cores and no gain (or a loss) on others. The trial runs the two builds for the memory the
 * backend will have (`shared`: the thread pool's), so that the one it picks is compiled already:
 * each build takes ~75-130 ms to compile (eagerCompile.node.ts), a third compile was ~25% of a
 * 2-thread backend's start. Once per process and folder of builds (see verdicts).
 */
async function useRelaxedSimd(platform: Platform, options: WasmBackendOptions, shared: boolean): Promise<boolean> {
  const want = relaxedWanted(platform, options);
  if (!want) return false;
  let relaxedModule: WebAssembly.Module;
  try {
    relaxedModule = await platform.loadModule(kernelFile(shared, true), options.wasmBaseUrl);
  } catch (e) {
    return relaxedMissing(want, e);
  }
  if (want === true) return true;
  const key = verdictKey(options);
  return verdicts.get(key) ?? remember(key, measureRelaxed(await platform.loadModule(kernelFile(shared, false), options.wasmBaseUrl), relaxedModule, shared));
}

/** As useRelaxedSimd, without waiting (Node's backend made on first use). */
function useRelaxedSimdSync(platform: SyncPlatform, options: WasmBackendOptions, shared: boolean): boolean {
  const want = relaxedWanted(platform, options);
  if (!want) return false;
  let relaxedModule: WebAssembly.Module;
  try {
    relaxedModule = platform.loadModule(kernelFile(shared, true), options.wasmBaseUrl);
  } catch (e) {
    return relaxedMissing(want, e);
  }
  if (want === true) return true;
  const key = verdictKey(options);
  return verdicts.get(key) ?? remember(key, measureRelaxed(platform.loadModule(kernelFile(shared, false), options.wasmBaseUrl), relaxedModule, shared));
}

/** options.relaxedSimd where the platform can compile relaxed SIMD (enabled here), else false. */
function relaxedWanted(platform: { enableRelaxedSimd?(): void }, options: WasmBackendOptions): boolean | 'auto' {
  const want = options.relaxedSimd ?? 'auto';
  if (want === false) return false;
  if (!platform.enableRelaxedSimd) {
    if (want === true) throw new Error('wasm backend: relaxedSimd: true, but this platform has no relaxed-SIMD build (Node only)');
    return false;
  }
  platform.enableRelaxedSimd();
  return want;
}

function relaxedMissing(want: boolean | 'auto', e: unknown): false {
  if (want === true) throw new Error(`wasm backend: relaxedSimd: true, but the relaxed-SIMD kernels do not load here: ${(e as Error).message}`);
  return false;
}

/**
 * The trials' verdicts, one per folder of builds (options.wasmBaseUrl; '' for the default): the
 * trial runs once per process, whichever memory its first backend has (a one-thread backend and
 * a 2-thread one then get the same build: the two memories run the same code at the same speed).
 */
const verdicts = new Map<string, boolean>();
const verdictKey = (options: WasmBackendOptions): string => String(options.wasmBaseUrl ?? '');
const remember = (key: string, verdict: boolean): boolean => {
  verdicts.set(key, verdict);
  return verdict;
};

/** Best of 10 to 60 alternating trials on one thread (~20-70 ms): the relaxed build ≥ 1% faster on the MNIST products. */
function measureRelaxed(plainModule: WebAssembly.Module, relaxedModule: WebAssembly.Module, shared: boolean): boolean {
  const trials = [trialBackend(plainModule, shared), trialBackend(relaxedModule, shared)];
  const best = [Infinity, Infinity];
  // At least 10 rounds, then on until neither best has improved for 6 rounds and the two are
  // within 1.5× of each other (V8's optimised code may arrive late, its compiler running in the
  // background: a build still on baseline code is 2–4× slower, never a real difference between
  // the two builds), at most 60.
  let lastGain = 0;
  const settled = () => Math.max(best[0], best[1]) < 1.5 * Math.min(best[0], best[1]);
  for (let round = 0; round < 60 && (round < 10 || round - lastGain < 6 || !settled()); round++) {
    for (const i of round % 2 === 0 ? [0, 1] : [1, 0]) {
      const t = trials[i].time();
      if (t < 0.99 * best[i]) lastGain = round;
      best[i] = Math.min(best[i], t);
    }
  }
  for (const trial of trials) trial.free();
  return best[1] < 0.99 * best[0];
}

/**
 * The process's CPU time in ms where the platform tells it (Node: not advanced while other
 * processes hold the core, which a shared machine's wall clock is), else the wall clock.
 */
function clock(): () => number {
  const cpuUsage = (globalThis as { process?: { cpuUsage?(): { user: number; system: number } } }).process?.cpuUsage;
  if (typeof cpuUsage !== 'function') return () => performance.now();
  return () => {
    const u = cpuUsage();
    return (u.user + u.system) / 1000;
  };
}

/**
 * The three products of an MNIST training step, as the layers call them: x·W1 (100×784)·(784×50),
 * dW1 = xᵀ·dout and dx = dout·W1ᵀ (the builds differ most on the last two: one product alone can
 * hide a gain), on a one-thread backend of `module` over its own small memory (shared where the
 * module imports a shared one): `run` runs the three once. `free` gives its arrays back at once
 * (and unregisters them from the backend's FinalizationRegistry) rather than leaving them to the
 * garbage collector.
 */
function mnistProducts(module: WebAssembly.Module, shared: boolean): { run(): void; free(): void } {
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared });
  const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
  const heap = new Heap(memory, kernels.heapBase(), MAX_PAGES);
  const backend = new WasmBackend(kernels, heap, null, { name: 'trial', threadThreshold: Infinity, tmp: heap.alloc(TMP_BYTES_PER_THREAD) });
  const [rows, inputs, hidden] = [100, 784, 50];
  const x = backend.alloc(rows * inputs, 'float32');
  const w = backend.alloc(inputs * hidden, 'float32');
  const d = backend.alloc(rows * hidden, 'float32');
  const out = backend.alloc(rows * inputs, 'float32'); // the largest result, dx: (100×784)
  x.data.forEach((_, i, v) => (v[i] = Math.sin(i)));
  w.data.forEach((_, i, v) => (v[i] = Math.cos(i)));
  d.data.forEach((_, i, v) => (v[i] = Math.sin(0.5 * i)));
  return {
    run() {
      backend.matmul(x.data, w.data, out.data, rows, inputs, hidden, false, false, false); // x · W1
      backend.matmul(x.data, d.data, out.data, inputs, rows, hidden, true, false, false); // xᵀ · dout
      backend.matmul(d.data, w.data, out.data, rows, hidden, inputs, false, true, false); // dout · W1ᵀ
    },
    free() {
      for (const storage of [x, w, d, out]) backend.free(storage);
    },
  };
}

/** A timer (ms) of mnistProducts on a one-thread backend of `module` (over a shared memory where `shared`), after 5 untimed runs. */
function trialBackend(module: WebAssembly.Module, shared: boolean): { time(): number; free(): void } {
  const products = mnistProducts(module, shared);
  for (let i = 0; i < 5; i++) products.run(); // V8 moves the kernels to its optimising compiler (the rounds wait for it)
  const now = clock();
  return {
    time() {
      const t = now();
      products.run();
      return now() - t;
    },
    free: products.free,
  };
}

/**
 * Before the backend's first product (and before its thread pool starts): the products of
 * mnistProducts twice on this thread, with the backend's module. V8 runs a module's new
 * functions on baseline (Liftoff) code, about 3× slower, and compiles the hot ones for its
 * optimising compiler in the background once they have run enough; the optimized code then
 * serves every thread. Started here, that compile overlaps the workers' start (~50 ms, this
 * thread waiting) instead of the first products on two threads, where both cores are busy: the
 * first 100 (100×784)·(784×50) products on 2 threads took 40-60 ms without it, ~15 ms with it
 * (80 µs each once optimized). Node compiles every module optimized already
 * (eagerCompile.node.ts), so there this only runs the products (11–16 ms of a 2-thread start);
 * skipping it in Node measured no faster (book run 0.918 s with it against 1.002 without, and
 * 1.069 against 1.114: medians of 8 and 10 pairs on a loaded machine), so it runs everywhere.
 */
function warmUp(module: WebAssembly.Module, shared: boolean): void {
  const products = mnistProducts(module, shared);
  for (let i = 0; i < 2; i++) products.run();
  products.free();
}
