/**
 * The allocator of the WebAssembly backend: blocks of the linear memory, handed out by
 * JavaScript (the AssemblyScript module itself never allocates).
 *
 * Blocks are multiples of 64 bytes (a cache line; enough for f32x4 and Float64Array alignment).
 * A freed block goes to a free list of its exact size, which is what training loops need: the
 * same shapes come back every step. When the top of the heap is reached, the free lists are
 * coalesced and searched for the best fit before the memory grows.
 *
 * Dropped tensors: the backend frees a block when its storage is garbage-collected, from a
 * FinalizationRegistry callback, and those run only between tasks, never inside a synchronous
 * training loop. So before the memory grows, when blocks of at least `reclaimBytes` have been
 * handed out since the last time, the heap asks its `reclaim` hook (a full collection plus
 * cleanupSome, where the engine allows: see collector.node.ts) to give the dropped ones back,
 * and reuses them. A loop that allocates a fresh batch every step then runs in flat memory.
 *
 * `memory.grow` detaches every view over a non-shared buffer (and gives a shared memory a new,
 * longer buffer object): `generation` counts growths so that holders of views know to re-create them.
 */
export const ALIGN = 64;
const PAGE = 65536;
/** Blocks handed out since the last reclaim before the next one may run: at least this many bytes. */
const RECLAIM_MIN_BYTES = 64 * 2 ** 20;
/**
 * The share of the time a reclaim may take: a full collection costs 2-10 ms (measured, Node 20),
 * so in a loop that drops a lot per step the byte budget between reclaims doubles (up to
 * RECLAIM_MAX_BYTES) until they take at most this share of the time between them, and halves
 * again, down to the minimum, when far below.
 */
const RECLAIM_TIME_SHARE = 0.02;
/** The most the time-share budget grows to, so that memory stays bounded whatever a collection costs. */
const RECLAIM_MAX_BYTES = 256 * 2 ** 20;

/**
 * A way to find dropped storage at once (collector.node.ts): a full garbage collection, and a
 * FinalizationRegistry whose `cleanupSome` runs the callbacks of what that collection found.
 */
export interface Collector {
  collect(): void;
  Registry: new <T>(cleanup: (held: T) => void) => FinalizationRegistry<T> & { cleanupSome(): void };
}

/** Bytes rounded up to a whole number of blocks. */
export function blockSize(bytes: number): number {
  return Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
}

export class Heap {
  /** Increases whenever the memory grows: views made under another generation are stale. */
  generation = 0;
  /** The memory's current buffer (re-read after growth). */
  buffer: ArrayBuffer | SharedArrayBuffer;

  private readonly start: number;
  /** Everything from `top` to the end of the memory is unused. */
  private top: number;
  /** Size of each live block, by address. */
  private readonly live = new Map<number, number>();
  /** Addresses of free blocks, by size. */
  private readonly free = new Map<number, number[]>();
  private live_ = 0;
  /** Bytes of the blocks handed out since the last reclaim and not yet released. */
  private held = 0;
  /**
   * Gives dropped blocks back (they come back through `release`); called before the memory
   * grows, at most once per `reclaimBytes` handed out. Null: the heap just grows.
   */
  reclaim: (() => void) | null = null;
  /** How many times `reclaim` ran (for tests and the bench). */
  reclaims = 0;
  /** Bytes handed out between reclaims (see RECLAIM_TIME_SHARE). */
  private budget = RECLAIM_MIN_BYTES;
  private lastReclaimEnd = -Infinity;

  /**
   * @param memory the module's imported memory
   * @param base the first byte the module does not use for its own static data
   * @param maxPages the memory's declared maximum, in 64 KiB pages
   */
  constructor(readonly memory: WebAssembly.Memory, base: number, private readonly maxPages = 65536) {
    this.start = blockSize(base);
    this.top = this.start;
    this.buffer = memory.buffer;
  }

  /** Bytes of linear memory in use by live blocks. */
  get liveBytes(): number {
    return this.live_;
  }

  /** Blocks handed out since the last reclaim before the next: max(the time-share budget, half the live bytes). */
  get reclaimBytes(): number {
    return Math.max(this.budget, this.live_ / 2);
  }

  /** Size of the memory in bytes. */
  get byteLength(): number {
    return this.buffer.byteLength;
  }

  /** The size of the live block at `ptr`, or undefined if none starts there. */
  sizeOf(ptr: number): number | undefined {
    return this.live.get(ptr);
  }

  /** A zero-filled block of at least `bytes` bytes; its address is a multiple of 64. */
  alloc(bytes: number): number {
    const ptr = this.allocUninitialized(bytes);
    new Uint8Array(this.buffer, ptr, this.live.get(ptr)!).fill(0);
    return ptr;
  }

  /** A block of at least `bytes` bytes holding whatever was there (for outputs a kernel writes in full). */
  allocUninitialized(bytes: number): number {
    const size = blockSize(bytes);
    const ptr = this.takeFree(size) ?? this.bump(size);
    this.live.set(ptr, size);
    this.live_ += size;
    this.held += size;
    return ptr;
  }

  /** Return a block to the free lists. Freeing an unknown address is an error (a double free). */
  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new Error(`wasm heap: no live block at ${ptr} (freed twice?)`);
    this.live.delete(ptr);
    this.live_ -= size;
    this.held = Math.max(0, this.held - size);
    if (ptr + size === this.top) {
      this.top = ptr; // the topmost block goes straight back to the untouched region
      return;
    }
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(ptr);
  }

  private takeFree(size: number): number | undefined {
    const list = this.free.get(size);
    if (list && list.length > 0) return list.pop();
    return undefined;
  }

  private bump(size: number): number {
    if (this.top + size > this.buffer.byteLength) {
      this.coalesce();
      const fit = this.bestFit(size);
      if (fit !== undefined) return fit;
      if (this.reclaim !== null && this.held >= this.reclaimBytes) {
        // Reuse before growth: the blocks of dropped storage come back to the free lists.
        this.runReclaim(this.reclaim);
        const reused = this.takeFree(size) ?? (this.coalesce(), this.bestFit(size));
        if (reused !== undefined) return reused;
      }
      if (this.top + size > this.buffer.byteLength) this.grow(this.top + size);
    }
    const ptr = this.top;
    this.top += size;
    return ptr;
  }

  private runReclaim(reclaim: () => void): void {
    this.held = 0;
    this.reclaims++;
    const start = performance.now();
    reclaim();
    const end = performance.now();
    const allowed = (end - start) / RECLAIM_TIME_SHARE;
    const between = start - this.lastReclaimEnd;
    const maxBudget = Math.min(RECLAIM_MAX_BYTES, (this.maxPages * PAGE) / 8);
    if (between < allowed) this.budget = Math.min(maxBudget, this.budget * 2);
    else if (between > 4 * allowed) this.budget = Math.max(RECLAIM_MIN_BYTES, this.budget / 2);
    this.lastReclaimEnd = end;
  }

  /** Merge adjacent free blocks, and give a free run that reaches `top` back to the untouched region. */
  private coalesce(): void {
    const blocks: [number, number][] = [];
    for (const [size, list] of this.free) for (const ptr of list) blocks.push([ptr, size]);
    if (blocks.length === 0) return;
    blocks.sort((x, y) => x[0] - y[0]);
    const merged: [number, number][] = [];
    for (const b of blocks) {
      const last = merged[merged.length - 1];
      if (last && last[0] + last[1] === b[0]) last[1] += b[1];
      else merged.push([b[0], b[1]]);
    }
    const last = merged[merged.length - 1];
    if (last[0] + last[1] === this.top) {
      this.top = last[0];
      merged.pop();
    }
    this.free.clear();
    for (const [ptr, size] of merged) {
      let list = this.free.get(size);
      if (!list) this.free.set(size, (list = []));
      list.push(ptr);
    }
  }

  /** The smallest free block of at least `size` bytes, split so the rest stays free. */
  private bestFit(size: number): number | undefined {
    let best = Infinity;
    for (const [s, list] of this.free) if (s >= size && s < best && list.length > 0) best = s;
    if (best === Infinity) return undefined;
    const ptr = this.free.get(best)!.pop()!;
    if (best > size) {
      const rest = best - size;
      let list = this.free.get(rest);
      if (!list) this.free.set(rest, (list = []));
      list.push(ptr + size);
    }
    return ptr;
  }

  /** Grow to hold `end` bytes, by at least a quarter of the current size (amortised growth). */
  private grow(end: number): void {
    const pages = this.buffer.byteLength / PAGE;
    const needed = Math.ceil(end / PAGE) - pages;
    const wanted = Math.min(Math.max(needed, Math.ceil(pages / 4)), this.maxPages - pages);
    if (wanted < needed) {
      throw new RangeError(
        `wasm backend: out of memory: need ${end} bytes but WebAssembly memory is limited to ${this.maxPages * PAGE} bytes`,
      );
    }
    this.memory.grow(wanted);
    this.buffer = this.memory.buffer;
    this.generation++;
  }
}
