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
 * training loop. So before the memory grows, when blocks of at least `reclaimBytes` (see
 * ReclaimPolicy) have been handed out since the last time, or when the memory cannot grow, the
 * heap asks its `reclaim` hook (a full collection plus cleanupSome, where the engine allows: see
 * collector.node.ts) to give the dropped ones back, and reuses them. A loop that allocates a
 * fresh batch every step then runs in flat memory. A block comes back only from the finalizer
 * of its storage (or WasmBackend.free), so never while a tensor or view of it is reachable.
 *
 * `memory.grow` detaches every view over a non-shared buffer (and gives a shared memory a new,
 * longer buffer object): `generation` counts growths so that holders of views know to re-create them.
 */
export const ALIGN = 64;
const PAGE = 65536;

/**
 * When to reclaim: the blocks handed out (and not released) since the last reclaim must reach a
 * budget first, chosen so that reclaims take at most about `timeShare` of the time: after each,
 * budget ≥ (bytes handed out per ms since the one before) × (the ms this one took) / timeShare,
 * a power of two within [minBytes, maxBytes]. A full collection costs 2-10 ms in Node 20
 * (measured; more on a loaded machine), in proportion to the JavaScript heap. So a loop that
 * drops a 313 KB batch every 0.2 ms reclaims every 512 MB (the most: its steps then spend ~4% on
 * writing into blocks that are no longer in any cache, ~1% on collections), while one that drops
 * little against the time of a collection (long steps, small batches) holds only a few MB of
 * dropped blocks. The memory then stays at the live blocks plus the budget.
 */
export interface ReclaimPolicy {
  /** The share of the time reclaims may take. */
  timeShare: number;
  /** The least the budget goes down to. */
  minBytes: number;
  /** The most it goes up to (the memory a loop's dropped blocks may take), whatever a collection costs. */
  maxBytes: number;
}

/** The default policy: 1% of the time, between 8 MiB and 512 MiB (an eighth of the memory's maximum where that is less). */
export const RECLAIM_POLICY: ReclaimPolicy = { timeShare: 0.01, minBytes: 8 * 2 ** 20, maxBytes: 512 * 2 ** 20 };

/**
 * A way to find dropped storage at once (collector.node.ts): a full garbage collection, and
 * `cleanupSome`, which runs a FinalizationRegistry's callbacks for what that collection found.
 */
export interface Collector {
  collect(): void;
  cleanupSome(registry: FinalizationRegistry<never>): void;
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
  /**
   * Everything from `clean` up has never been handed out, so it still holds the zeros that
   * memory.grow (and a new memory) gives: alloc fills only the part of a block below it.
   */
  private clean: number;
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
  /** Time reclaims took, in ms (for the bench). */
  reclaimMs = 0;
  /** Bytes handed out between reclaims (see ReclaimPolicy). */
  private budget: number;
  private lastReclaimEnd = -Infinity;

  /**
   * @param memory the module's imported memory
   * @param base the first byte the module does not use for its own static data
   * @param maxPages the memory's declared maximum, in 64 KiB pages
   * @param policy when to reclaim dropped blocks
   */
  constructor(
    readonly memory: WebAssembly.Memory, base: number, private readonly maxPages = 65536,
    /** When to reclaim dropped blocks (tests change it). */
    public policy: ReclaimPolicy = RECLAIM_POLICY,
  ) {
    this.budget = policy.minBytes;
    this.start = blockSize(base);
    this.top = this.start;
    this.clean = this.start;
    this.buffer = memory.buffer;
  }

  /** Bytes of linear memory in use by live blocks. */
  get liveBytes(): number {
    return this.live_;
  }

  /** Bytes of blocks to be handed out (and not released) since the last reclaim before the next may run. */
  get reclaimBytes(): number {
    return this.budget;
  }

  /** Size of the memory in bytes. */
  get byteLength(): number {
    return this.buffer.byteLength;
  }

  /** The size of the live block at `ptr`, or undefined if none starts there. */
  sizeOf(ptr: number): number | undefined {
    return this.live.get(ptr);
  }

  /**
   * A zero-filled block of at least `bytes` bytes; its address is a multiple of 64. Only the
   * part of it that was handed out before is filled (a dataset's tensor in new memory: none;
   * 12-17 ms of the 8,000 bundled digits' toLabeledData, measured).
   */
  alloc(bytes: number): number {
    const clean = this.clean;
    const ptr = this.allocUninitialized(bytes);
    const end = Math.min(ptr + this.live.get(ptr)!, clean);
    if (end > ptr) new Uint8Array(this.buffer, ptr, end - ptr).fill(0);
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
      // Reuse before growth: the blocks of dropped storage come back to the free lists. At the
      // memory's limit, whatever was handed out since the last reclaim may have been dropped.
      const atLimit = this.top + size > this.maxPages * PAGE;
      if (this.reclaim !== null && this.held > 0 && (this.held >= this.budget || atLimit)) {
        this.runReclaim(this.reclaim);
        const reused = this.takeFree(size) ?? (this.coalesce(), this.bestFit(size));
        if (reused !== undefined) return reused;
      }
      // With reclaims, what grows the memory past the live blocks is dropped ones: no more of
      // them than the budget allows before the next reclaim (budget − held) are worth room.
      const ahead = this.reclaim !== null ? Math.max(this.budget - this.held, this.policy.minBytes) : Infinity;
      if (this.top + size > this.buffer.byteLength) this.grow(this.top + size, ahead);
    }
    const ptr = this.top;
    this.top += size;
    this.clean = Math.max(this.clean, this.top);
    return ptr;
  }

  private runReclaim(reclaim: () => void): void {
    const held = this.held;
    this.held = 0;
    this.reclaims++;
    const start = performance.now();
    reclaim();
    const end = performance.now();
    this.reclaimMs += end - start;
    // budget = what the program hands out in the time a reclaim may take at its share of the time,
    // rounded up to a power of two: up at once, down (halved) only when far above, so that the
    // memory settles within a cycle or two and a collection slowed by another process now and
    // then does not grow it again (the memory never shrinks)
    const rate = held / Math.max(start - this.lastReclaimEnd, 1e-3); // bytes per ms; 0 at the first reclaim
    const wanted = (rate * (end - start)) / this.policy.timeShare;
    if (wanted > this.budget) this.budget = 2 ** Math.ceil(Math.log2(wanted));
    else if (wanted < this.budget / 4) this.budget /= 2;
    const { minBytes } = this.policy;
    const maxBytes = Math.max(minBytes, Math.min(this.policy.maxBytes, (this.maxPages * PAGE) / 8));
    this.budget = Math.min(maxBytes, Math.max(minBytes, this.budget));
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

  /**
   * Grow to hold `end` bytes, by at least a quarter of the current size (amortised growth), or
   * by `ahead` bytes beyond `end` where that is less.
   */
  private grow(end: number, ahead: number): void {
    const pages = this.buffer.byteLength / PAGE;
    const needed = Math.ceil(end / PAGE) - pages;
    const step = Math.min(Math.ceil(pages / 4), needed + Math.ceil(ahead / PAGE));
    const wanted = Math.min(Math.max(needed, step), this.maxPages - pages);
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
