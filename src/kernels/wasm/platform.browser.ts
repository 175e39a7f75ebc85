/**
 * The wasm backend's browser side: module Web Workers (threadWorker.ts, the same script as
 * Node's worker threads) for the thread pool,
 * sharing the WebAssembly.Memory through postMessage; fetch for the kernel modules;
 * navigator.hardwareConcurrency for the core count. No `node:` import, so a browser bundle can
 * include it (Node uses platform.node.ts).
 *
 * Threads need a cross-origin-isolated page (COOP + COEP headers, for SharedArrayBuffer) and a
 * caller that may block in Atomics.wait, that is a Worker: create.ts checks both and otherwise
 * runs on one thread. A page whose Content-Security-Policy sets script-src (or default-src)
 * must allow 'wasm-unsafe-eval', or the engine refuses to compile any WebAssembly.
 */
import type { Platform } from './create.js';
import { type KernelFile, compileOnce, fetchWasmFile, fileInFolder } from './support.js';
import type { PoolWorker, WorkerData } from './threads.js';

/**
 * Where each kernel module is by default: literal URLs next to this module, so that bundlers
 * that understand `new URL(..., import.meta.url)` copy the files. With esbuild, which leaves
 * them alone, they resolve next to the bundle (scripts/build-web.mjs copies them there).
 */
const kernelUrl = (file: KernelFile): URL =>
  file === 'kernels.wasm'
    ? new URL('./generated/kernels.wasm', import.meta.url)
    : new URL('./generated/kernels-shared.wasm', import.meta.url);

/**
 * A thread worker from the default script, generated/threadWorker.js beside this module
 * (threadWorker.ts bundled into one file with no imports by scripts/build-wasm.mjs). Written as one `new Worker(new URL(...), { type: 'module' })`
 * expression with static options: the form Vite and webpack recognise, so they emit the script
 * with the app (esbuild leaves the URL as it is: copy the file beside the bundle).
 */
const defaultWorker = (): Worker => new Worker(new URL('./generated/threadWorker.js', import.meta.url), { type: 'module', name: 'backprop wasm thread' });

/** How long a thread worker may take to load and instantiate the module. */
const START_TIMEOUT_MS = 20_000;

/** The page (or worker script) URL that relative URLs are read against. */
const here = (): string => (globalThis as { location?: { href: string } }).location?.href ?? import.meta.url;

/** A browser, with the thread worker's script at `workerUrl` (default: threadWorker.js beside this module). */
export function browserPlatform(options: { workerUrl?: string | URL } = {}): Platform {
  return {
    async cores() {
      return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency || 1;
    },
    async workersMissing() {
      return typeof Worker === 'function' ? null : 'Web Workers are unavailable here';
    },
    loadModule(file, baseUrl) {
      const url = baseUrl === undefined ? kernelUrl(file) : fileInFolder(file, baseUrl, here());
      return compileOnce(url.href, () => fetchWasmFile(url));
    },
    spawnWorker: (data) => {
      const url = options.workerUrl === undefined ? null : new URL(options.workerUrl, here());
      return spawnWorker(url ? () => new Worker(url, { type: 'module', name: 'backprop wasm thread' }) : defaultWorker, url?.pathname ?? 'generated/threadWorker.js', data);
    },
    onSpawnFailure: 'one-thread',
  };
}

/** Starts one thread worker; resolves once it has instantiated the module and waits for jobs. */
async function spawnWorker(start: () => Worker, script: string, data: WorkerData): Promise<PoolWorker> {
  const w = start();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      w.onmessage = (e: MessageEvent<'ready' | { error: string }>) => {
        clearTimeout(timer);
        if (e.data === 'ready') resolve();
        else reject(new Error(`thread worker: ${e.data.error}`));
      };
      w.onerror = (e) => {
        e.preventDefault(); // said by the rejection, not as an uncaught error on the console
        clearTimeout(timer);
        reject(new Error(`${script} could not be loaded${e.message ? `: ${e.message}` : ''}`));
      };
      w.postMessage(data); // the module, and the shared memory itself (not a copy)
    });
  } catch (e) {
    w.terminate();
    throw e;
  }
  w.onmessage = w.onerror = null;
  // A browser says nothing when a worker stops: terminate() says it for the pool.
  let report: (what: string) => void = () => {};
  return {
    onFailure(listener) {
      report = listener;
      w.onerror = (e) => {
        e.preventDefault();
        listener(`crashed: ${e.message}`);
      };
      w.onmessage = (e: MessageEvent<{ error?: string }>) => {
        if (e.data && e.data.error) listener(`failed: ${e.data.error}`);
      };
    },
    async terminate() {
      w.terminate();
      report('exited (terminated)');
    },
  };
}
