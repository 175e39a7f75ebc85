/**
 * Prompt reclaiming of dropped tensors in Node: a full garbage collection and a synchronous
 * FinalizationRegistry.prototype.cleanupSome, both taken from a fresh `vm` context after setting
 * the two V8 flags that install them there (`--expose-gc`, `--harmony-weak-refs-with-cleanup-some`).
 * The main context gains no `gc` global and no new method.
 *
 * Why: a WasmStorage's block goes back to the heap from a FinalizationRegistry callback, and
 * such callbacks run only between tasks, never inside a synchronous loop. The book's loop
 * (`x_batch = x_train[batch_mask]` every step) drops a 313 KB batch per step, so without this
 * the wasm memory grows without bound until the loop ends (1.3 GB after 3,500 steps, measured).
 * And V8's scavenger keeps the targets of weak cells alive: only a full collection finds them.
 * Node-only (node:v8, node:vm); browsers yield between frames, where the callbacks run.
 *
 * The registry itself stays an object of the caller's context; only the method is borrowed
 * (`cleanupSome.call(registry)`). A registry made in the vm context (as this file once did)
 * could abort Node at exit: when a collection shortly before the end had queued its cleanup
 * task, Node 20 ran that task in FreeEnvironment, where JavaScript may no longer run, and died
 * on "illegal access" (FinalizationRegistryCleanupTask). A full collection in an 'exit' handler
 * after dropping tensors did so every time; with the main context's registry, never (the test
 * "dropped tensors at exit" in test/kernels/wasm.test.ts).
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
    const cleanupSome = vm.runInContext('FinalizationRegistry.prototype.cleanupSome', context) as ((this: FinalizationRegistry<never>) => void) | undefined;
    if (gc === null || typeof cleanupSome !== 'function') return null;
    return { collect: gc, cleanupSome: (registry) => cleanupSome.call(registry) };
  } catch {
    return null;
  }
}
