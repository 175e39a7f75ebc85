/**
 * A thread of the wasm backend's pool: the one script every pool worker runs, in Node
 * (worker_threads, started by platform.node.ts) and in browsers (a module Web Worker, started
 * by platform.browser.ts). Both start it as `new URL('./threadWorker.js', import.meta.url)`,
 * so bundlers (Vite, webpack) see and emit it; the package ships it as one file with no imports
 * (scripts/build.mjs bundles it), so a bundler that only copies it works too.
 *
 * It receives the kernel module and the shared memory (WorkerData: as `workerData` in Node, as
 * the first message in a browser), instantiates the module on that memory, says it is ready
 * (in its slot of the control block, and as a 'ready' message), then serves matrix products
 * until told to exit, against the control block laid out in threads.ts. It blocks in
 * Atomics.wait between jobs, so after 'ready' it never looks at its messages again.
 *
 * No `node:` import: in Node it reaches worker_threads through process.getBuiltinModule, which
 * a browser bundle never sees.
 */
import {
  BELL, CMD, CMD_CRASH, CMD_EXIT, CMD_STARVE, JOB, PACK, PACK_TOTAL, PRIME_CALLS, SEQ, SIDE, SIDE_DONE, SIDE_JOB, SIDE_TOTAL, SPIN_MS,
  STARVE_MS, WORK, WORK_TOTAL, claim, computeChunks, controlBytes, failSlot, packChunk, packChunks, readySlot,
  type MatmulKernels, type WorkerData,
} from './threads.js';

/** What nextJob returns when the CMD_CRASH test hook has this worker exit holding a side chunk. */
const CRASHED = -2;

/** What the worker needs from its host: Node's parentPort or a browser worker's global scope. */
interface Host {
  postMessage(msg: 'ready' | { error: string }): void;
}

/** worker_threads, when this runs in a Node worker (getBuiltinModule: Node ≥ 20.16). */
type NodeThreads = { isMainThread: boolean; workerData: unknown; parentPort: Host | null };
const nodeProcess = (globalThis as { process?: { getBuiltinModule?(id: string): unknown; on?(e: string, f: () => void): void } }).process;
const nodeThreads = nodeProcess?.getBuiltinModule?.('node:worker_threads') as NodeThreads | undefined;

if (nodeThreads && !nodeThreads.isMainThread && nodeThreads.parentPort) {
  const data = nodeThreads.workerData as WorkerData;
  // seen by a caller waiting on this worker
  nodeProcess!.on!('exit', () => Atomics.store(new Int32Array(data.memory.buffer, data.control, controlBytes(data.threads) / 4), failSlot(data.thread), 2));
  serve(data, nodeThreads.parentPort);
} else {
  const scope = self as unknown as Host & {
    onmessage: ((e: MessageEvent<WorkerData>) => void) | null;
    onmessageerror: (() => void) | null;
    close(): void;
  };
  scope.onmessage = (e) => {
    scope.onmessage = null;
    serve(e.data, scope);
    scope.close();
  };
  scope.onmessageerror = () => scope.postMessage({ error: 'the kernel module or the shared memory could not be received' });
}

/**
 * Joins the pool's products until CMD_EXIT (or a CMD_CRASH test hook; CMD_STARVE delays it). The loop only waits and
 * dispatches: each job runs in runJob, and the waits are small functions of their own, so that
 * V8 optimizes them as ordinary calls after a few jobs rather than waiting to replace this
 * never-returning frame on the stack.
 */
function serve({ module, memory, control, tmp, thread, threads, spin }: WorkerData, host: Host): void {
  let kernels: MatmulKernels;
  try {
    kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as MatmulKernels;
  } catch (e) {
    host.postMessage({ error: `could not instantiate the kernels: ${(e as Error).message}` });
    return;
  }
  const ctl = new Int32Array(memory.buffer, control, controlBytes(threads) / 4);
  const fail = failSlot(thread);
  let seen = Atomics.load(ctl, SEQ);
  // Every call of the waits run (SEQ never holds −1, so neither waits), more times than V8
  // calls a function before it gives it a feedback vector to record what its calls are.
  for (let i = 0; i < PRIME_CALLS; i++) {
    nextJob(kernels, ctl, -1, 0, tmp); // no side job is open yet: SIDE is CLOSED
    waitOpen(ctl, 0x8000, -1); // no tag: returns after one pause, the job −1 being over
    pause(ctl, SEQ, -1, true, performance.now());
  }
  Atomics.store(ctl, readySlot(thread), 1);
  Atomics.notify(ctl, readySlot(thread)); // a caller creating the backend synchronously waits on this
  host.postMessage('ready');
  for (;;) {
    try {
      seen = nextJob(kernels, ctl, seen, spin, tmp);
    } catch (e) {
      // a side chunk threw: the caller, waiting for it, sees the slot
      Atomics.store(ctl, fail, 1);
      host.postMessage({ error: String((e as Error)?.stack ?? e) });
      continue;
    }
    if (seen === CRASHED) {
      Atomics.store(ctl, fail, 2); // as an exit: the caller stops waiting on this thread
      return;
    }
    const cmd = Atomics.load(ctl, CMD);
    if (cmd === CMD_EXIT) return;
    if (cmd === CMD_CRASH && claim(ctl, PACK, seen & 0x7fff, Atomics.load(ctl, PACK_TOTAL)) >= 0) {
      Atomics.store(ctl, fail, 2); // as an exit: the caller stops waiting on this thread
      return;
    }
    try {
      if (cmd === CMD_STARVE && thread === 1) starve(kernels, ctl, seen);
      runJob(kernels, ctl, seen, tmp);
    } catch (e) {
      Atomics.store(ctl, fail, 1);
      host.postMessage({ error: String((e as Error)?.stack ?? e) });
    }
  }
}

/** The CMD_STARVE test hook: claim a pack chunk, hold it STARVE_MS ms, then pack it. */
function starve(kernels: MatmulKernels, ctl: Int32Array, seq: number): void {
  const [tag, job, total] = [seq & 0x7fff, Atomics.load(ctl, JOB), Atomics.load(ctl, PACK_TOTAL)];
  const c = claim(ctl, PACK, tag, total);
  if (c < 0) return;
  Atomics.wait(ctl, SEQ, seq, Atomics.load(ctl, STARVE_MS)); // sleeps: SEQ stays seq until this job is done
  packChunk(kernels, ctl, tag, job, total, c);
}

/**
 * The next job number after `seen`, running the side job's chunks (sideChunks) meanwhile:
 * spins a while (a wake-up from Atomics.wait costs ~25 µs), then sleeps until the caller rings
 * BELL. With `seen` −1 (no job number) and no spin it returns at once, having passed every
 * call in it once: serve primes it so, because V8 drops an optimized function that reaches a
 * call it never saw run (a deopt at every sleep otherwise). CRASHED: see sideChunks.
 */
function nextJob(kernels: MatmulKernels, ctl: Int32Array, seen: number, spin: number, tmp: number): number {
  // BELL read before looking for work: whatever is published after this read rings it, so the
  // wait below cannot miss it. With `seen` −1 a value BELL does not hold: the wait returns at once.
  let bell = Atomics.load(ctl, BELL) + (seen < 0 ? 1 : 0);
  for (let i = 0; i < spin; i++) {
    const ran = sideChunks(kernels, ctl, seen, tmp);
    if (ran < 0) return CRASHED;
    if (ran > 0) i = 0; // idle again from now
    const seq = Atomics.load(ctl, SEQ);
    if (seq !== seen) return seq;
  }
  for (;;) {
    Atomics.wait(ctl, BELL, bell); // 'not-equal' at once when something has been published since `bell` was read
    bell = Atomics.load(ctl, BELL);
    if (sideChunks(kernels, ctl, seen, tmp) < 0) return CRASHED;
    const seq = Atomics.load(ctl, SEQ);
    if (seq !== seen) return seq;
  }
}

/**
 * Runs chunks of the open side job (see ThreadPool.side) until none is left to claim or a job
 * after `seen` has been published (it comes first). Returns how many ran; CRASHED when the
 * CMD_CRASH test hook is set (this worker is to exit holding the chunk it has claimed).
 */
function sideChunks(kernels: MatmulKernels, ctl: Int32Array, seen: number, tmp: number): number {
  let ran = 0;
  for (;;) {
    const c = claim(ctl, SIDE, Atomics.load(ctl, SIDE) >>> 16, Atomics.load(ctl, SIDE_TOTAL));
    if (c < 0) return ran;
    if (Atomics.load(ctl, CMD) === CMD_CRASH) return CRASHED;
    kernels.matmulCompute(Atomics.load(ctl, SIDE_JOB), c, tmp);
    Atomics.add(ctl, SIDE_DONE, 1);
    Atomics.notify(ctl, SIDE_DONE); // the caller may be napping on it
    ran++;
    if (Atomics.load(ctl, SEQ) !== seen) return ran;
  }
}

/** This thread's part of job `seq`: pack chunks, then (once every pack chunk is done) compute chunks. */
function runJob(kernels: MatmulKernels, ctl: Int32Array, seq: number, tmp: number): void {
  const tag = seq & 0x7fff;
  const job = Atomics.load(ctl, JOB);
  packChunks(kernels, ctl, tag, job, Atomics.load(ctl, PACK_TOTAL));
  if (waitOpen(ctl, tag, seq)) computeChunks(kernels, ctl, tag, job, Atomics.load(ctl, WORK_TOTAL), tmp, true);
}

/**
 * Waits for pack chunks other threads are finishing; false if the job is over first (the caller
 * has published another). Spins, then naps (see pause).
 */
function waitOpen(ctl: Int32Array, tag: number, seq: number): boolean {
  let w = Atomics.load(ctl, WORK);
  if (w >>> 16 === tag) return true;
  const t0 = performance.now();
  let nap = false;
  for (let i = 0; w >>> 16 !== tag; i++, w = Atomics.load(ctl, WORK)) {
    if (nap || (i & 255) === 0) nap = pause(ctl, WORK, w, nap, t0);
    if (Atomics.load(ctl, SEQ) !== seq) return false;
  }
  return true;
}

/**
 * One step of a wait that began at `t0`: a 50 µs nap on ctl[slot] (while it holds `v`) when
 * `nap`, which lets a thread sharing this core run; returns whether the wait is long enough to
 * nap from now on. Primed by serve (every call in it run once) for the reason nextJob is.
 */
function pause(ctl: Int32Array, slot: number, v: number, nap: boolean, t0: number): boolean {
  if (nap) Atomics.wait(ctl, slot, v, 0.05);
  return performance.now() - t0 > SPIN_MS;
}
