/**
 * The two throughput peaks of 128-bit WebAssembly SIMD on this engine and CPU, float32, one
 * thread: a bare loop of 12 independent f32x4 accumulators (bench/peak/plain.ts: mul then add;
 * the same source with each as relaxed SIMD's relaxed_madd, made here). The GEMM's GFLOPS are read against the
 * higher peak the engine allows. Compiled here with the project's AssemblyScript (a few seconds);
 * the relaxed one needs `--experimental-wasm-relaxed-simd` in Node 20, set by
 * v8.setFlagsFromString before compiling (Node 22+ has it on by default).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

export interface PeakResult {
  /** GFLOPS of mul-then-add, and of relaxed_madd (null when the engine cannot compile relaxed SIMD: `fusedError` says why). */
  plain: number | null;
  fused: number | null;
  fusedError?: string;
  plainError?: string;
}

/** FLOPs of one step of the loop: 12 accumulators × 4 lanes × (multiply + add). */
const FLOPS_PER_STEP = 12 * 4 * 2;

function compile(source: string, dir: string, relaxed: boolean): Uint8Array {
  const asc = createRequire(import.meta.url).resolve('assemblyscript/bin/asc.js');
  const out = join(dir, relaxed ? 'fused.wasm' : 'plain.wasm');
  const args = [asc, source, '-O3', '--runtime', 'stub', '--enable', 'simd', ...(relaxed ? ['--enable', 'relaxed-simd'] : []), '-o', out];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`asc failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`);
  return readFileSync(out);
}

/** Best GFLOPS of `samples` runs of ~`sampleMs` each, after a warm-up that lets V8 tier up. */
function time(bytes: Uint8Array, samples: number, sampleMs: number): number {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(bytes)), {});
  const peak = instance.exports.peak as (steps: number, m: number, c: number) => number;
  const run = (steps: number) => peak(steps, 0.999, 1e-3); // acc → 1: the values stay normal floats
  let steps = 1 << 16;
  for (;;) {
    const t = performance.now();
    run(steps);
    if (performance.now() - t >= sampleMs) break;
    steps *= 2;
  }
  let best = 0;
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    run(steps);
    best = Math.max(best, (steps * FLOPS_PER_STEP) / ((performance.now() - t) * 1e6));
  }
  return best;
}

/** Both peaks, best of `samples` (the best, not the median: a peak is what the core can do when not interrupted). */
export function measurePeaks(samples = 7, sampleMs = 40): PeakResult {
  const dir = mkdtempSync(join(tmpdir(), 'backprop-peak-'));
  const here = (f: string) => fileURLToPath(new URL(`./peak/${f}`, import.meta.url));
  const result: PeakResult = { plain: null, fused: null };
  try {
    try {
      result.plain = time(compile(here('plain.ts'), dir, false), samples, sampleMs);
    } catch (e) {
      result.plainError = (e as Error).message;
    }
    try {
      // The same loop with each mul-then-add as one relaxed_madd.
      const fused = readFileSync(here('plain.ts'), 'utf8').replace(/f32x4\.add\(f32x4\.mul\((a\d+), m\), c\)/g, 'f32x4.relaxed_madd($1, m, c)');
      if (!fused.includes('relaxed_madd')) throw new Error('bench/peak/plain.ts: no mul-then-add to fuse');
      writeFileSync(join(dir, 'fused.ts'), fused);
      const bytes = compile(join(dir, 'fused.ts'), dir, true);
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      result.fused = time(bytes, samples, sampleMs);
    } catch (e) {
      result.fusedError = (e as Error).message;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}
