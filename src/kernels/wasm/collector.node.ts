/**
 * Prompt reclaiming of dropped tensors in Node: a full garbage collection and a synchronous
 * FinalizationRegistry.cleanupSome, both taken from a fresh `vm` context after setting the two
 * V8 flags that install them there (`--expose-gc`, `--harmony-weak-refs-with-cleanup-some`).
 * The main context gains no `gc` global and no new method.
 *
 * Why: a WasmStorage's block goes back to the heap from a FinalizationRegistry callback, and
 * such callbacks run only between tasks, never inside a synchronous loop. The book's loop
 * (`x_batch = x_train[batch_mask]` every step) drops a 313 KB batch per step, so without this
 * the wasm memory grows without bound until the loop ends (1.3 GB after 3,500 steps, measured).
 * And V8's scavenger keeps the targets of weak cells alive: only a full collection finds them.
 * Node-only (node:v8, node:vm); browsers yield between frames, where the callbacks run.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Collector } from './Heap.js';

/** The collector, or null where this Node/V8 refuses the flags (the heap then only grows). */
export function nodeCollector(): Collector | null {
  try {
    v8.setFlagsFromString('--expose-gc');
    v8.setFlagsFromString('--harmony-weak-refs-with-cleanup-some');
    const context = vm.createContext();
    const gc = vm.runInContext('typeof gc === "function" ? gc : null', context) as (() => void) | null;
    const Registry = vm.runInContext('FinalizationRegistry', context) as Collector['Registry'];
    if (gc === null || typeof (Registry.prototype as { cleanupSome?: unknown }).cleanupSome !== 'function') return null;
    return { collect: gc, Registry };
  } catch {
    return null;
  }
}

