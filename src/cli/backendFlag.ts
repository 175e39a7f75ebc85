import type { Backend } from '../kernels/Backend.js';
import '../kernels/nodeBackends.js'; // useBackend makes Node's WebAssembly backend
import { useBackend } from '../kernels/useBackend.js';
import { choiceFlag, intFlag } from './args.js';
import type { CliIO } from './io.js';

export const BACKEND_HELP = `  --backend B         auto (default: wasm where WebAssembly SIMD loads, else js), js or wasm
  --threads N         threads of the wasm backend's large matrix products (default 2)
`;

/**
 * The kernel backend the flags ask for. 'auto' tries the WebAssembly SIMD backend and falls
 * back to the TypeScript one with one line saying why; 'wasm' insists (an error if it cannot load).
 */
export async function backendFlag(value: string | undefined, io: CliIO, threads?: string): Promise<Backend> {
  const choice = choiceFlag('backend', value, 'auto', ['auto', 'js', 'wasm'] as const);
  return useBackend(choice, {
    threads: threads === undefined ? undefined : intFlag('threads', threads, 2, 1, 64),
    onFallback: (reason) => io.err(`backprop: ${reason}\n`),
  });
}
