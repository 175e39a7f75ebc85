/**
 * Extra threads for large matrix products: workers sharing the backend's WebAssembly.Memory.
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
 * Handoffs spin on Atomics.load: a wait/notify round trip costs ~25 µs, most of an MNIST-sized
 * product (see /work/shared/notes/fast-kernels.md). An idle worker spins a while after each job,
 * then sleeps in Atomics.wait until the next.
 *
 * Failure: a worker that throws, exits or stops answering makes the current (or next) product
 * throw a WasmWorkerError instead of hanging; the pool is then closed and the backend carries
 * on with one thread.
 */
import type { Worker as NodeWorker } from 'node:worker_threads';

// Control block layout, in i32 slots; words written by different threads on separate 64-byte lines.
const SEQ = 0; // job number, bumped by the caller's thread to publish a job
const CMD = 1; // CMD_MATMUL, CMD_EXIT or CMD_CRASH
const JOB = 2; // byte address of the job block
const PACK_TOTAL = 3; // pack chunks of this job
const WORK_TOTAL = 4; // compute chunks of this job
const PACK = 16; // claim word of the pack chunks: tag << 16 | next
const WORK = 32; // claim word of the compute chunks; CLOSED until every pack chunk is done
const PACKED = 48; // pack chunks done
const DONE = 64; // compute chunks done
const failSlot = (t: number) => 80 + 16 * (t - 1); // worker t: 1 threw, 2 exited
const CLOSED = -1; // a claim word no tag matches (tags are 15 bits)
/**
 * How long a thread waiting inside a job spins before it naps in 50 µs Atomics.waits, in ms:
 * longer than a chunk of an MNIST-sized product (~25 µs) so that napping, whose wake-up costs
 * ~25 µs, only happens when a thread is really late.
 */
const SPIN_MS = 0.5;
/** Bytes of the control block for `threads` threads (the caller's included). */
export const controlBytes = (threads: number) => 64 * (5 + threads);

const CMD_MATMUL = 0;
const CMD_EXIT = 1;
const CMD_CRASH = 2; // test hook: a worker exits as soon as it has claimed a chunk

/** Whether this thread may block in Atomics.wait (a browser's main thread may not). */
const canWait = (() => {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
})();

/** Claims the next of `total` chunks from the claim word at `slot` if it still holds `tag`; −1 when none is left. */
function claim(ctl: Int32Array, slot: number, tag: number, total: number): number {
  for (;;) {
    const v = Atomics.load(ctl, slot);
    if (v >>> 16 !== tag || (v & 0xffff) >= total) return -1;
    if (Atomics.compareExchange(ctl, slot, v, v + 1) === v) return v & 0xffff;
  }
}

/**
 * The worker's program, as CommonJS source for `new Worker(..., { eval: true })`: a plain
 * string, so it runs the same under tsx, from dist/, and (later) from a Blob URL.
 */
const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, control, tmp, thread, threads, spin } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(memory.buffer, control, ${controlBytes(0) / 4} + 16 * threads);
const SEQ = ${SEQ}, CMD = ${CMD}, JOB = ${JOB}, PACK_TOTAL = ${PACK_TOTAL}, WORK_TOTAL = ${WORK_TOTAL};
const PACK = ${PACK}, WORK = ${WORK}, PACKED = ${PACKED}, DONE = ${DONE}, FAIL = ${failSlot(1)} + 16 * (thread - 1);
function claim(ctl, slot, tag, total) { // as claim() in threads.ts
  for (;;) {
    const v = Atomics.load(ctl, slot);
    if (v >>> 16 !== tag || (v & 0xffff) >= total) return -1;
    if (Atomics.compareExchange(ctl, slot, v, v + 1) === v) return v & 0xffff;
  }
}
function open(tag) { // every pack chunk is done: the compute chunks may be claimed
  Atomics.store(ctl, WORK, tag << 16);
  Atomics.notify(ctl, WORK);
}
process.on('exit', () => Atomics.store(ctl, FAIL, 2)); // seen by a caller waiting on this worker
let seen = Atomics.load(ctl, SEQ);
parentPort.postMessage('ready');
for (;;) {
  // Spin a while for the next job (a wake-up from Atomics.wait costs ~25 us), then sleep.
  let seq = Atomics.load(ctl, SEQ);
  for (let i = 0; seq === seen && i < spin; i++) seq = Atomics.load(ctl, SEQ);
  while (seq === seen) {
    Atomics.wait(ctl, SEQ, seen);
    seq = Atomics.load(ctl, SEQ);
  }
  seen = seq;
  const cmd = Atomics.load(ctl, CMD);
  if (cmd === ${CMD_EXIT}) break;
  const tag = seq & 0x7fff;
  const job = Atomics.load(ctl, JOB);
  const packTotal = Atomics.load(ctl, PACK_TOTAL), workTotal = Atomics.load(ctl, WORK_TOTAL);
  try {
    let c;
    while ((c = claim(ctl, PACK, tag, packTotal)) >= 0) {
      if (cmd === ${CMD_CRASH}) process.exit(70);
      kernels.matmulPack(job, c);
      if (Atomics.add(ctl, PACKED, 1) === packTotal - 1) open(tag);
    }
    // Wait for pack chunks other threads are finishing, unless the job is already over;
    // after a spin, in naps of 50 us that let a thread sharing this core run.
    for (let i = 0, w, t0 = performance.now(), nap = false; (w = Atomics.load(ctl, WORK)) >>> 16 !== tag && Atomics.load(ctl, SEQ) === seq; i++) {
      if (nap) Atomics.wait(ctl, WORK, w, 0.05);
      else if ((i & 255) === 255) nap = performance.now() - t0 > ${SPIN_MS};
    }
    while ((c = claim(ctl, WORK, tag, workTotal)) >= 0) {
      kernels.matmulCompute(job, c, tmp);
      Atomics.add(ctl, DONE, 1);
      Atomics.notify(ctl, DONE);
    }
  } catch (e) {
    Atomics.store(ctl, FAIL, 1);
    parentPort.postMessage({ error: String((e && e.stack) || e) });
  }
}
`;

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
  /** Test hook: from the next product on, the first worker to claim a chunk exits, as a crash would. */
  crashNext = false;
  private seq = 0;
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
    readonly workers: NodeWorker[],
    private readonly options: ThreadPoolOptions,
  ) {
    this.ctl = new Int32Array(memory.buffer, control, controlBytes(workers.length + 1) / 4);
    for (const [i, w] of workers.entries()) {
      w.on('error', (e) => this.fail(`worker thread ${i + 1} crashed: ${e.message}`));
      w.on('exit', (code) => this.fail(`worker thread ${i + 1} exited (code ${code})`));
      w.on('message', (m: { error?: string }) => {
        if (m && m.error) this.fail(`worker thread ${i + 1} failed: ${m.error}`);
      });
    }
  }

  /**
   * Starts `threads − 1` workers on a shared memory; resolves once each has instantiated the
   * module. `control` is the byte address of a zeroed block of `controlBytes(threads)` bytes,
   * `tmp` of 128 bytes per thread (worker t uses tmp + 128·t).
   */
  static async start(
    module: WebAssembly.Module, memory: WebAssembly.Memory, control: number, tmp: number,
    threads: number, options: ThreadPoolOptions,
  ): Promise<ThreadPool> {
    const { Worker } = await import('node:worker_threads');
    const workers: NodeWorker[] = [];
    try {
      for (let t = 1; t < threads; t++) {
        const w = new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: { module, memory, control, tmp: tmp + 128 * t, thread: t, threads, spin: options.spin },
        });
        workers.push(w);
        await new Promise<void>((resolve, reject) => {
          w.once('message', () => resolve());
          w.once('error', reject);
          w.once('exit', (code) => reject(new Error(`worker thread ${t} exited during start-up (code ${code})`)));
        });
        w.removeAllListeners();
        w.unref(); // an idle worker must not keep the process alive
      }
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
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
    Atomics.store(ctl, CMD, this.crashNext ? CMD_CRASH : CMD_MATMUL);
    Atomics.store(ctl, SEQ, seq);
    Atomics.notify(ctl, SEQ); // ~40 ns when nobody sleeps
    // Even a worker a thousand times slower than expected answers long before this.
    const start = performance.now();
    const deadline = start + this.options.timeoutMs + flops / 1e6;
    let waited = 0;
    try {
      let c: number;
      while ((c = claim(ctl, PACK, tag, packTotal)) >= 0) {
        kernels.matmulPack(job, c);
        if (Atomics.add(ctl, PACKED, 1) === packTotal - 1) {
          Atomics.store(ctl, WORK, tag << 16);
          Atomics.notify(ctl, WORK);
        }
      }
      waited += this.waitWhile(WORK, (w) => w >>> 16 !== tag, deadline);
      while ((c = claim(ctl, WORK, tag, workTotal)) >= 0) {
        kernels.matmulCompute(job, c, tmp);
        Atomics.add(ctl, DONE, 1);
      }
      waited += this.waitWhile(DONE, (d) => d !== workTotal, deadline);
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
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const ctl = this.view();
    Atomics.store(ctl, CMD, CMD_EXIT);
    Atomics.store(ctl, SEQ, (this.seq = (this.seq + 1) & 0x3fffffff));
    Atomics.notify(ctl, SEQ);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /**
   * Waits while `pending(ctl[slot])`: spins first, then naps in 50 µs Atomics.waits (woken
   * early by the workers' notify) so that a worker sharing this core with us can run. Checks
   * now and then that no worker has died and the deadline has not passed. Returns the time
   * waited in ms (0 when there was nothing to wait for).
   */
  private waitWhile(slot: number, pending: (value: number) => boolean, deadline: number): number {
    const ctl = this.view();
    if (!pending(Atomics.load(ctl, slot))) return 0;
    const start = performance.now();
    let nap = false;
    for (let i = 1, v: number; pending((v = Atomics.load(ctl, slot))); i++) {
      if (nap) Atomics.wait(ctl, slot, v, 0.05);
      else if ((i & 255) !== 0) continue;
      const now = performance.now();
      nap = canWait && now - start > SPIN_MS;
      this.checkWorkers();
      if (this.failure === undefined && now > deadline) {
        this.fail('a worker thread did not finish its part of a matrix product in time');
      }
      if (this.failure !== undefined) this.raise();
    }
    return performance.now() - start;
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
