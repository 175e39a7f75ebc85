/**
 * The user's loop row (benchUserLoop in ours.ts) in a process of its own, as a user's program
 * runs it: `node --import tsx bench/userLoopProcess.ts quick|default|full` prints its
 * UserLoopResult as one JSON line. The same workload as the bench's (loadBenchData,
 * initialWeights and batchSequence are seeded), on the default backend (default threads).
 *
 * Why a process: inside the bench, after a dozen backends, TF.js and the NumPy servers, each
 * reclaim's full collection took 12.6-13.1 ms and the user's loop came out 1.21-1.23× the reusing
 * loop (2 full runs on 2026-12-02); the same row alone in a new process: 6.0-7.0 ms and
 * 1.07-1.09× (3 runs). A user's program is the second kind.
 */
import { createWasmBackend } from '../src/kernels/wasm/index.js';
import { benchUserLoop } from './ours.js';
import { batchSequence, initialWeights, loadBenchData, settingsFor, totalIters, type Workload } from './shared.js';

const mode = process.argv[2];
if (mode !== 'quick' && mode !== 'default' && mode !== 'full') {
  process.stderr.write('usage: node --import tsx bench/userLoopProcess.ts quick|default|full\n');
  process.exit(2);
}
const settings = settingsFor(mode === 'quick', mode === 'full');
const data = loadBenchData();
const w: Workload = { data, init: initialWeights(), batches: batchSequence(data.train.count, totalIters(settings)), settings };
const backend = await createWasmBackend();
try {
  const label = `this project, wasm ${backend.threads} thr, user's loop (fresh batch each step)`;
  process.stdout.write(JSON.stringify(benchUserLoop(backend, label, w)) + '\n');
} finally {
  await backend.close();
}
