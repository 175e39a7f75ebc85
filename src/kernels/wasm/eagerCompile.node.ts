/**
 * How Node compiles the kernel modules: every function before it is first called, rather than
 * each on its first call by the baseline compiler (Liftoff) and later, once it has run enough,
 * by the optimizing one (TurboFan) in the background.
 *
 * The one-thread modules (kernels.wasm, kernels-relaxed.wasm) by TurboFan, before the compile
 * returns (compileOptimized). Why: these are the two builds that create.ts times against each
 * other (relaxed SIMD or not), and then the one-thread backend's. Compiled lazily, the trial
 * timed whatever tier each build happened to be on: measured here, 1 start in 3 ended with the
 * relaxed build still on Liftoff code (1.78 ms against 0.41 for the three products) and picked
 * the plain build, ~10% slower products for that whole process; and the trial's warm-up on
 * Liftoff code took 90–125 ms. Eagerly compiled, each module takes ~40 ms to compile and the
 * trial times optimized code from its first round.
 *
 * The thread pool's shared modules by Liftoff before the compile returns (~10 ms), and by
 * TurboFan at once in the background, all of them (compileTieringUp): ~70 ms of compiling that
 * then overlaps the workers' start and the caller's loading of data, where a core is free.
 * Why: compiled lazily, each kernel moved to TurboFan only once hot, i.e. during the first
 * training steps, whose two threads keep both cores busy: the compiler waited for a core while
 * the kernels ran on Liftoff code, ~2× slower. Measured (2 threads, the book run's first 1,000
 * iterations against a second run in the same process): 198 / 139 / 106 ms slower lazily, 143 /
 * 58 / 112 so (the rest: V8 optimizing the JavaScript around the kernels on those same cores,
 * see the README's speed section); axpy on Liftoff code was still 1.6× slower 800 ms after the
 * start in 1 of 2 trials. TurboFan before returning, as for the one-thread modules, would block
 * the start for those ~70 ms instead.
 *
 * How: V8's --no-wasm-lazy-compilation with --no-liftoff (one-thread) or --no-wasm-dynamic-tiering
 * (shared), set around one synchronous `new WebAssembly.Module` and set back at once (the flags
 * are read when a compile starts; lazy compilation is on by default, so --no-liftoff alone
 * compiles nothing up front). Left alone where this process was started with its own choice of
 * any of these flags.
 */
import v8 from 'node:v8';
import type { KernelFile } from './support.js';

const FLAG = /^--(no-)?(liftoff|wasm-lazy-compilation|wasm-dynamic-tiering)$/;

/** This process was started with its own choice of these flags (its command line or NODE_OPTIONS). */
const ownChoice = (): boolean => [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => FLAG.test(a));

/** `new WebAssembly.Module(bytes)` with `flags` set for that compile only. */
function compileWith(bytes: BufferSource, flags: string[]): WebAssembly.Module {
  if (ownChoice()) return new WebAssembly.Module(bytes);
  try {
    for (const flag of flags) v8.setFlagsFromString(`--no-${flag}`);
    return new WebAssembly.Module(bytes);
  } finally {
    for (const flag of flags) v8.setFlagsFromString(`--${flag}`);
  }
}

/** `new WebAssembly.Module(bytes)`, every function compiled by TurboFan before it returns. */
export const compileOptimized = (bytes: BufferSource): WebAssembly.Module => compileWith(bytes, ['liftoff', 'wasm-lazy-compilation']);

/** `new WebAssembly.Module(bytes)`, every function compiled by Liftoff before it returns and by TurboFan in the background from then on. */
export const compileTieringUp = (bytes: BufferSource): WebAssembly.Module => compileWith(bytes, ['wasm-dynamic-tiering', 'wasm-lazy-compilation']);

/** How `file` is compiled: the modules of a plain memory optimized at once, the shared ones tiering up in the background. */
export const compilerFor = (file: KernelFile): ((bytes: BufferSource) => WebAssembly.Module) =>
  file.endsWith('-shared.wasm') ? compileTieringUp : compileOptimized;
