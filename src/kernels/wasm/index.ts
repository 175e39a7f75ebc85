/**
 * The WebAssembly SIMD backend: the public entry points, for Node. Browsers import
 * browser.ts instead (same API, module Web Workers, no `node:` import); both create the backend
 * through create.ts.
 *
 * @example
 * import { createWasmBackend } from './kernels/wasm/index.js';
 * import { registerBackend, setBackend } from './kernels/registry.js';
 * registerBackend(await createWasmBackend());   // name 'wasm', 2 threads where possible
 * setBackend('wasm');
 */
import type { Backend } from '../Backend.js';
import { type WasmBackendOptions, createBackend, createBackendSync } from './create.js';
import { nodePlatform, nodeSyncPlatform } from './platform.node.js';
import type { WasmBackend } from './WasmBackend.js';

export { wasmSimdSupported, WasmNotBuiltError } from './support.js';
export { WasmWorkerError } from './threads.js';
export type { WasmBackend } from './WasmBackend.js';
export type { WasmBackendOptions } from './create.js';

/**
 * Creates the WebAssembly SIMD backend.
 *
 * @throws Error if this engine lacks WebAssembly SIMD; WasmNotBuiltError if `npm run build:wasm` has not run.
 * @example
 * const backend = await createWasmBackend({ threads: 1 });
 * backend.name; // 'wasm'
 */
export function createWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackend> {
  return createBackend(nodePlatform, options);
}

/**
 * Creates the WebAssembly SIMD backend without waiting: the kernels are read and compiled
 * synchronously (Node allows it for any size) and the call blocks until the worker thread is
 * ready (tens of ms). This is how the package's Node entry makes its default backend on first use.
 *
 * @throws as createWasmBackend
 */
export function createWasmBackendSync(options: WasmBackendOptions = {}): WasmBackend {
  return createBackendSync(nodeSyncPlatform, options);
}

/**
 * The wasm backends the kernel test suite runs against: one thread (named 'wasm') and two
 * threads (named 'wasm-2t', so test titles tell them apart) of the plain SIMD build, and two
 * threads and one of the relaxed-SIMD build ('wasm-relaxed-2t', 'wasm-relaxed') where the engine compiles it; the
 * threaded ones with a threshold of 0 and no back-off so that the threaded path runs on every
 * size of the suite.
 */
export async function createTestBackends(): Promise<Backend[]> {
  const list: Backend[] = [
    await createWasmBackend({ threads: 1, relaxedSimd: false }),
    await createWasmBackend({ threads: 2, name: 'wasm-2t', threadThreshold: 0, threadBackOff: false, relaxedSimd: false }),
  ];
  // The relaxed-SIMD build, where this engine compiles it (Node 20 with the flag create.ts sets; Node 22+).
  try {
    list.push(await createWasmBackend({ threads: 2, name: 'wasm-relaxed-2t', threadThreshold: 0, threadBackOff: false, relaxedSimd: true }));
    // and on one thread, where a product deeper than a k block packs B block by block
    list.push(await createWasmBackend({ threads: 1, name: 'wasm-relaxed', relaxedSimd: true }));
  } catch (e) {
    if (process.env.CI === 'true') throw e;
    console.warn(`wasm-relaxed-2t and wasm-relaxed skipped: ${(e as Error).message}`);
  }
  return list;
}
