/**
 * Storage handed back by autograd (the last step's intermediate results at Model.cleargrads,
 * intermediate gradients and temporaries during backward), kept for the next step's operations
 * to write their outputs into: a training loop that rebuilds its graph every step then makes
 * no new storage, as the hand-written layers reuse their buffers. Only backends that can free
 * storage (WebAssembly) pool it; on the js backend the garbage collector does the job.
 */
import type { Backend, Storage } from '../kernels/Backend.js';
import { Tensor } from '../tensor/Tensor.js';

/** Storages kept per backend, dtype and length; beyond this many, storage is freed. */
const MAX_PER_SIZE = 16;

type Freeing = Backend & { free?: (s: Storage) => void };
/** Per backend: dtype → length → storages. */
const pools = new WeakMap<Backend, Record<string, Map<number, Storage[]>>>();
/** The storages in the pools (each may be in at most one place). */
const pooled = new Set<Storage>();

/** Gives t's storage to the pool (nothing may use t afterwards). */
export function recycle(t: Tensor): void {
  const backend = t.backend as Freeing;
  const s = t.storage;
  if (!backend.free || s.length === 0 || pooled.has(s)) return;
  let byDtype = pools.get(backend);
  if (!byDtype) pools.set(backend, (byDtype = {}));
  const byLength = (byDtype[s.dtype] ??= new Map());
  let list = byLength.get(s.length);
  if (!list) byLength.set(s.length, (list = []));
  if (list.length >= MAX_PER_SIZE) {
    backend.free(s);
    return;
  }
  pooled.add(s);
  list.push(s);
}

/**
 * A tensor of `shape` with like's dtype and backend, made from pooled storage (holding old
 * values: only for an output the operation writes whole), or null when none is pooled.
 */
export function pooledTensor(shape: readonly number[], like: Tensor): Tensor | null {
  const byLength = pools.get(like.backend)?.[like.dtype];
  if (!byLength) return null;
  let size = 1;
  for (const d of shape) size *= d;
  const s = byLength.get(size)?.pop();
  if (!s) return null;
  pooled.delete(s);
  return new Tensor(shape, s, like.backend);
}
