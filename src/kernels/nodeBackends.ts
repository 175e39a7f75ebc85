/**
 * Node's kernels: the WebAssembly SIMD backend as the default on first use (compiled
 * synchronously, which Node allows), and as what useBackend('auto' | 'wasm') creates.
 * Imported for its effect by the package's Node entry (src/node.ts) and the CLI.
 * `useBackend('js')` (or `setBackend('js')`) still picks the plain TypeScript kernels.
 */
import { setDefaultBackendFactory } from './registry.js';
import { setWasmFactory } from './useBackend.js';
import { createWasmBackend, createWasmBackendSync } from './wasm/index.js';

setDefaultBackendFactory(() => createWasmBackendSync());
setWasmFactory(createWasmBackend);
