/**
 * Part 2, training in the browser: the settings form, start / pause / reset, and the live
 * loss and accuracy charts. The training itself runs in the worker.
 */
import { downsample, lineChart } from './chart.js';
import { byId, h, setError } from './dom.js';
import { failureText } from './failures.js';
import { onLangChange, richText, t } from './i18n/index.js';
import { MAX_EPOCHS, type BackendInfo, type ModelFormat, type TrainFailure, type TrainState } from './protocol.js';
import { type EpochPoint, LIMITS, type TrainSettings, checkSettings } from './trainer.js';
import type { WorkerClient } from './workerClient.js';

const COLORS = { loss: '#1858c8', train: '#1858c8', test: '#c62828' };
const fixed = (x: number, digits = 3): string => x.toFixed(digits);
/** Longest note shown in full on the kernels line (an engine's CompileError can be a paragraph); the rest is in its tooltip. */
const NOTE_CHARS = 160;
/** The worker's note when the page asked for the TypeScript kernels (web/worker.ts), shown in the page's language. */
const JS_CHOSEN_NOTE = 'chosen with ?backend=js';

export function setupTrainPanel(client: WorkerClient): void {
  const form = byId('train-form', HTMLFormElement);
  const lrInput = byId('train-lr', HTMLInputElement);
  const hiddenInput = byId('train-hidden', HTMLInputElement);
  const batchInput = byId('train-batch', HTMLInputElement);
  const formError = byId('train-form-error', HTMLParagraphElement);
  const startButton = byId('train-start', HTMLButtonElement);
  const pauseButton = byId('train-pause', HTMLButtonElement);
  const resetButton = byId('train-reset', HTMLButtonElement);
  const status = byId('train-status', HTMLParagraphElement);
  const backendLine = byId('train-backend', HTMLParagraphElement);
  const progress = byId('train-progress', HTMLParagraphElement);
  const lossChart = byId('loss-chart', HTMLDivElement);
  const accChart = byId('acc-chart', HTMLDivElement);
  const epochRows = byId('epoch-table', HTMLTableElement).tBodies[0];
  const downloadButtons: Record<ModelFormat, HTMLButtonElement> = {
    safetensors: byId('download-safetensors', HTMLButtonElement),
    onnx: byId('download-onnx', HTMLButtonElement),
  };
  const downloadStatus = byId('download-status', HTMLParagraphElement);

  let state: TrainState = 'loading';
  let trainSize = 8000;
  /** Whether the worker has the digits (a start before that would be ignored). */
  let ready = false;
  let running: TrainSettings | null = null;
  let losses = new Float32Array(1024);
  let lossCount = 0;
  let points: EpochPoint[] = [];
  let drawQueued = false;
  let backend: BackendInfo | null = null;
  /** Iterations per second of the current run, as the worker last measured it. */
  let speed: number | null = null;
  /** The worker's last message with the state, kept to show it again in another language. */
  let lastFailure: TrainFailure | undefined;
  /** The last download's message, in the language shown (null: none yet). */
  let downloadSaid: (() => string) | null = null;

  /** "Kernels: WebAssembly SIMD, 2 threads · 850 iterations/s", and why not faster if so. */
  function showBackend(): void {
    if (!backend) return;
    const { threads, note } = backend;
    const name = backend.backend === 'wasm' ? 'WebAssembly SIMD' : t.kernelsJs;
    let text = t.kernelsLine(name, threads);
    if (speed !== null) text += ` · ${t.kernelsSpeed(Math.round(speed).toLocaleString('en'))}`;
    const children: (Node | string)[] = [text];
    if (note === JS_CHOSEN_NOTE) {
      children.push(' ', h('span', { class: 'note' }, '(', ...richText(t.kernelsChosenJs), ')'));
    } else if (note) {
      const short = note.length > NOTE_CHARS ? `${note.slice(0, NOTE_CHARS - 1)}…` : note;
      children.push(' ', h('span', { class: 'note', title: note }, `(${short})`));
    }
    backendLine.replaceChildren(...children);
    backendLine.dataset.backend = backend.backend;
    backendLine.dataset.threads = String(threads);
    if (speed !== null) backendLine.dataset.iterationsPerSecond = String(speed);
    else delete backendLine.dataset.iterationsPerSecond;
    backendLine.classList.toggle('warn', backend.fallback === true);
  }

  function readSettings(): TrainSettings | null {
    // an empty or unreadable number box reads as 0, which every check refuses
    const settings = { lr: Number(lrInput.value), hidden: Number(hiddenInput.value), batchSize: Number(batchInput.value) };
    const problem = checkSettings(settings, trainSize);
    const culprit = !problem ? null : problem.startsWith('learning') ? lrInput : problem.startsWith('hidden') ? hiddenInput : batchInput;
    for (const input of [lrInput, hiddenInput, batchInput]) input.removeAttribute('aria-invalid');
    const reason = culprit === lrInput ? t.problemLr(LIMITS.lr.min, LIMITS.lr.max)
      : culprit === hiddenInput ? t.problemHidden(LIMITS.hidden.min, LIMITS.hidden.max) : t.problemBatch(trainSize);
    setError(culprit, formError, problem && t.cannotStart(reason));
    return problem ? null : settings;
  }

  function clearRun(): void {
    speed = null;
    showBackend();
    losses = new Float32Array(1024);
    lossCount = 0;
    points = [];
    epochRows.replaceChildren();
    progress.textContent = '';
    delete progress.dataset.testAccuracy;
    delete progress.dataset.trainAccuracy;
    queueDraw();
  }

  function showState(failure?: TrainFailure): void {
    const locked = state === 'running' || state === 'paused' || state === 'loading';
    for (const input of [lrInput, hiddenInput, batchInput]) input.disabled = locked;
    startButton.disabled = !ready || state === 'running';
    startButton.textContent = state === 'paused' ? t.trainResume : t.trainStart;
    pauseButton.disabled = state !== 'running';
    // a stable network to save: paused or finished, after at least one epoch point
    for (const button of Object.values(downloadButtons)) button.disabled = !((state === 'paused' || state === 'finished') && points.length > 0);
    status.dataset.state = state;
    const last = points.at(-1);
    const texts: Record<TrainState, string> = {
      loading: t.trainLoading,
      idle: t.trainIdle(trainSize.toLocaleString('en')),
      running: t.trainRunning(running?.hidden ?? 0, running?.lr ?? 0, running?.batchSize ?? 0, MAX_EPOCHS),
      paused: t.trainPaused,
      finished: t.trainFinished(MAX_EPOCHS, last ? fixed(last.testAccuracy) : null),
      failed: t.trainFailed,
    };
    lastFailure = failure;
    // a failure comes from the worker as data: failureText words it in the page's language
    if (failure) status.replaceChildren(...richText(failureText(failure)));
    else status.textContent = texts[state];
    status.classList.toggle('error', state === 'failed' || failure !== undefined);
  }

  function queueDraw(): void {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(() => {
      drawQueued = false;
      drawCharts();
    });
  }

  function drawCharts(): void {
    const lossPoints = downsample(losses, lossCount);
    const perEpoch = running ? Math.max(1, Math.round(trainSize / running.batchSize)) : 1;
    lossChart.innerHTML = lineChart([{ name: t.chartLoss, color: COLORS.loss, points: lossPoints }], {
      xLabel: t.chartIteration, yLabel: t.chartLoss, xMax: Math.max(perEpoch, lossCount), integerX: true, width: lossChart.clientWidth,
      yMax: lossCount ? undefined : 2.5, // before training: the range a fresh net's loss (ln 10 ≈ 2.3) starts in
      description: lossCount ? t.chartLossDescription(lossCount, fixed(lossPoints.at(-1)![1])) : t.chartNoTraining,
    });
    const last = points.at(-1);
    accChart.innerHTML = lineChart([
      { name: t.chartTrain, color: COLORS.train, points: points.map((p) => [p.epoch, p.trainAccuracy]), dots: true },
      { name: t.chartTest, color: COLORS.test, points: points.map((p) => [p.epoch, p.testAccuracy]), dots: true },
    ], {
      xLabel: t.chartEpoch, yLabel: t.chartAccuracy, yMin: 0, yMax: 1, xMax: Math.max(1, last?.epoch ?? 1), integerX: true, width: accChart.clientWidth,
      description: last ? t.chartAccDescription(last.epoch, fixed(last.trainAccuracy), fixed(last.testAccuracy)) : t.chartNoAccuracy,
    });
  }

  client.on((msg) => {
    switch (msg.type) {
      case 'backend':
        backend = msg.info;
        return showBackend();
      case 'speed':
        speed = msg.iterationsPerSecond;
        return showBackend();
      case 'ready':
        trainSize = msg.trainSize;
        ready = true;
        batchInput.max = String(trainSize);
        return;
      case 'state':
        state = msg.state;
        // cleared here rather than on the click: losses sent before the worker saw "reset" arrive first
        if (state === 'idle' && running) {
          running = null;
          clearRun();
        }
        return showState(msg.failure);
      case 'losses': {
        while (lossCount + msg.losses.length > losses.length) {
          const bigger = new Float32Array(losses.length * 2);
          bigger.set(losses);
          losses = bigger;
        }
        losses.set(msg.losses, msg.first);
        lossCount = msg.first + msg.losses.length;
        return queueDraw();
      }
      case 'model': {
        if ('error' in msg) {
          const error = msg.error;
          downloadSaid = () => t.downloadCannot(error);
          showDownload();
          return;
        }
        saveFile(msg.bytes, msg.fileName);
        const { fileName, bytes, iteration } = msg;
        downloadSaid = () => t.downloadSaved(fileName, bytes.length.toLocaleString('en'), iteration.toLocaleString('en'));
        showDownload();
        return;
      }
      case 'epoch': {
        const p = msg.point;
        points.push(p);
        epochRows.append(h('tr', {},
          h('td', { class: 'num' }, String(p.epoch)), h('td', { class: 'num' }, String(p.iteration)), h('td', { class: 'num' }, fixed(p.loss)),
          h('td', { class: 'num' }, fixed(p.trainAccuracy)), h('td', { class: 'num' }, fixed(p.testAccuracy))));
        showProgress();
        progress.dataset.trainAccuracy = String(p.trainAccuracy);
        progress.dataset.testAccuracy = String(p.testAccuracy);
        return queueDraw();
      }
    }
  });

  form.addEventListener('submit', (e) => e.preventDefault());
  form.addEventListener('input', () => {
    if (!formError.hidden) readSettings(); // clear the message once the setting is fixed
  });
  startButton.addEventListener('click', () => {
    const settings = state === 'paused' ? running : readSettings();
    if (!settings) return;
    if (state !== 'paused') {
      running = settings;
      clearRun();
    }
    client.send({ type: 'start', settings });
  });
  pauseButton.addEventListener('click', () => client.send({ type: 'pause' }));
  resetButton.addEventListener('click', () => client.send({ type: 'reset' }));
  for (const [format, button] of Object.entries(downloadButtons) as [ModelFormat, HTMLButtonElement][]) {
    button.addEventListener('click', () => client.send({ type: 'export', format }));
  }

  /** The line under the download buttons: what they do, or what the last download did. */
  function showDownload(): void {
    downloadStatus.replaceChildren(...richText(downloadSaid ? downloadSaid() : t.downloadHint));
  }

  /** The line under the charts: the latest epoch's numbers. */
  function showProgress(): void {
    const p = points.at(-1);
    if (p) progress.textContent = t.trainProgress(p.epoch, p.iteration, fixed(p.loss), fixed(p.trainAccuracy), fixed(p.testAccuracy));
  }

  window.addEventListener('resize', queueDraw);
  onLangChange(() => {
    showBackend();
    showState(lastFailure);
    showProgress();
    showDownload();
    if (!formError.hidden) readSettings();
    queueDraw();
  });
  showState();
  showDownload();
  drawCharts();
}

/** Offers `bytes` to the user as a downloaded file named `fileName`. */
function saveFile(bytes: Uint8Array, fileName: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const link = h('a', { href: url, download: fileName });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
