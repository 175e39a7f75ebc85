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
  CMD, CMD_CRASH, CMD_EXIT, DONE, JOB, PACK, PACKED, PACK_TOTAL, SEQ, SPIN_MS, WORK, WORK_TOTAL,
  claim, controlBytes, failSlot, readySlot, type MatmulKernels, type WorkerData,
} from './threads.js';

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

/** Joins the pool's products until CMD_EXIT (or a CMD_CRASH test hook). */
function serve({ module, memory, control, tmp, thread, threads, spin }: WorkerData, host: Host): void {
  let kernels: MatmulKernels;
  try {
    kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as MatmulKernels;
  } catch (e) {
    host.postMessage({ error: `could not instantiate the kernels: ${(e as Error).message}` });
    return;
  }
  const ctl = new Int32Array(memory.buffer, control, controlBytes(threads) / 4);
  const FAIL = failSlot(thread);
  /** Every pack chunk is done: the compute chunks may be claimed. */
  const open = (tag: number): void => {
    Atomics.store(ctl, WORK, tag << 16);
    Atomics.notify(ctl, WORK);
  };
  let seen = Atomics.load(ctl, SEQ);
  Atomics.store(ctl, readySlot(thread), 1);
  Atomics.notify(ctl, readySlot(thread)); // a caller creating the backend synchronously waits on this
  host.postMessage('ready');
  for (;;) {
    // Spin a while for the next job (a wake-up from Atomics.wait costs ~25 µs), then sleep.
    let seq = Atomics.load(ctl, SEQ);
    for (let i = 0; seq === seen && i < spin; i++) seq = Atomics.load(ctl, SEQ);
    while (seq === seen) {
      Atomics.wait(ctl, SEQ, seen);
      seq = Atomics.load(ctl, SEQ);
    }
    seen = seq;
    const cmd = Atomics.load(ctl, CMD);
    if (cmd === CMD_EXIT) return;
    const tag = seq & 0x7fff;
    const job = Atomics.load(ctl, JOB);
    const packTotal = Atomics.load(ctl, PACK_TOTAL);
    const workTotal = Atomics.load(ctl, WORK_TOTAL);
    try {
      let c: number;
      while ((c = claim(ctl, PACK, tag, packTotal)) >= 0) {
        if (cmd === CMD_CRASH) {
          Atomics.store(ctl, FAIL, 2); // as an exit: the caller stops waiting on this thread
          return;
        }
        kernels.matmulPack(job, c);
        if (Atomics.add(ctl, PACKED, 1) === packTotal - 1) open(tag);
      }
      // Wait for pack chunks other threads are finishing, unless the job is already over;
      // after a spin, in naps of 50 µs that let a thread sharing this core run.
      for (let i = 0, w, t0 = performance.now(), nap = false; (w = Atomics.load(ctl, WORK)) >>> 16 !== tag && Atomics.load(ctl, SEQ) === seq; i++) {
        if (nap) Atomics.wait(ctl, WORK, w, 0.05);
        else if ((i & 255) === 255) nap = performance.now() - t0 > SPIN_MS;
      }
      while ((c = claim(ctl, WORK, tag, workTotal)) >= 0) {
        kernels.matmulCompute(job, c, tmp);
        Atomics.add(ctl, DONE, 1);
        Atomics.notify(ctl, DONE);
      }
    } catch (e) {
      Atomics.store(ctl, FAIL, 1);
      host.postMessage({ error: String((e as Error)?.stack ?? e) });
    }
  }
}
