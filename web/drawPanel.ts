/**
 * Part 3, drawing a digit: a 280×280 canvas drawn on with pointer events, the drawing as the
 * network sees it (28×28), the ten class probabilities, and the first layer's weights.
 */
import { byId, h } from './dom.js';
import { onLangChange, t } from './i18n/index.js';
import { SIDE, inkFromRgba, toMnist } from '../src/data/preprocess.js';
import type { WorkerClient } from './workerClient.js';

/** Stroke width on the 280 px canvas: about 2 px once scaled to MNIST's 20 px box. */
const PEN_WIDTH = 20;
/** What the status line under the drawing says. */
type Said = { kind: 'empty' | 'untrained' } | { kind: 'says'; best: number; probability: string; label: number | null };

/** Hidden units drawn at most (a wide hidden layer would fill the page). */
const MAX_UNITS_SHOWN = 100;

export function setupDrawPanel(client: WorkerClient): void {
  const canvas = byId('draw-canvas', HTMLCanvasElement);
  const preview = byId('draw-preview', HTMLCanvasElement);
  const clearButton = byId('draw-clear', HTMLButtonElement);
  const sampleButton = byId('draw-sample', HTMLButtonElement);
  const status = byId('draw-status', HTMLParagraphElement);
  const probsList = byId('draw-probs', HTMLOListElement);
  const weightsBox = byId('weights', HTMLDivElement);
  const weightsCaption = byId('weights-caption', HTMLParagraphElement);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const previewCtx = preview.getContext('2d')!;

  let hasInk = false;
  let last: { x: number; y: number } | null = null;
  let sampleLabel: number | null = null;
  /** The id of the latest prediction asked for; older answers are dropped. */
  let requestId = 0;
  let inFlight = false;
  let dirty = false;
  let frameQueued = false;
  /** What the status line says, kept to say it again in another language. */
  let said: Said = { kind: 'empty' };
  /** The weights shown: how many hidden units, how many drawn. */
  let weights: { hidden: number; shown: number } | null = null;

  function showStatus(s: Said): void {
    said = s;
    if (s.kind !== 'says') {
      status.textContent = s.kind === 'empty' ? t.drawEmpty : t.drawUntrained;
      return;
    }
    const truth = s.label === null ? '' : t.sentenceGap + (s.label === s.best ? t.drawRight(s.label) : t.drawWrong(s.label));
    status.textContent = t.drawSays(s.best, s.probability) + truth;
  }

  function showWeightsCaption(): void {
    weightsCaption.textContent = weights ? t.weightsCaption(weights.hidden, weights.shown) : t.weightsCaptionEmpty;
    for (const [j, c] of Array.from(weightsBox.children).entries()) c.setAttribute('title', t.hiddenUnit(j + 1));
  }
  onLangChange(() => {
    showStatus(said);
    showWeightsCaption();
  });

  function clear(): void {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    previewCtx.clearRect(0, 0, SIDE, SIDE);
    hasInk = false;
    sampleLabel = null;
    probsList.replaceChildren();
    showStatus({ kind: 'empty' });
    delete probsList.dataset.sum;
  }

  /** A point of a pointer event in canvas pixels (the canvas may be scaled by CSS). */
  function at(e: PointerEvent): { x: number; y: number } {
    const r = canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * canvas.width) / r.width, y: ((e.clientY - r.top) * canvas.height) / r.height };
  }

  function strokeTo(p: { x: number; y: number }): void {
    ctx.strokeStyle = '#000';
    ctx.lineWidth = PEN_WIDTH;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(last?.x ?? p.x, last?.y ?? p.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    last = p;
    hasInk = true;
  }

  canvas.addEventListener('pointerdown', (e) => {
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    if (sampleLabel !== null) clear(); // drawing over a test digit starts afresh
    last = null;
    strokeTo(at(e));
    queuePrediction();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!canvas.hasPointerCapture(e.pointerId)) return;
    for (const ev of e.getCoalescedEvents?.() ?? [e]) strokeTo(at(ev));
    queuePrediction();
  });
  const end = (e: PointerEvent): void => {
    if (!canvas.hasPointerCapture(e.pointerId)) return;
    canvas.releasePointerCapture(e.pointerId);
    last = null;
    queuePrediction();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  /** Once per frame at most: downsample the drawing and ask the worker what it sees. */
  function queuePrediction(): void {
    if (frameQueued) return;
    frameQueued = true;
    requestAnimationFrame(() => {
      frameQueued = false;
      predict();
    });
  }

  function predict(): void {
    if (!hasInk) return;
    if (inFlight) {
      dirty = true; // ask again when the answer comes
      return;
    }
    const pixels = toMnist(inkFromRgba(ctx.getImageData(0, 0, canvas.width, canvas.height).data), canvas.width, canvas.height);
    if (!pixels) return;
    showPreview(pixels);
    inFlight = true;
    dirty = false;
    client.send({ type: 'predict', id: ++requestId, pixels }, [pixels.buffer]);
  }

  function showPreview(pixels: Float32Array): void {
    const img = previewCtx.createImageData(SIDE, SIDE);
    for (let i = 0; i < pixels.length; i++) {
      const v = Math.round(pixels[i] * 255); // white ink on black, as MNIST stores it
      img.data.set([v, v, v, 255], 4 * i);
    }
    previewCtx.putImageData(img, 0, 0);
  }

  function showProbabilities(probs: Float32Array): void {
    let best = 0;
    for (let d = 1; d < probs.length; d++) if (probs[d] > probs[best]) best = d;
    probsList.replaceChildren(...Array.from(probs, (p, d) => {
      const fill = h('span');
      fill.style.width = `${(p * 100).toFixed(1)}%`;
      return h('li', { 'data-digit': String(d), 'data-prob': String(p), class: d === best ? 'best' : '' },
        h('span', { class: 'd' }, String(d)), h('span', { class: 'bar', 'aria-hidden': 'true' }, fill),
        h('span', { class: 'p' }, p.toFixed(3)));
    }));
    probsList.dataset.sum = String(probs.reduce((s, p) => s + p, 0));
    showStatus({ kind: 'says', best, probability: probs[best].toFixed(3), label: sampleLabel });
  }

  function showWeights(W1: Float32Array, hidden: number): void {
    const shown = Math.min(hidden, MAX_UNITS_SHOWN);
    if (weightsBox.children.length !== shown) {
      weightsBox.replaceChildren(...Array.from({ length: shown }, (_, j) =>
        h('canvas', { width: String(SIDE), height: String(SIDE), title: t.hiddenUnit(j + 1) })));
    }
    Array.from(weightsBox.children).forEach((el, j) => {
      const c = (el as HTMLCanvasElement).getContext('2d')!;
      const img = c.createImageData(SIDE, SIDE);
      let maxAbs = 1e-12;
      for (let i = 0; i < SIDE * SIDE; i++) maxAbs = Math.max(maxAbs, Math.abs(W1[i * hidden + j]));
      for (let i = 0; i < SIDE * SIDE; i++) {
        const w = W1[i * hidden + j] / maxAbs; // W1 is 784 × hidden: unit j is column j
        const fade = Math.round(255 * (1 - Math.abs(w)));
        img.data.set(w >= 0 ? [255, fade, fade, 255] : [fade, fade, 255, 255], 4 * i);
      }
      c.putImageData(img, 0, 0);
    });
    weights = { hidden, shown };
    showWeightsCaption();
  }

  function drawSample(pixels: Uint8Array, label: number): void {
    // the 28×28 test image, dark on white, scaled up to the drawing canvas
    const small = h('canvas', { width: String(SIDE), height: String(SIDE) });
    const sctx = small.getContext('2d')!;
    const img = sctx.createImageData(SIDE, SIDE);
    for (let i = 0; i < pixels.length; i++) img.data.set([255 - pixels[i], 255 - pixels[i], 255 - pixels[i], 255], 4 * i);
    sctx.putImageData(img, 0, 0);
    clear();
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
    hasInk = true;
    sampleLabel = label;
    queuePrediction();
  }

  client.on((msg) => {
    switch (msg.type) {
      case 'ready':
        sampleButton.disabled = false;
        return;
      case 'prediction':
        if (msg.id !== requestId) return;
        inFlight = false;
        if (dirty) return predict();
        if (!hasInk) return;
        if (msg.probabilities) return showProbabilities(msg.probabilities);
        probsList.replaceChildren();
        delete probsList.dataset.sum;
        showStatus({ kind: 'untrained' });
        return;
      case 'epoch':
        return queuePrediction(); // new weights: ask again
      case 'weights':
        return showWeights(msg.W1, msg.hidden);
      case 'state':
        if (msg.state === 'idle') {
          weightsBox.replaceChildren();
          weights = null;
          showWeightsCaption();
          queuePrediction();
        }
        return;
      case 'sample':
        return drawSample(msg.pixels, msg.label);
    }
  });

  showWeightsCaption();
  clearButton.addEventListener('click', clear);
  sampleButton.addEventListener('click', () => client.send({ type: 'sample' }));
  clear();
}
