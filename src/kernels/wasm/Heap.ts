/**
 * The allocator of the WebAssembly backend: blocks of the linear memory, handed out by
 * JavaScript (the AssemblyScript module itself never allocates).
 *
 * Blocks are multiples of 64 bytes (a cache line; enough for f32x4 and Float64Array alignment).
 * A freed block goes to a free list of its exact size, which is what training loops need: the
 * same shapes come back every step. When the top of the heap is reached, the free lists are
 * coalesced and searched for the best fit before the memory grows.
 *
 * `memory.grow` detaches every view over a non-shared buffer (and gives a shared memory a new,
 * longer buffer object): `generation` counts growths so that holders of views know to re-create them.
 */
export const ALIGN = 64;
const PAGE = 65536;

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
    let s = 0;
    for (const size of this.live.values()) s += size;
    return s;
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
    const size = blockSize(bytes);
    const ptr = this.takeFree(size) ?? this.bump(size);
    this.live.set(ptr, size);
    new Uint8Array(this.buffer, ptr, size).fill(0);
    return ptr;
  }

  /** Return a block to the free lists. Freeing an unknown address is an error (a double free). */
  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new Error(`wasm heap: no live block at ${ptr} (freed twice?)`);
    this.live.delete(ptr);
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
      if (this.top + size > this.buffer.byteLength) this.grow(this.top + size);
    }
    const ptr = this.top;
    this.top += size;
    return ptr;
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
