/**
 * The one-thread kernel modules (kernels.wasm, kernels-relaxed.wasm), compiled in Node by V8's
 * optimizing compiler (TurboFan), every function before the compile returns, rather than each
 * function on its first call by the baseline compiler (Liftoff) and later, when it has run
 * enough, by TurboFan in the background.
 *
 * Why: these are the two builds that create.ts times against each other (relaxed SIMD or not),
 * and then the one-thread backend's. Compiled lazily, the trial timed whatever tier each build
 * happened to be on: measured here, 1 start in 3 ended with the relaxed build still on Liftoff
 * code (1.78 ms against 0.41 for the three products) and picked the plain build, ~10% slower
 * products for that whole process; and the trial's warm-up on Liftoff code took 90–125 ms.
 * Eagerly compiled, each module takes ~40 ms to compile and the trial times optimized code from
 * its first round. (The thread pool's shared modules stay lazy: compiled eagerly, one took 54 ms
 * at start-up, as much as it saved in the first products; create.ts's warmUp starts their
 * optimizing compile instead.)
 *
 * How: V8's --no-liftoff and --no-wasm-lazy-compilation, set around one synchronous
 * `new WebAssembly.Module` and set back at once (the flags are read when a compile starts;
 * lazy compilation is on by default, so --no-liftoff alone compiles nothing up front). Left
 * alone where this process was started with its own choice of either flag.
 */
import v8 from 'node:v8';
import type { KernelFile } from './support.js';

/** Whether `file` is compiled eagerly: the modules of a plain (not shared) memory. */
export const eagerFile = (file: KernelFile): boolean => !file.endsWith('-shared.wasm');

const FLAG = /^--(no-)?(liftoff|wasm-lazy-compilation)$/;

/** This process was started with its own choice of these flags (its command line or NODE_OPTIONS). */
const ownChoice = (): boolean => [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => FLAG.test(a));

/** `new WebAssembly.Module(bytes)`, every function compiled by TurboFan before it returns. */
export function compileEager(bytes: BufferSource): WebAssembly.Module {
  if (ownChoice()) return new WebAssembly.Module(bytes);
  try {
    v8.setFlagsFromString('--no-liftoff');
    v8.setFlagsFromString('--no-wasm-lazy-compilation');
    return new WebAssembly.Module(bytes);
  } finally {
    v8.setFlagsFromString('--wasm-lazy-compilation');
    v8.setFlagsFromString('--liftoff');
  }
}
