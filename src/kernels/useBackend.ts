import type { Backend } from './Backend.js';
import { registerBackend, setBackend } from './registry.js';

/** Which kernels to use: the fastest that loads, the TypeScript reference, or WebAssembly SIMD. */
export type BackendChoice = 'auto' | 'js' | 'wasm';

/** Threads, the fallback report, and how the WebAssembly backend is made. */
export interface UseBackendOptions {
  /** Threads of the WebAssembly backend's large matrix products (default 2 where possible). */
  threads?: number;
  /** Told why 'auto' fell back to 'js' (default: one line on the console). */
  onFallback?: (reason: string) => void;
  /** How to make the WebAssembly backend (default: the browser build, ./wasm/browser.ts, or in Node the Node build the package's Node entry sets); for other builds and tests. */
  createWasm?: (options: { threads?: number }) => Promise<Backend>;
}

/** The WebAssembly backend's maker for this platform: browsers' by default (a chunk bundlers split off). */
let createPlatformWasm = async (o: { threads?: number }): Promise<Backend> => (await import('./wasm/browser.js')).createWasmBackend(o);

/** Sets how useBackend makes the WebAssembly backend (the package's Node entry sets Node's). @internal */
export function setWasmFactory(create: (options: { threads?: number }) => Promise<Backend>): void {
  createPlatformWasm = create;
}

/**
 * Make a backend the default for new tensors and return it. 'auto' loads the WebAssembly SIMD
 * backend where the engine supports it and falls back to the TypeScript one, saying why;
 * 'wasm' fails with the reason instead; 'js' picks the plain TypeScript kernels.
 *
 * In Node the package's default is already WebAssembly (made on first use); in a browser,
 * where compiling it needs an `await`, call this once before building networks. For two
 * threads in a browser, call it in a Web Worker of a cross-origin-isolated page.
 *
 * @example
 * ```ts
 * import { useBackend, TwoLayerNet } from 'backprop-ts';
 *
 * const backend = await useBackend('auto');    // 'wasm' where WebAssembly SIMD loads, else 'js'
 * const net = new TwoLayerNet(784, 50, 10);     // then build networks as usual: they use it
 * console.log(backend.name, net.params.W1.backend === backend);
 * ```
 */
export async function useBackend(choice: BackendChoice = 'auto', options: UseBackendOptions = {}): Promise<Backend> {
  if (choice === 'js') return setBackend('js');
  try {
    const create = options.createWasm ?? createPlatformWasm;
    const backend = await create({ threads: options.threads });
    registerBackend(backend);
    return setBackend(backend.name);
  } catch (e) {
    if (choice === 'wasm') throw e;
    const reason = `the WebAssembly backend is unavailable (${(e as Error).message}); using the js backend`;
    (options.onFallback ?? ((r: string) => console.warn(`backprop-ts: ${r}`)))(reason);
    return setBackend('js');
  }
}
