/**
 * `npm run bench`: this project's TwoLayerNet on each backend against NumPy (the book's code)
 * and TensorFlow.js, side by side, on the same data, initial weights and mini-batches.
 *
 * Measures ms per training iteration (784-50-10, batch 100, lr 0.1), one accuracy pass over the
 * training and test sets (70,000 rows), GFLOPS of the matrix products, the wasm backend's
 * memory over a long run, and (with --full) the CLI's default 10,000-iteration run, js vs wasm.
 * Prints tables to stdout (progress goes to stderr) and writes bench/results/latest.json.
 * The targets are reported as PASS/MISS, never asserted. The training steps and accuracy passes
 * of the implementations are measured one after another, or with --turns in turns
 * (bench/rows.ts); NumPy's are served by python3 processes that stay up.
 *
 * With `conv` (bench/conv.ts): a training step of the book's SimpleConvNet against the book's NumPy code, JAX and TF.js.
 * With --full or --only book, also the whole book run (bench/bookRun.ts): `backprop train --seed 1 --iters 3000`
 * against the book's loop in NumPy, each timed by its own report.
 *
 * Usage: node --import tsx bench/run.ts [--quick] [--full] [--only js,wasm,numpy,tfjs,autograd,conv,book] [--tfjs-grads manual|auto] [--out FILE]
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JsBackend } from '../src/kernels/reference/JsBackend.js';
import { createWasmBackend, type WasmBackend } from '../src/kernels/wasm/index.js';
import { writeFileAtomic } from '../src/io/atomicWrite.js';
import { benchAutograd, benchLayerConv, benchMatmul, benchMemory, fullRun, runUserLoop, trainingRow, type AutogradResult, type FullRunResult, type MemoryResult, type UserLoopResult } from './ours.js';
import { NumpySide, numpyEnvNote, numpyPlan, numpyUnavailable, type NumpyInfo, type NumpyRun } from './numpy.js';
import { REMOVED_ENV } from './python.js';
import { interleave, type TrainingRow } from './rows.js';
import type { GradientMode, TfjsRun, TfjsSide } from './tfjs.js';
import { measurePeaks, type PeakResult } from './peak.js';
import {
  RECIPE, batchSequence, initialWeights, loadBenchData, loadDigitsBenchData, progress, settingsFor, totalIters,
  type ImplResult, type Workload,
} from './shared.js';
import { CONV_SHAPE_KEYS, LAYER_CONV_BATCH, LAYER_CONV_PRODUCTS, MATMUL_SHAPES, MNIST_SHAPE_KEYS } from './shared.js';
import { benchConv, convTable, convTargetChecks, CONV_REFERENCE_ID, type ConvRun } from './conv.js';
import { benchBookRun, bookRunTable, BOOK_RUN, type BookRunResult } from './bookRun.js';
import { REFERENCE_ID, table, checkTargets, fullRunTable, matmulTable, memoryTable, targetTable, trainingTable } from './report.js';

const USAGE = `Usage: npm run bench -- [--quick] [--full] [--only js,wasm,numpy,tfjs,autograd,conv,book,digits] [--tfjs-grads manual|auto] [--turns] [--out FILE]
  --quick       fewer repeats and iterations (a smoke test, under a minute)
  --full        also the CLI's default 10,000-iteration run on js and wasm, a 100,000-iteration memory run, and the book run
  --only LIST   implementations to run (default all): js, wasm, numpy, tfjs, autograd (its step vs the layers' on wasm),
                conv (SimpleConvNet's step: wasm, the book's NumPy code, JAX, TF.js WASM; js with --full),
                book (the whole book run, backprop train --seed 1 --iters 3000, vs NumPy: only when named or with --full),
                digits (the step and accuracy pass of wasm and NumPy on the bundled digits too, where the main rows
                are Fashion-MNIST; in --quick only when named)
  --tfjs-grads  force TF.js's gradient code (default: a short trial picks the faster)
  --turns       the training rows in turns, 100 steps each per round (bench/rows.ts), instead of one after another
  --out FILE    write the JSON results here instead of bench/results/latest.json
`;
const IMPLS = ['js', 'wasm', 'numpy', 'tfjs', 'autograd', 'conv', 'book', 'digits'] as const;

function parse() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean' },
        full: { type: 'boolean' },
        only: { type: 'string' },
        'tfjs-grads': { type: 'string' },
        out: { type: 'string' },
        turns: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const only = new Set(values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : IMPLS);
  for (const name of only) {
    if (!(IMPLS as readonly string[]).includes(name)) {
      process.stderr.write(`bench: --only: unknown implementation '${name}' (choose from ${IMPLS.join(', ')})\n`);
      process.exit(2);
    }
  }
  const grads = values['tfjs-grads'];
  if (grads !== undefined && grads !== 'manual' && grads !== 'auto') {
    process.stderr.write(`bench: --tfjs-grads must be manual or auto, got '${grads}'\n`);
    process.exit(2);
  }
  // the book run takes ~1 min: only when named in --only, or with --full
  if (!values.only && !values.full) only.delete('book');
  // the bundled digits' second pass: not in --quick, unless named in --only
  if (!values.only && values.quick) only.delete('digits');
  return { quick: values.quick ?? false, full: values.full ?? false, only, tfjsGrads: grads as GradientMode | undefined, out: values.out, turns: values.turns ?? false };
}

/** The CPU model from /proc/cpuinfo, and whether it has AVX-512 (which OpenBLAS uses and wasm SIMD cannot). */
function cpuModel(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const m = /^model name\s*:\s*(.+)$/m.exec(info);
    const flags = /^flags\s*:\s*(.+)$/m.exec(info)?.[1].split(' ') ?? [];
    if (m) return m[1].trim() + (flags.includes('avx512f') ? ' (AVX-512)' : flags.includes('avx2') ? ' (AVX2)' : '');
  } catch {
    // not Linux
  }
  return 'unknown CPU';
}

const started = performance.now();
const opts = parse();
const settings = settingsFor(opts.quick, opts.full);
const loadAtStart = loadavg();
const cores = availableParallelism();

progress('loading data');
const data = loadBenchData();
const w: Workload = { data, init: initialWeights(), batches: batchSequence(data.train.count, totalIters(settings)), settings };

const results: ImplResult[] = [];
const ours: ImplResult[] = [];
const skipped: string[] = [];
const notes: string[] = [];
let numpyRun: NumpyRun | null = null;
let numpyInfo: NumpyInfo | null = null;
let tfjsRun: TfjsRun | null = null;
let wasmAvailable = false;
let memory: MemoryResult | null = null;
let autograd: AutogradResult | null = null;
let userLoop: UserLoopResult | null = null;
let full: FullRunResult[] | null = null;
let conv: ConvRun | null = null;

/** A wasm backend on `threads` threads, or null (said in skipped / notes) where it cannot load or gets fewer. */
async function wasmBackend(threads: number, what: string): Promise<WasmBackend | null> {
  let backend: WasmBackend;
  try {
    backend = await createWasmBackend({ threads });
  } catch (e) {
    skipped.push(`${what}wasm backend${threads > 1 ? ` (${threads} threads)` : ''} skipped: it cannot load: ${(e as Error).message}`);
    return null;
  }
  if (backend.threads !== threads) {
    notes.push(`${what}wasm backend asked for ${threads} threads runs on ${backend.threads} here: no ${threads}-thread figures`);
    await backend.close();
    return null;
  }
  return backend;
}

/**
 * NumPy's training rows on `work` added to `rows`, or, where its servers fail to start, none
 * (said in skipped, the other rows going on without them): null then.
 */
async function numpyRows(work: Workload, rows: TrainingRow[], what: string): Promise<NumpySide | null> {
  const side = new NumpySide(work);
  try {
    rows.push(...(await side.rows()));
    return side;
  } catch (e) {
    side.close();
    skipped.push(`${what} failed: ${(e as Error).message}`);
    return null;
  }
}

const wasmLabel = (backend: WasmBackend, simd: boolean) =>
  `this project, wasm ${backend.threads} thread${backend.threads > 1 ? 's' : ''}${simd && backend.simd === 'relaxed' ? ', relaxed SIMD (auto)' : ''}`;

const numpyMissing = opts.only.has('numpy') || opts.only.has('digits') ? numpyUnavailable() : null;
if (opts.only.has('numpy') && numpyMissing) skipped.push(`NumPy skipped: ${numpyMissing}`);

// The training step and accuracy pass of every implementation (bench/rows.ts: one after another, or in turns).
{
  const rows: TrainingRow[] = [];
  const backends: [JsBackend | WasmBackend, string][] = [];
  let numpySide: NumpySide | null = null;
  let tfjsSide: TfjsSide | null = null;
  try {
    if (opts.only.has('js')) {
      const backend = new JsBackend();
      progress('this project, js backend: its training row');
      rows.push(trainingRow(backend, 'this project, js backend', 'js', 1, w));
      backends.push([backend, 'js']);
    }
    if (opts.only.has('wasm')) {
      for (const threads of [1, 2]) {
        const backend = await wasmBackend(threads, '');
        if (backend === null) {
          if (threads === 1 && backends.every(([b]) => b.name !== 'wasm')) break; // one line is enough: 2 threads would fail the same way
          continue;
        }
        wasmAvailable = true;
        progress(`${wasmLabel(backend, true)}: its training row (the engine warmed up on a copy of the net)`);
        rows.push(trainingRow(backend, wasmLabel(backend, true), `wasm-${threads}t`, threads, w));
        backends.push([backend, `wasm-${threads}t`]);
      }
    }
    if (opts.only.has('numpy') && !numpyMissing) {
      progress(`NumPy: starting python3 servers (${settings.quick ? '1 BLAS thread' : '1 and 2 BLAS threads'})`);
      numpySide = await numpyRows(w, rows, 'NumPy');
      numpyInfo = numpySide?.info ?? null;
    }
    if (opts.only.has('tfjs')) {
      progress('TF.js WASM: its training row (after the gradient trial)');
      try {
        const { TfjsSide } = await import('./tfjs.js');
        tfjsSide = await TfjsSide.start(w, opts.tfjsGrads);
        rows.push(tfjsSide.row);
      } catch (e) {
        skipped.push(`TF.js skipped: ${(e as Error).message}`);
      }
    }
    const trained = await interleave(rows, settings, 'training rows', !opts.turns);
    const byId = new Map(trained.map((r) => [r.id, r]));
    for (const [backend, id] of backends) {
      const r = byId.get(id)!;
      progress(`${r.label}: matrix products`);
      if ((backend as WasmBackend).pool) r.matmulBackOffs = {};
      r.matmul = benchMatmul(backend, settings, r.matmulBackOffs);
      if (backend.name === 'wasm') r.layerConv = benchLayerConv(backend, settings);
      results.push(r);
      ours.push(r);
    }
    for (const [backend] of backends) if (backend.name === 'wasm') await (backend as WasmBackend).close();
    backends.length = 0;
    if (numpySide) {
      const numpyTrained = trained.filter((r) => r.id.startsWith('numpy-'));
      progress('NumPy: float32 matrix products, then JAX');
      for (const [threads] of numpyPlan(settings.quick)) {
        const r = numpyTrained.find((x) => x.id === `numpy-f32-${threads}t`);
        if (r) r.matmul = numpySide.matmul(threads);
      }
      const jax = numpySide.jax();
      numpyRun = { info: numpySide.info!, results: [...numpyTrained, ...(jax.result ? [jax.result] : [])], jaxNote: jax.note, envNote: numpyEnvNote(settings.quick) };
    }
    if (tfjsSide) {
      progress('TF.js: WASM products, then the CPU backend (alone: TF.js has one current backend)');
      tfjsRun = await tfjsSide.finish(byId.get('tfjs-wasm')!);
    }
  } catch (e) {
    skipped.push(`training rows failed: ${(e as Error).message}`);
  } finally {
    for (const [backend] of backends) if (backend.name === 'wasm') await (backend as WasmBackend).close();
    numpySide?.close();
  }
}

if (opts.only.has('wasm') && wasmAvailable) {
  // The book's train_neuralnet.py written against the library, on the default backend (default
  // threads), in a new process as a user's program runs it (bench/userLoopProcess.ts says why).
  progress("this project's user's loop (fresh batch each step), alternating with the reusing loop, in a process of its own");
  try {
    userLoop = runUserLoop(opts.quick ? 'quick' : opts.full ? 'full' : 'default');
    results.push(userLoop.result);
    ours.push(userLoop.result);
  } catch (e) {
    skipped.push(`wasm user's loop failed: ${(e as Error).message}`);
  }
}

let peaks: PeakResult | null = null;
if (opts.only.has('wasm')) {
  progress('peaks of 128-bit SIMD: mul+add and relaxed_madd, 12 accumulators, 1 thread');
  peaks = measurePeaks(settings.quick ? 3 : 9);
}

if (opts.only.has('wasm') && wasmAvailable) {
  // The relaxed-SIMD build's products beside the plain build's (1 thread), whichever 'auto' picks.
  try {
    const relaxed = await createWasmBackend({ threads: 1, relaxedSimd: true });
    const auto = await createWasmBackend({ threads: 1 });
    notes.push(`wasm kernels: relaxedSimd 'auto' picks the ${auto.simd} SIMD build here (a trial product, create.ts); rows say "relaxed SIMD (auto)" where their backend picked it`);
    progress('this project, wasm 1 thread, relaxed-SIMD build: matrix products');
    results.push({ id: 'wasm-relaxed-1t', label: 'this project, wasm 1 thread, relaxed SIMD', threads: 1, matmul: benchMatmul(relaxed, settings) });
  } catch (e) {
    skipped.push(`wasm relaxed-SIMD build: ${(e as Error).message}`);
  }
}
if (numpyRun) results.push(...numpyRun.results);
if (tfjsRun) results.push(...tfjsRun.results);

// The book's data (80% of a digit's pixels are 0, which our first layer's products skip) where
// the rows above are Fashion-MNIST: wasm and NumPy again, the same recipe, weights and batch indices.
let digits: ImplResult[] | null = null;
if (opts.only.has('digits') && !data.source.startsWith('bundled')) {
  const dd = loadDigitsBenchData();
  const wd: Workload = { data: dd, init: w.init, batches: batchSequence(dd.train.count, totalIters(settings)), settings };
  const rows: TrainingRow[] = [];
  const backends: WasmBackend[] = [];
  let numpySide: NumpySide | null = null;
  try {
    for (const threads of [1, 2]) {
      if (!opts.only.has('wasm') || !wasmAvailable) break;
      const backend = await wasmBackend(threads, 'bundled digits: ');
      if (backend === null) continue;
      backends.push(backend);
      progress(`bundled digits: ${wasmLabel(backend, false)}, its training row`);
      rows.push(trainingRow(backend, wasmLabel(backend, false), `wasm-${threads}t`, threads, wd));
    }
    if (opts.only.has('numpy') && !numpyMissing) {
      progress('bundled digits: NumPy servers');
      numpySide = await numpyRows(wd, rows, 'bundled digits, NumPy');
    }
    digits = await interleave(rows, settings, 'bundled digits', !opts.turns);
  } catch (e) {
    skipped.push(`bundled digits failed: ${(e as Error).message}`);
  } finally {
    for (const backend of backends) await backend.close();
    numpySide?.close();
  }
}

if (opts.only.has('autograd')) {
  progress('autograd two-layer step vs the hand-written layers (wasm, 1 thread)');
  try {
    const backend = await createWasmBackend({ threads: 1 });
    try {
      autograd = benchAutograd(backend, w);
    } finally {
      await backend.pool?.close();
    }
  } catch (e) {
    skipped.push(`autograd vs layers skipped: ${(e as Error).message}`);
  }
}

if (opts.only.has('conv')) {
  progress('SimpleConvNet training step (bench/conv.ts)');
  try {
    conv = await benchConv(data, opts.quick, opts.full);
  } catch (e) {
    skipped.push(`SimpleConvNet step failed: ${(e as Error).message}`);
  }
}

if (opts.only.has('wasm') && wasmAvailable) {
  const iters = settings.memoryIters;
  progress(`wasm memory run: ${iters.toLocaleString('en')} iterations`);
  const backend = await createWasmBackend();
  try {
    memory = benchMemory(backend, w, iters);
  } finally {
    await backend.pool?.close();
  }
}

if (opts.full) {
  full = [];
  if (opts.only.has('js')) {
    progress('full default run: js (the longest part)');
    full.push(fullRun(new JsBackend(), 1));
  }
  if (opts.only.has('wasm') && wasmAvailable) {
    for (const threads of [1, 2]) {
      progress(`full default run: wasm ${threads} thread(s)`);
      const backend = await createWasmBackend({ threads });
      try {
        full.push(fullRun(backend, backend.threads));
      } finally {
        await backend.pool?.close();
      }
    }
  }
}

let bookRun: BookRunResult | null = null;
if (opts.only.has('book')) {
  progress(`whole book run: ${BOOK_RUN.iters} iterations, ours against NumPy, alternating`);
  try {
    const probe = await createWasmBackend(); // the CLI's default backend: its threads
    const threads = probe.threads;
    await probe.close();
    bookRun = benchBookRun(settings.quick ? 1 : 3, numpyUnavailable(), threads, settings.quick ? [1] : [1, 2]);
  } catch (e) {
    skipped.push(`whole book run failed: ${(e as Error).message}`);
  }
}

const loadAtEnd = loadavg();
const fmtMiB = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const seconds = (performance.now() - started) / 1000;

// ------------------------------------------------------------------------------ report
const out: string[] = [];
const say = (s = '') => out.push(s);
const ref = results.find((r) => r.id === REFERENCE_ID);
const blas = numpyInfo
  ? `NumPy ${numpyInfo.numpy} (Python ${numpyInfo.python}), BLAS ${numpyInfo.blas.name ?? '?'} ${numpyInfo.blas.version ?? ''}` +
    (numpyInfo.openblas.core ? `, OpenBLAS core ${numpyInfo.openblas.core}` : '')
  : `NumPy: ${numpyMissing ?? 'not run'}`;

say(`# backprop benchmark${opts.quick ? ' (--quick)' : ''}${opts.full ? ' (--full)' : ''}, ${new Date().toISOString()}`);
say();
say(`machine: ${cpuModel()}, ${cores} logical cores; Node ${process.version} (V8 ${process.versions.v8}); ${blas}`);
say(`load average: ${loadAtStart[0].toFixed(2)} at start, ${loadAtEnd[0].toFixed(2)} at end (1 min, ${cores} cores)` +
  (loadAtStart[0] > 0.5 ? ' — other processes were running: timings are noisy, thread scaling especially' : ''));
const threadParts: string[] = [];
if (ours.some((r) => r.id === 'js')) threadParts.push('js 1');
const wasmThreads = ours.filter((r) => r.id.startsWith('wasm') && r.id !== 'wasm-user-loop').map((r) => r.threads);
if (wasmThreads.length) threadParts.push(`wasm ${wasmThreads.join(' and ')}${memory ? ` (memory run: the default, ${memory.threads})` : ''}`);
if (numpyRun) threadParts.push(`NumPy OPENBLAS_NUM_THREADS=${settings.quick ? '1 (2: not in --quick)' : '1 and 2'}`);
if (tfjsRun) threadParts.push(`TF.js 1 (WASM backend: WASM_HAS_MULTITHREAD_SUPPORT=${tfjsRun.wasmThreads} in Node; the CPU backend is single-threaded)`);
say(`threads: ${threadParts.join('; ') || 'nothing ran'}`);
if (numpyRun) say(`NumPy environment: ${numpyRun.envNote}`);
if (numpyRun) say(numpyRun.jaxNote);
if (tfjsRun) {
  const g = Object.entries(tfjsRun.gradients).map(([b, x]) => `${b}: ${x.used === 'manual' ? 'hand-written (book) gradients' : 'tf.valueAndGrads'}` +
    (x.trialMs ? ` (trial ms/iter: hand-written ${x.trialMs.manual.toFixed(2)}, tf.valueAndGrads ${x.trialMs.auto.toFixed(2)})` : ' (forced)'));
  say(`TF.js ${tfjsRun.version}: SIMD ${tfjsRun.wasmSimd}; explicit tf.transpose; batch gathered in JS; gradients ${g.join('; ')}`);
}
say(`data: ${data.source}: ${data.train.count.toLocaleString('en')} training, ${data.test.count.toLocaleString('en')} test rows`);
say(`recipe: ${RECIPE.inputSize}-${RECIPE.hiddenSize}-${RECIPE.outputSize}, batch ${RECIPE.batchSize}, lr ${RECIPE.lr}, SGD; every implementation starts from the same weights and trains on the same ${totalIters(settings)} batches`);
say(`protocol: ${settings.warmup} warm-up iterations (this project's wasm rows: ${settings.engineWarmup.toLocaleString('en')} more before them, on a copy of the net, to time the JIT and the thread pool warm), then ${settings.runs} timed runs × ${settings.itersPerRun}; ms/iter = median of runs, each run's first ${settings.untimedPerRun} steps untimed; ` +
  `${opts.turns ? 'the rows take turns (--turns: round r of the runs, then of the accuracy passes, starts at row r; TF.js CPU and JAX alone after them; bench/rows.ts)' : 'the rows one after another, each its whole run alone (--turns: in turns)'}; ` +
  `step = gather batch + forward/loss + backward + SGD update (this project's rows, as its Trainer: the next batch's rows gathered during the step by gatherRowsAhead, on the idle thread with 2 threads; the user's loop gathers in the step); ` +
  `accuracy pass = median of ${settings.evalRuns} (js, TF.js CPU: ${settings.slowEvalRuns}) after the training run`);
for (const s of skipped) say(`SKIPPED: ${s}`);
for (const n of notes) say(`note: ${n}`);

say();
say('## Training step and accuracy pass (60,000 + 10,000 rows)');
say();
say(trainingTable(results));
say();
say(`ref = NumPy float32, 1 thread, same work; "speed vs ref" = ref time / time (> 1: faster than NumPy float32).` +
  (ref ? '' : ' NumPy did not run: no ratios.'));
say('"book code" rows run the book\'s layers as they are: Affine1.backward also computes dx, which nobody uses (1/3 of the products); "same work" skips it, as src/nets/TwoLayerNet.ts does.');
if (userLoop) {
  say(`user's loop (the book's train_neuralnet.py against the library: ops.gatherRows without out, net.gradient, SGD.update; no accuracy pass; in a new process, as a user's program: bench/userLoopProcess.ts): ` +
    `${userLoop.freshMs.toFixed(3)} ms/iter against ${userLoop.reuseMs.toFixed(3)} for the same loop reusing its batch, in alternating runs (means): ` +
    `${(userLoop.freshMs / userLoop.reuseMs).toFixed(3)}× (CPU time ${userLoop.cpuRatio.toFixed(3)}×) over ${userLoop.timedIters.toLocaleString('en')} steps of each, after ${userLoop.warmupIters.toLocaleString('en')} warm-up steps of each (${userLoop.warmupReclaims} reclaims); ` +
    `${userLoop.reclaims} reclaims of dropped blocks during the timed runs (${(userLoop.reclaimMs / Math.max(1, userLoop.reclaims)).toFixed(1)} ms each), ` +
    `wasm memory ${fmtMiB(userLoop.wasmMemoryStartBytes)} MB with the data and nets, ${fmtMiB(userLoop.wasmMemoryBytes)} MB at the end.`);
}
say('Accuracy pass: ours 4,000-row chunks (TwoLayerNet.accuracy: fused products; x·W1 skips zero pixels, on 1 or 2 threads, where fewer than 75% of the p are non-zero in a pair of rows, the rows paired with rows alike: src/kernels/wasm/assembly/sparse.ts); NumPy and TF.js each set at once (the book\'s accuracy()).');
if (tfjsRun && Object.values(tfjsRun.gradients).some((g) => g.used === 'auto')) {
  say('tf.valueAndGrads differentiates log(y + 1e-7) exactly rather than using the book\'s (y − t)/N: its accuracies may differ in the 4th digit.');
}
const accs = results.filter((r) => r.testAccuracy !== undefined);
if (accs.length > 1) {
  const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
  say(`same work check: after ${totalIters(settings)} iterations the test accuracies differ by at most ${spread(accs.map((r) => r.testAccuracy!)).toFixed(4)}, ` +
    `train accuracies by ${spread(accs.map((r) => r.trainAccuracy!)).toFixed(4)}, last-run losses by ${spread(accs.map((r) => r.lastRunMeanLoss!)).toExponential(1)} across ${accs.length} runs.`);
}

if (digits && digits.length > 0) {
  say();
  say('## The same on the bundled MNIST digits (the book\'s data), 60,000 + 10,000 rows');
  say();
  say(trainingTable(digits));
  say();
  say('The bundled digits (8,000 / 2,000) tiled to 60,000 + 10,000 rows; the same recipe, initial weights and batch indices as above. ' +
    '80% of a digit\'s pixels are 0: our first layer\'s two products skip them (x·W1 over the pairs of rows alike not both 0 at a pixel, dW1 = xᵀ·dout over the rows whose 3 adjacent pixels are not all 0: ' +
    'src/kernels/wasm/assembly/sparse.ts, the blocked product\'s numbers bit for bit), where the share of the work left is low enough; NumPy multiplies every pixel. ref = NumPy float32, 1 thread, same work, on these rows.');
}

say();
say('## Matrix products, float32 GFLOPS (in parentheses: vs ref, NumPy float32 1 thread)');
say();
say(matmulTable(results));
say();
say('GFLOPS = 2·M·K·N / time, median of samples; ours with arrays in the backend\'s storage; NumPy with transposed views (BLAS flags, no copy); TF.js with tf.transpose included.');
say('The first three are the products of a training step: x·W1, dW1 = xᵀ·dout, and Affine1\'s dx = dout·W1ᵀ (which our step and the "same work" NumPy skip).');
for (const r of results) {
  const backed = Object.entries(r.matmulBackOffs ?? {}).filter(([, count]) => count > 0);
  if (backed.length > 0) {
    const label = (key: string) => MATMUL_SHAPES.find((sh) => sh.key === key)?.label ?? key;
    say(`${r.label}: its thread pool stepped back to one thread (a worker starved of CPU: another process holding a core) while these were timed, so their figures are partly one thread's: ${backed.map(([k, count]) => `${label(k)} ${count}×`).join(', ')}.`);
  }
}

if (peaks) {
  const wasm1 = ours.find((r) => r.id === 'wasm-1t');
  const top = Math.max(peaks.plain ?? 0, peaks.fused ?? 0);
  const relaxed1 = results.find((r) => r.id === 'wasm-relaxed-1t');
  /** A row's GFLOPS as % of the peak: the MNIST products, then SimpleConvNet's. */
  const pctOfPeak = (r: ImplResult, peak: number) => [MNIST_SHAPE_KEYS, CONV_SHAPE_KEYS]
    .map((keys) => keys.filter((k) => r.matmul![k] !== undefined).map((k) => `${k} ${((100 * r.matmul![k]) / peak).toFixed(0)}%`).join(', '))
    .filter(Boolean).join('; ');
  const fmtPeak = (g: number | null, err?: string) => (g === null ? `not measured (${err})` : `${g.toFixed(1)} GFLOPS`);
  say();
  say(`Peaks of 128-bit SIMD here, float32, 1 thread (12 independent f32x4 accumulators, best of samples): mul then add ${fmtPeak(peaks.plain, peaks.plainError)}; ` +
    `relaxed_madd ${fmtPeak(peaks.fused, peaks.fusedError)}` + (top > 0 && wasm1?.matmul
      ? `. wasm 1 thread (${wasm1.label.includes('relaxed') ? 'relaxed' : 'plain'} SIMD build, as 'auto' picked): ${pctOfPeak(wasm1, top)} of the higher peak` +
        (relaxed1?.matmul ? `; relaxed-SIMD build: ${pctOfPeak(relaxed1, top)}.` : '.')
      : '.') + ' A peak below a product\'s figure means the loop is latency-bound on this core or its samples were interrupted by other processes.');
  const layerRows = ours.filter((r) => r.layerConv);
  if (layerRows.length) {
    say();
    say(`SimpleConvNet's products as its Convolution layer runs them (${LAYER_CONV_BATCH} per-image products, matmulBatch; the FLOPs of the conv shapes above), GFLOPS: ` +
      layerRows.map((r) => `${r.label.replace('this project, ', '')}: ` + LAYER_CONV_PRODUCTS.map(({ key, label }) => {
        const g = r.layerConv![key];
        return `${label} ${g.toFixed(1)}${r.threads === 1 && top > 0 ? ` (${((100 * g) / top).toFixed(0)}% of the higher peak)` : ''}`;
      }).join(', ')).join('; ') + '.');
  }
}

say();
say('## Targets (reported, not asserted)');
say();
const checks = checkTargets(results, ours, full);
if (conv) checks.push(...convTargetChecks(conv).filter((c) => ours.some((r) => r.id === c.impl)));
if (bookRun) checks.push(...bookRun.checks);
// with only the book run, its own configurations are the columns
const targetColumns: ImplResult[] = ours.length ? ours : (bookRun?.rows.filter((r) => r.id.startsWith('wasm')).map((r) => ({ id: r.id, label: r.label, threads: r.threads })) ?? []);
say(targetColumns.length ? targetTable(checks, targetColumns) : '(none of our backends ran)');
say('NumPy comparisons are against NumPy\'s fastest figure using at most as many threads as the column.');

say();
say('## SimpleConvNet training step (the book\'s ch07, batch 100, Adam lr 0.001)');
say();
if (conv) {
  for (const s of conv.skipped) say(`SKIPPED: ${s}`);
  for (const n of conv.notes) say(`note: ${n}`);
  say(convTable(conv, table));
  say();
  const c = conv.settings;
  say(`${c.warmup} warm-up steps of each, then ${c.runs} rounds in which each runs ${c.itersPerRun} steps in turn (python3 serves its rows' steps); ms/step = median of rounds; ` +
    'step = gather batch + gradient (forward with loss, backward) + Adam update, the loss read back every step; ' +
    `"speed vs book" = median of the rounds' ${CONV_REFERENCE_ID.replace('conv-', '')} time / time; "fastest tenth" = 10th percentile of rounds; ` +
    `same initial weights and batches for every row; max |Δloss| over all ${c.warmup + c.runs * c.itersPerRun} steps' losses; the section took ${conv.seconds.toFixed(1)} s.`);
  say('The book\'s code also computes Conv1\'s unused dx (col2im); ours, NumPy "same work", JAX and TF.js skip it.');
  for (const r of conv.results) if (r.notes?.length) say(`${r.label}: ${r.notes.join('; ')}.`);
  for (const t of convTargetChecks(conv)) say(`target: ${t.target}, ${t.impl}: ${t.value === null ? 'no data' : `${t.value.toFixed(2)}× ${t.pass ? 'PASS' : 'MISS'}`} (against ${t.against ?? '–'})`);
} else {
  say(opts.only.has('conv') ? '(failed: see SKIPPED above)' : '(not run: select it with --only conv)');
}

say();
say('## Autograd vs the hand-written layers (two-layer step, wasm)');
say();
if (autograd) {
  const a = autograd;
  say(`| wasm ${a.threads} thread | layers ms/iter | autograd ms/iter | ratio (wall) | ratio (CPU time) | ratio (fastest tenth) | target ≤1.15× |`);
  say('|---|---:|---:|---:|---:|---:|---|');
  say(`| ${a.backend} | ${a.layersMs.toFixed(3)} | ${a.autogradMs.toFixed(3)} | ${a.ratio.toFixed(3)}× | ${a.cpuRatio.toFixed(3)}× | ${a.fastRatio.toFixed(3)}× | ` +
    `${a.ratio <= 1.15 ? 'PASS' : 'MISS'} (wall), ${a.fastRatio <= 1.15 ? 'PASS' : 'MISS'} (fastest tenth) |`);
  say();
  say(`${a.layersMsSamples.length} short runs alternate (layers, then autograd, on the same batches); ms/iter = median of runs; ratio = median of the pairs' ratios ` +
    '(wall, and the process\'s CPU time); "fastest tenth" compares the 10th percentiles, the runs other processes disturbed least; ' +
    `largest loss difference ${a.maxLossDiff.toExponential(1)} (same weights and batches; the autograd loss is a float32 tensor, the layers' a double).`);
} else {
  say('(not run: select it with --only autograd)');
}

say();
say('## wasm backend memory over a long run');
say();
if (memory) {
  say(memoryTable(memory));
  say();
  const growth = memory.end.wasmMemoryBytes - memory.afterTenth.wasmMemoryBytes;
  const rssGrowth = memory.end.rssBytes - memory.afterTenth.rssBytes;
  say(`${memory.iterations.toLocaleString('en')} iterations on wasm ${memory.threads} thread(s) in ${memory.seconds.toFixed(1)} s` +
    (opts.full ? '' : ' (a proxy for 100,000: run with --full for 100,000)') +
    `; from a tenth of the run to the end: wasm memory ${growth === 0 ? 'unchanged' : `${growth > 0 ? '+' : ''}${(growth / 2 ** 20).toFixed(1)} MB`}, ` +
    `RSS ${rssGrowth >= 0 ? '+' : ''}${(rssGrowth / 2 ** 20).toFixed(1)} MB.`);
} else {
  say('(not run: the wasm backend was not selected or could not load)');
}

say();
say('## Full default run (CLI defaults: bundled digits 8,000 / 2,000, 10,000 iterations, evaluation every epoch)');
say();
if (full && full.length) {
  say(fullRunTable(full));
  say();
  say('wall s = data conversion + src/train/train.ts (seed 0; 8,000 + 2,000 rows evaluated every epoch of 80 iterations and at the end), as `backprop train` runs it.');
}
else say(opts.full ? '(neither js nor wasm ran)' : 'skipped: takes several minutes with the js backend; run `npm run bench -- --full`');

say();
say(`## Whole book run (\`${bookRun?.command ?? `backprop train --seed ${BOOK_RUN.seed} --iters ${BOOK_RUN.iters}`}\` on the bundled digits 8,000 / 2,000, evaluation every epoch)`);
say();
if (bookRun) {
  say(bookRunTable(bookRun));
  say();
  say('s = each run\'s own clock: ours the report\'s final.seconds (first iteration to the final evaluation), NumPy the same loop in bench/numpy_two_layer.py --book-run ' +
    '(ch05/train_neuralnet.py: np.random batches and weights, every row of both sets evaluated each epoch and after the last iteration, no second forward pass for the loss). ' +
    `Runs alternate; median of ${bookRun.rows[0]?.samples.length ?? 0}. NumPy's environment: ${REMOVED_ENV.join(', ')} removed (this machine sets them to force Haswell kernels), OPENBLAS_NUM_THREADS as the row says. ` +
    'Targets against NumPy\'s best on at most as many threads.' + (bookRun.numpyMissing ? ` NumPy: ${bookRun.numpyMissing}.` : '') +
    bookRun.notes.map((n) => ` ${n}.`).join(''));
} else {
  say(opts.only.has('book') ? '(failed: see SKIPPED above)' : 'skipped: run `npm run bench -- --only book` (or --full)');
}

const jsonPath = opts.out ? resolve(opts.out) : fileURLToPath(new URL('./results/latest.json', import.meta.url));
say();
const shownPath = relative(process.cwd(), jsonPath).startsWith('..') ? jsonPath : relative(process.cwd(), jsonPath);
say(`run took ${seconds.toFixed(1)} s; results written to ${shownPath}`);

mkdirSync(dirname(jsonPath), { recursive: true });
const json = {
  date: new Date().toISOString(),
  flags: { quick: opts.quick, full: opts.full, only: [...opts.only], tfjsGrads: opts.tfjsGrads ?? null, turns: opts.turns },
  seconds,
  machine: { cpu: cpuModel(), logicalCores: cores, node: process.version, v8: process.versions.v8, loadAverageStart: loadAtStart, loadAverageEnd: loadAtEnd, numpy: numpyInfo },
  numpyEnvironment: numpyRun?.envNote ?? null,
  tfjs: tfjsRun ? { version: tfjsRun.version, wasmSimd: tfjsRun.wasmSimd, wasmThreads: tfjsRun.wasmThreads, gradients: tfjsRun.gradients } : null,
  data: { source: data.source, trainRows: data.train.count, testRows: data.test.count },
  recipe: RECIPE,
  settings,
  reference: REFERENCE_ID,
  results,
  digits,
  targets: checks,
  memory,
  autograd,
  conv,
  userLoop,
  peaks,
  jax: numpyRun?.jaxNote ?? null,
  fullRun: full,
  bookRun,
  skipped,
  notes,
};
writeFileAtomic(jsonPath, JSON.stringify(json, null, 2) + '\n');
process.stdout.write(out.join('\n') + '\n');
