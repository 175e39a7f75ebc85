/**
 * The WebAssembly SIMD backend: the public entry points, for browsers. The same backend as
 * index.ts (Node), with the pool's threads in module Web Workers and the kernel modules fetched
 * by URL; nothing here imports `node:`.
 *
 * Two threads need a cross-origin-isolated page (COOP + COEP headers) and a caller in a Worker
 * (a page's main thread may not block in Atomics.wait); elsewhere the backend runs on one
 * thread and `singleThreadReason` says why. A Content-Security-Policy must allow
 * 'wasm-unsafe-eval' in script-src.
 *
 * Bundling: the kernel modules are `./generated/kernels.wasm` and `./generated/kernels-shared.wasm`
 * and the thread script `./generated/threadWorker.js`, each read as `new URL(..., import.meta.url)`
 * (Vite and webpack emit them with the app), or from the `wasmBaseUrl` and `workerUrl` options;
 * with esbuild, copy the package's dist/kernels/wasm/generated/ beside the bundle as generated/.
 *
 * @example
 * // in a module Web Worker of a cross-origin-isolated page
 * import { createWasmBackend } from '../src/kernels/wasm/browser.js';
 * import { registerBackend, setBackend } from '../src/kernels/registry.js';
 * const backend = await createWasmBackend();
 * registerBackend(backend);
 * setBackend(backend.name);
 * backend.threads; // 2 (or 1, and backend.singleThreadReason says why)
 */
import { type WasmBackendOptions, createBackend } from './create.js';
import { browserPlatform } from './platform.browser.js';
import type { WasmBackend } from './WasmBackend.js';

export { sharedMemorySupported, wasmSimdSupported, WasmNotBuiltError } from './support.js';
export { WasmWorkerError } from './threads.js';
export type { WasmBackend } from './WasmBackend.js';
export type { WasmBackendOptions } from './create.js';

/** Options of the browser's createWasmBackend. */
export interface BrowserWasmBackendOptions extends WasmBackendOptions {
  /** The script of the pool's threads (generated/threadWorker.js, copied); default `./generated/threadWorker.js` beside this module. */
  workerUrl?: string | URL;
}

/**
 * Creates the WebAssembly SIMD backend in a browser. If the thread workers cannot start, it
 * runs on one thread rather than failing (see `singleThreadReason`).
 *
 * @throws Error if this engine lacks WebAssembly SIMD; WasmNotBuiltError if a kernel module cannot be fetched;
 *   a CompileError if the page's Content-Security-Policy forbids WebAssembly.
 */
export function createWasmBackend(options: BrowserWasmBackendOptions = {}): Promise<WasmBackend> {
  return createBackend(browserPlatform({ workerUrl: options.workerUrl }), options);
}
