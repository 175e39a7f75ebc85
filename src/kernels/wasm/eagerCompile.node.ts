/**
 * How Node compiles the kernel modules: every function before it is first called, rather than
 * each on its first call by the baseline compiler (Liftoff) and later, once it has run enough,
 * by the optimizing one (TurboFan) in the background.
 *
 * The one-thread modules (kernels.wasm, kernels-relaxed.wasm) by TurboFan, before the compile
 * returns (compileOptimized). Why: create.ts times the two builds (relaxed SIMD or not) against
 * each other, these two for a one-thread backend (the shared ones for a 2-thread backend's),
 * and then runs the one it picked. Compiled lazily, the trial
 * timed whatever tier each build happened to be on: measured here, 1 start in 3 ended with the
 * relaxed build still on Liftoff code (1.78 ms against 0.41 for the three products) and picked
 * the plain build, ~10% slower products for that whole process; and the trial's warm-up on
 * Liftoff code took 90–125 ms. Eagerly compiled, each module takes ~40 ms to compile and the
 * trial times optimized code from its first round.
 *
 * The thread pool's shared modules (kernels-shared.wasm, kernels-relaxed-shared.wasm) the same
 * way. They were compiled by Liftoff before the compile returned and left to tier up in the
 * background (--no-wasm-dynamic-tiering), which did not always happen soon: measured on
 * 2026-12-02 (6 processes each way, alternating), a new 2-thread backend's first dozen
 * (200×200)² products ran at 4–14 GFLOPS in 4 of the 6 processes (one thread: 55); compiled
 * optimized at once, at 35–56 in most of them in all 6 (dips to 16–19 remain: the JavaScript
 * around the pool warming up). Its (1000×1000)² products: the same either way (the first
 * 55–81 GFLOPS, then 80–105). The cost: ~30–40 ms more of createWasmBackend (252–399 ms against
 * 226–259, 4 processes each, noisy); the book run on 2 threads measured the same (medians 1.10
 * and 1.11 s of 8 alternating pairs). Before that they were compiled lazily, each kernel moving to TurboFan only
 * once hot, in the first training steps, whose two threads keep both cores busy: the compiler
 * waited for a core while the kernels ran on Liftoff code, ~2× slower.
 *
 * How: V8's --no-wasm-lazy-compilation with --no-liftoff, set around one synchronous
 * `new WebAssembly.Module` and set back at once (the flags are read when a compile starts; lazy
 * compilation is on by default, so --no-liftoff alone compiles nothing up front). Left alone
 * where this process was started with its own choice of either flag.
 */
import v8 from 'node:v8';

const FLAG = /^--(no-)?(liftoff|wasm-lazy-compilation)$/;

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

