/**
 * Extra threads for large matrix products: workers sharing the backend's WebAssembly.Memory.
 * The same jobs carry the window kernels of convolution and pooling and the large element-wise
 * kernels (a job flag in the job block: one empty pack chunk, then ranges of outputs as compute
 * chunks; see windowChunk in assembly/kernels.ts), so nothing here tells them apart.
 *
 * One product is one job, cut into pack chunks and compute chunks (see matmulPack and
 * matmulCompute in assembly/kernels.ts). The caller's thread publishes the job (bumps SEQ), then
 * every thread, the caller's included, claims chunks one at a time with a compare-and-swap on a
 * word holding (job tag << 16 | next chunk): first the pack chunks, then — once the last pack
 * chunk is done and whoever finished it has opened the compute word — the compute chunks.
 * Claiming rather than splitting up front means the caller never waits for a worker that the
 * OS has not scheduled yet: it runs the unclaimed chunks itself and waits only for chunks a
 * worker is in the middle of.
 *
 * A side job (ThreadPool.side: gatherRowsAhead's copy) has claim words of its own: idle
 * workers claim its chunks between, and during, the caller's jobs while the caller goes on, and
 * leave it for the next job as soon as the chunk they hold is done; `sideWait` runs what is left
 * on the caller's thread. An idle worker sleeps on BELL, which the caller rings for both.
 *
 * Handoffs spin on Atomics.load: a wait/notify round trip costs ~25 µs, most of an MNIST-sized
 * product (measured on the 2-core test machine, Node 20). An idle worker spins a while after each job,
 * then sleeps in Atomics.wait until the next.
 *
 * Failure: a worker that throws, exits or stops answering makes the current (or next) product
 * throw a WasmWorkerError instead of hanging; the pool is then closed and the backend carries
 * on with one thread.
 *
 * Platform-neutral: the workers themselves are started by a platform (platform.node.ts with
 * worker_threads, platform.browser.ts with module Web Workers); both run threadWorker.ts, one
 * job loop against the control block laid out here.
 */
import { canWait } from './support.js';

// Control block layout, in i32 slots; words written by different threads on separate 64-byte lines.
export const SEQ = 0; // job number, bumped by the caller's thread to publish a job
export const CMD = 1; // CMD_MATMUL, CMD_EXIT, or a test hook: CMD_CRASH, CMD_STARVE
export const JOB = 2; // byte address of the job block
export const PACK_TOTAL = 3; // pack chunks of this job
export const WORK_TOTAL = 4; // compute chunks of this job
export const STARVE_MS = 5; // CMD_STARVE: how long the worker holds its chunk
export const PACK = 16; // claim word of the pack chunks: tag << 16 | next
export const WORK = 32; // claim word of the compute chunks; CLOSED until every pack chunk is done
export const PACKED = 48; // pack chunks done
export const DONE = 64; // compute chunks done
// The side job (see ThreadPool.side): a window job the workers run between the caller's jobs.
export const SIDE_JOB = 6; // byte address of its job block (written with SIDE_TOTAL before SIDE opens)
export const SIDE_TOTAL = 7; // its chunks
export const BELL = 8; // bumped (and notified) when a job or a side job is published: what an idle worker sleeps on
export const SIDE = 80; // claim word of the side job's chunks: tag << 16 | next; CLOSED when there is none
export const SIDE_DONE = 96; // side chunks done
export const failSlot = (t: number) => 112 + 16 * (t - 1); // worker t: 1 threw, 2 exited
export const readySlot = (t: number) => failSlot(t) + 1; // worker t: 1 once it serves jobs
export const CLOSED = -1; // a claim word no tag matches (tags are 15 bits)
/**
 * How long a thread waiting inside a job spins before it naps in 50 µs Atomics.waits, in ms:
 * longer than a chunk of an MNIST-sized product (~25 µs) so that napping, whose wake-up costs
 * ~25 µs, only happens when a thread is really late.
 */
export const SPIN_MS = 0.5;
/**
 * Calls that prime a wait function (see ThreadPool.prime): more than the 8 calls after which V8
 * gives a function the feedback vector in which its calls are recorded.
 */
export const PRIME_CALLS = 16;
/** Bytes of the control block for `threads` threads (the caller's included). */
export const controlBytes = (threads: number) => 64 * (7 + threads);

export const CMD_MATMUL = 0;
export const CMD_EXIT = 1;
export const CMD_CRASH = 2; // test hook: a worker exits as soon as it has claimed a chunk
export const CMD_STARVE = 3; // test hook: worker 1 claims the first pack chunk and holds it for STARVE_MS ms, as a starved core would

/** Claims the next of `total` chunks from the claim word at `slot` if it still holds `tag`; −1 when none is left. */
export function claim(ctl: Int32Array, slot: number, tag: number, total: number): number {
  for (;;) {
    const v = Atomics.load(ctl, slot);
    if (v >>> 16 !== tag || (v & 0xffff) >= total) return -1;
    if (Atomics.compareExchange(ctl, slot, v, v + 1) === v) return v & 0xffff;
  }
}

/**
 * Runs pack chunks of the job tagged `tag` until none is left to claim; the thread that
 * finishes the last one opens the compute chunks. The caller's thread and the workers run this
 * same small function once per job, so V8 optimizes it as an ordinary call (not only by
 * on-stack replacement inside a long loop).
 */
export function packChunks(kernels: MatmulKernels, ctl: Int32Array, tag: number, job: number, total: number): void {
  for (let c = claim(ctl, PACK, tag, total); c >= 0; c = claim(ctl, PACK, tag, total)) packChunk(kernels, ctl, tag, job, total, c);
}

/** Pack chunk `c` (claimed) of the job tagged `tag`; opens the compute chunks if it is the last to finish. */
export function packChunk(kernels: MatmulKernels, ctl: Int32Array, tag: number, job: number, total: number, c: number): void {
  kernels.matmulPack(job, c);
  if (Atomics.add(ctl, PACKED, 1) === total - 1) {
    Atomics.store(ctl, WORK, tag << 16);
    Atomics.notify(ctl, WORK);
  }
}

/**
 * Runs compute chunks of the job tagged `tag` until none is left to claim. A worker passes
 * `notify`: the caller's thread may be napping on DONE.
 */
export function computeChunks(kernels: MatmulKernels, ctl: Int32Array, tag: number, job: number, total: number, tmp: number, notify: boolean): void {
  for (let c = claim(ctl, WORK, tag, total); c >= 0; c = claim(ctl, WORK, tag, total)) {
    kernels.matmulCompute(job, c, tmp);
    Atomics.add(ctl, DONE, 1);
    if (notify) Atomics.notify(ctl, DONE);
  }
}

/** Sets the side job's claim word of a new control block to CLOSED (no side job yet), before any worker starts. */
function closeSide(memory: WebAssembly.Memory, control: number, threads: number): void {
  Atomics.store(new Int32Array(memory.buffer, control, controlBytes(threads) / 4), SIDE, CLOSED);
}

/** Bumps BELL and wakes the workers sleeping on it: a job or a side job has been published. */
function ring(ctl: Int32Array): void {
  Atomics.add(ctl, BELL, 1);
  Atomics.notify(ctl, BELL);
}

/** A worker thread of the wasm backend failed; the product that saw it did not complete. */
export class WasmWorkerError extends Error {
  constructor(message: string) {
    super(`wasm backend: ${message}; continuing with one thread`);
    this.name = 'WasmWorkerError';
  }
}

/** The two matrix-product entry points every thread calls (assembly/kernels.ts). */
export interface MatmulKernels {
  matmulPack(job: number, chunk: number): void;
  matmulCompute(job: number, chunk: number, tmp: number): void;
}

/** What a worker is given at start: everything it needs to join the products. */
export interface WorkerData {
  /** The kernel module compiled for a shared memory; the worker instantiates it on `memory`. */
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte address of the control block (controlBytes(threads) bytes). */
  control: number;
  /** Byte address of this worker's 128 bytes of edge-tile scratch. */
  tmp: number;
  /** This worker's number, 1 to threads − 1 (the caller's thread is 0). */
  thread: number;
  threads: number;
  /** Atomics.load spins of an idle worker before it sleeps. */
  spin: number;
}

/** A started worker, as a platform hands it to the pool. */
export interface PoolWorker {
  /**
   * Calls `listener` with what went wrong ('crashed: …', 'exited (code 1)', 'failed: …') when
   * the worker throws, exits or is terminated.
   */
  onFailure(listener: (what: string) => void): void;
  /** Stops the worker. */
  terminate(): Promise<unknown>;
}

/** Starts one worker and resolves once it has instantiated the module and is waiting for jobs. */
export type SpawnWorker = (data: WorkerData) => Promise<PoolWorker>;
/** Starts one worker and returns once it is waiting for jobs (blocking in Atomics.wait: Node's main thread, or a worker). */
export type SpawnWorkerSync = (data: WorkerData) => PoolWorker;

export interface ThreadPoolOptions {
  /** Atomics.load spins of an idle worker before it sleeps. */
  spin: number;
  /** Longest wait for a worker beyond the product's expected time, in ms. */
  timeoutMs: number;
  /** Step back to one thread for a while when the workers are starved of CPU (see `useThreads`). */
  backOff: boolean;
}

/** Workers that take part in matrix products with the calling thread. */
export class ThreadPool {
  /** Test hook: in the next product, the first worker to claim a chunk (the caller waits for one to) exits, as a crash would. */
  crashNext = false;
  /** Test hook: while > 0, in each product worker 1 claims the first pack chunk and holds it for this many ms (a starved core). */
  starveMs = 0;
  /** Test hook: `side` spins this many ms between writing a side job's fields and opening it (a caller descheduled there). */
  sidePublishPauseMs = 0;
  /** How many times the pool has stepped back to one thread (see useThreads): for the bench and diagnostics. */
  backOffs = 0;
  private seq = 0;
  /** The side job's tag (1..0x7fff) and, until sideWait, what it needs to finish. */
  private sideTag = 0;
  private pendingSide: { kernels: MatmulKernels; job: number; total: number; tmp: number; elements: number } | null = null;
  private failure: string | undefined;
  private closed = false;
  private ctl: Int32Array;
  /** Back-off: consecutive products that waited on a starved worker, the time until which
   * products run on one thread, and the length of the last back-off (ms). */
  private starved = 0;
  private skipUntil = 0;
  private penaltyMs = 0;

  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly control: number,
    /** The workers, thread 1 first (exposed for tests). */
    readonly workers: PoolWorker[],
    private readonly options: ThreadPoolOptions,
  ) {
    this.ctl = new Int32Array(memory.buffer, control, controlBytes(workers.length + 1) / 4);
    for (const [i, w] of workers.entries()) w.onFailure((what) => this.fail(`worker thread ${i + 1} ${what}`));
    this.prime();
  }

  /**
   * Starts `threads − 1` workers with `spawn` on a shared memory; resolves once each has
   * instantiated the module. `control` is the byte address of a zeroed block of
   * `controlBytes(threads)` bytes, `tmp` of 128 bytes per thread (worker t uses tmp + 128·t).
   */
  static async start(
    spawn: SpawnWorker, module: WebAssembly.Module, memory: WebAssembly.Memory, control: number, tmp: number,
    threads: number, options: ThreadPoolOptions,
  ): Promise<ThreadPool> {
    closeSide(memory, control, threads);
    const workers: PoolWorker[] = [];
    try {
      for (let t = 1; t < threads; t++) {
        workers.push(await spawn({ module, memory, control, tmp: tmp + 128 * t, thread: t, threads, spin: options.spin }));
      }
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return new ThreadPool(memory, control, workers, options);
  }

  /** As `start`, with workers started synchronously (see createWasmBackendSync). */
  static startSync(
    spawn: SpawnWorkerSync, module: WebAssembly.Module, memory: WebAssembly.Memory, control: number, tmp: number,
    threads: number, options: ThreadPoolOptions,
  ): ThreadPool {
    closeSide(memory, control, threads);
    const workers: PoolWorker[] = [];
    try {
      for (let t = 1; t < threads; t++) {
        workers.push(spawn({ module, memory, control, tmp: tmp + 128 * t, thread: t, threads, spin: options.spin }));
      }
    } catch (e) {
      for (const w of workers) void w.terminate();
      throw e;
    }
    return new ThreadPool(memory, control, workers, options);
  }

  /** Threads taking part in a product (the caller's included); 1 once the pool is closed. */
  get threads(): number {
    return this.closed ? 1 : this.workers.length + 1;
  }

  /**
   * Whether the next large product should use the workers. False for a while after two
   * products in a row in which the caller spent more than half its time waiting for a worker:
   * that worker is sharing its core with another busy process, and one thread is faster until
   * that ends. Each back-off in a row lasts twice as long (25 ms, 50 ms, ... 1.6 s).
   */
  useThreads(): boolean {
    return !this.closed && (this.skipUntil === 0 || performance.now() >= this.skipUntil);
  }

  /**
   * Runs the product described by the job block at `job` — `packTotal` pack chunks, then
   * `workTotal` compute chunks — on the caller's thread and the workers. `tmp` is the caller's
   * 128 bytes of edge-tile scratch; `flops` (2·m·k·n) bounds how long to wait for a worker.
   * @throws WasmWorkerError if a worker has died or does not answer; the pool is then closed.
   */
  matmul(kernels: MatmulKernels, job: number, packTotal: number, workTotal: number, tmp: number, flops: number): void {
    if (this.failure !== undefined) this.raise();
    const ctl = this.view();
    const seq = (this.seq = (this.seq + 1) & 0x3fffffff);
    const tag = seq & 0x7fff;
    // Close the previous job's claim words before anything else changes.
    Atomics.store(ctl, PACK, tag << 16);
    Atomics.store(ctl, WORK, CLOSED);
    Atomics.store(ctl, PACKED, 0);
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, JOB, job);
    Atomics.store(ctl, PACK_TOTAL, packTotal);
    Atomics.store(ctl, WORK_TOTAL, workTotal);
    Atomics.store(ctl, STARVE_MS, this.starveMs);
    Atomics.store(ctl, CMD, this.crashNext ? CMD_CRASH : this.starveMs > 0 ? CMD_STARVE : CMD_MATMUL);
    Atomics.store(ctl, SEQ, seq);
    ring(ctl); // ~40 ns when nobody sleeps
    // Even a worker a thousand times slower than expected answers long before this.
    const start = performance.now();
    const deadline = start + this.options.timeoutMs + flops / 1e6;
    let waited = 0;
    try {
      // The CMD_STARVE and CMD_CRASH hooks: let the worker claim the first pack chunk (else the
      // caller may run every chunk before the worker wakes, and the hook misses this product).
      if (this.starveMs > 0 || this.crashNext) waited += this.waitUntil(ctl, PACK, 0, (tag << 16) | 1, deadline);
      packChunks(kernels, ctl, tag, job, packTotal);
      waited += this.waitUntil(ctl, WORK, 16, tag, deadline); // the compute chunks are open
      computeChunks(kernels, ctl, tag, job, workTotal, tmp, false);
      waited += this.waitUntil(ctl, DONE, 0, workTotal, deadline); // every compute chunk is done
    } catch (e) {
      // A worker may still be inside this job: never reuse the pool after a failure here.
      if (!(e instanceof WasmWorkerError)) {
        this.fail(`a matrix product failed: ${(e as Error).message}`);
        void this.close();
      }
      throw e;
    }
    this.checkWorkers();
    if (this.failure !== undefined) this.raise();
    if (this.options.backOff) this.noteWait(waited, performance.now() - start);
  }

  /** Updates the back-off (see useThreads) after a product that took `total` ms, `waited` of them waiting. */
  private noteWait(waited: number, total: number): void {
    if (waited <= total / 2) {
      this.starved = 0;
      if (this.skipUntil !== 0) this.skipUntil = this.penaltyMs = 0; // a good product after a back-off
      return;
    }
    if (++this.starved < 2) return;
    this.starved = 0;
    this.penaltyMs = Math.min(1600, Math.max(25, 2 * this.penaltyMs));
    this.skipUntil = performance.now() + this.penaltyMs;
    this.backOffs++;
  }

  /**
   * Publishes a side job: the `total` chunks (matmulCompute) of the window job at `job`, which
   * idle workers run while the caller goes on, products included (a worker finishes the side
   * chunk it holds, joins the product, then comes back to the side job). Nothing else may use
   * the side job's block until `sideWait`; a second `side` waits for the first. `elements`
   * bounds how long to wait for a worker, as a product's flops do.
   */
  side(kernels: MatmulKernels, job: number, total: number, tmp: number, elements: number): void {
    this.sideWait();
    if (this.failure !== undefined) this.raise();
    const ctl = this.view();
    if (!(total > 0 && total < 0xffff)) throw new RangeError(`ThreadPool.side: ${total} chunks (1 to 65534)`);
    const tag = (this.sideTag = (this.sideTag % 0x7fff) + 1);
    this.pendingSide = { kernels, job, total, tmp, elements };
    // Closed while its fields change: a worker reads the tag from the claim word, so a claim word
    // still holding the last tag (0 before the first side job) would let it claim against the new
    // total (a chunk then ran twice, and the wait for the count never ended). CLOSED's next,
    // 0xffff, is above any total.
    Atomics.store(ctl, SIDE, CLOSED);
    Atomics.store(ctl, SIDE_DONE, 0);
    Atomics.store(ctl, SIDE_JOB, job);
    Atomics.store(ctl, SIDE_TOTAL, total);
    if (this.crashNext) Atomics.store(ctl, CMD, CMD_CRASH); // the test hook: a worker exits once it holds a side chunk
    for (const until = performance.now() + this.sidePublishPauseMs; performance.now() < until;); // the test hook
    Atomics.store(ctl, SIDE, tag << 16); // opens it
    ring(ctl);
  }

  /**
   * Finishes the side job, if one is pending: runs the chunks no worker has claimed on the
   * caller's thread, then waits for those a worker holds.
   * @throws WasmWorkerError if a worker has died or does not answer (the pool is then closed):
   * chunks of the side job may not have run.
   */
  sideWait(): void {
    const pending = this.pendingSide;
    if (pending === null) return;
    this.pendingSide = null;
    const { kernels, job, total, tmp, elements } = pending;
    const ctl = this.view();
    const tag = this.sideTag;
    const deadline = performance.now() + this.options.timeoutMs + elements / 1e6;
    try {
      for (let c = claim(ctl, SIDE, tag, total); c >= 0; c = claim(ctl, SIDE, tag, total)) {
        kernels.matmulCompute(job, c, tmp);
        Atomics.add(ctl, SIDE_DONE, 1);
      }
      this.waitUntil(ctl, SIDE_DONE, 0, total, deadline);
    } catch (e) {
      if (!(e instanceof WasmWorkerError)) {
        this.fail(`a side job failed: ${(e as Error).message}`);
        void this.close();
      }
      throw e;
    } finally {
      Atomics.store(ctl, SIDE, CLOSED);
    }
    this.checkWorkers();
    if (this.failure !== undefined) this.raise();
  }

  /** Stops the workers (after finishing a pending side job). */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      this.sideWait();
    } catch {
      // the failure closed the pool already
    }
    if (this.closed) return;
    this.closed = true;
    const ctl = this.view();
    Atomics.store(ctl, CMD, CMD_EXIT);
    Atomics.store(ctl, SEQ, (this.seq = (this.seq + 1) & 0x3fffffff));
    Atomics.notify(ctl, SEQ);
    ring(ctl);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /**
   * Waits until `ctl[slot] >>> shift` is `want` (no closure: one call shape, which V8 optimizes
   * early and keeps): spins first, then naps in 50 µs Atomics.waits (woken early by the
   * workers' notify) so that a worker sharing this core with us can run. Checks now and then
   * that no worker has died and the deadline has not passed. Returns the time waited in ms (0
   * when there was nothing to wait for).
   */
  private waitUntil(ctl: Int32Array, slot: number, shift: number, want: number, deadline: number): number {
    const v = Atomics.load(ctl, slot);
    return v >>> shift === want ? 0 : this.waitFrom(ctl, slot, shift, want, deadline, v);
  }

  /**
   * waitUntil's wait, from ctl[slot] = `v`. A function of its own so that prime can run it
   * through to its end with nothing to wait for: V8 optimized waitUntil before any product had
   * waited, and its optimized code then deoptimized at the clock read after the loop at every
   * wait (590 times in a 3,000-iteration book run on 2 threads, measured with --trace-deopt).
   */
  private waitFrom(ctl: Int32Array, slot: number, shift: number, want: number, deadline: number, v: number): number {
    const start = performance.now();
    let nap = false;
    for (let i = 0; v >>> shift !== want; i++, v = Atomics.load(ctl, slot)) {
      if (nap || (i & 255) === 0) nap = this.pause(ctl, slot, v, nap, start, deadline);
    }
    return performance.now() - start;
  }

  /**
   * One step of a wait that began at `start`: a 50 µs nap on ctl[slot] (while it holds `v`)
   * when `nap`; a check that no worker has died and the deadline has not passed; returns
   * whether to nap from now on. Primed at start (see prime).
   */
  private pause(ctl: Int32Array, slot: number, v: number, nap: boolean, start: number, deadline: number): boolean {
    if (nap) Atomics.wait(ctl, slot, v, 0.05);
    const now = performance.now();
    this.checkWorkers();
    if (this.failure === undefined && now > deadline) {
      this.fail('a worker thread did not finish its part of a matrix product in time');
    }
    if (this.failure !== undefined) this.raise();
    return canWait && now - start > SPIN_MS;
  }

  /**
   * Runs every call of the waits and of the back-off, so that V8 optimizes them having seen
   * each: optimized code that reaches a call it has no feedback for deoptimizes, and in Node 20
   * went on doing so each time rather than being replaced (the worker's first sleep, before
   * priming: 1,233 deopts in 3,000 products), so a nap or a back-off that comes only after a few
   * hundred products would cost a deopt every time.
   */
  private prime(): void {
    const ctl = this.view();
    for (let i = 0; i < PRIME_CALLS; i++) {
      this.pause(ctl, SEQ, -1, canWait, performance.now(), Infinity); // SEQ never holds −1: no wait
      const seq = Atomics.load(ctl, SEQ);
      this.waitFrom(ctl, SEQ, 0, seq, Infinity, seq); // already there: the loop does not run, its end does
      // the back-off's rare paths too (a back-off, then a good product)
      this.noteWait(1, 1);
      this.noteWait(1, 1);
      this.useThreads();
      this.noteWait(0, 1);
    }
    this.starved = this.skipUntil = this.penaltyMs = this.backOffs = 0;
  }

  /** Notices a worker that has thrown or exited (it says so in its slot of the control block). */
  private checkWorkers(): void {
    const ctl = this.view();
    for (let t = 1; t <= this.workers.length; t++) {
      const f = Atomics.load(ctl, failSlot(t));
      if (f !== 0) this.fail(`worker thread ${t} ${f === 2 ? 'exited' : 'threw'} during a matrix product`);
    }
  }

  private fail(message: string): void {
    if (this.closed) return;
    this.failure ??= message;
  }

  /** Reports the failure once, then closes the pool (the backend continues on one thread). */
  private raise(): never {
    const message = this.failure!;
    void this.close();
    throw new WasmWorkerError(message);
  }

  private view(): Int32Array {
    // A shared memory's growth leaves old views valid, but keep to the current buffer anyway.
    if (this.ctl.buffer !== this.memory.buffer) {
      this.ctl = new Int32Array(this.memory.buffer, this.control, this.ctl.length);
    }
    return this.ctl;
  }
}
