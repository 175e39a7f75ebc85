/**
 * Section 5.7.1, the two-layer net's graph: Affine1 → Relu1 → Affine2 → SoftmaxWithLoss as
 * autograd records it (src/autograd, drawn by src/graph), with the shape of every tensor and
 * gradient, for a batch size and hidden size the learner picks, stepped node by node forward and
 * backward. What is drawn is what autograd computed: its forward values and the gradients its
 * backward left on every edge.
 */
import {
  AUTOGRAD_TEXT, autogradGraph, layoutGraph, renderSvg, twoLayerNetLoss,
} from '../../src/graph/index.js';
import { formatShape } from '../../src/graph/format.js';
import { byId, fitToWidth, h, uniqueSvgIds, wholeNumberInput } from '../dom.js';
import { onLangChange, richText, t } from '../i18n/index.js';
import { getWhole, setParam } from '../url.js';
import { Stepper } from './stepper.js';

/** The sizes of the figure. */
export interface NetDims {
  batch: number;
  hidden: number;
}

/** Largest batch and hidden size offered: autograd runs the whole net (784 inputs) on every change. */
export const MAX_SIZE = 200;

/**
 * The two-layer net's autograd graph as SVG, after forward and backward on a seeded batch, and
 * the picture indices (`data-node`) of its operations in the order forward runs them.
 */
export function twoLayerFigure({ batch, hidden }: NetDims): { svg: string; ops: number[] } {
  const L = twoLayerNetLoss({ batch, inputSize: 784, hiddenSize: hidden, outputSize: 10 });
  const graph = autogradGraph(L);
  const layout = layoutGraph(graph, AUTOGRAD_TEXT);
  return { svg: renderSvg(graph, layout, AUTOGRAD_TEXT), ops: layout.nodes.flatMap((b, k) => (b.node.fn ? [k] : [])) };
}

export function setupNetSection(): void {
  const container = byId('net-figure', HTMLDivElement);
  const dims: NetDims = { batch: getWhole('net.N', 1, MAX_SIZE, 100), hidden: getWhole('net.hidden', 1, MAX_SIZE, 50) };
  const field = (key: keyof NetDims, max: number): [HTMLLabelElement, HTMLInputElement] => {
    const input = wholeNumberInput(`net-${key}`, 1, max, dims[key], (v) => {
      dims[key] = v;
      setParam(key === 'batch' ? 'net.N' : 'net.hidden', String(v));
      render();
    });
    return [h('label', { for: input.id }), input];
  };
  const [nLabel, nInput] = field('batch', MAX_SIZE), [hLabel, hInput] = field('hidden', MAX_SIZE);
  let figure = twoLayerFigure(dims);
  let figureFor = JSON.stringify(dims);
  const stepper = new Stepper('net', () => ({ forward: 4, backward: 4 }), render);
  const status = h('p', { id: 'net-status', class: 'status', 'aria-live': 'polite' });
  const view = h('div', { id: 'net-view', class: 'graph-view', translate: 'no', tabindex: '0', role: 'region' });
  container.append(h('div', { class: 'settings' }, h('div', { class: 'field' }, nLabel, nInput), h('div', { class: 'field' }, hLabel, hInput)),
    stepper.element, status, view);

  function render(): void {
    const { batch: N, hidden: H } = dims;
    nLabel.textContent = t.batchSizeLabel;
    hLabel.textContent = t.trainHidden;
    view.setAttribute('aria-label', t.graphRegion);
    if (JSON.stringify(dims) !== figureFor) {
      figure = twoLayerFigure(dims);
      figureFor = JSON.stringify(dims);
    }
    view.innerHTML = uniqueSvgIds(figure.svg, 'net');
    const title = view.querySelector('svg > title'); // the drawing's tooltip, in the page's language
    if (title) title.textContent = t.netFigureTitle(N, H);
    const s = formatShape;
    const fShown = stepper.forwardShown, bShown = stepper.backwardShown;
    const shapes = { x: s([N, 784]), W1: s([784, H]), h: s([N, H]), W2: s([H, 10]), y: s([N, 10]) };
    const forwardTexts = [t.netForwardAffine1(shapes.x, shapes.W1, shapes.h), t.netForwardRelu(shapes.h), t.netForwardAffine2(shapes.h, shapes.W2, shapes.y), t.netForwardLoss(shapes.y)];
    const backwardTexts = [t.netBackwardLoss(shapes.y, N), t.netBackwardAffine2(shapes.y, shapes.W2, shapes.h), t.netBackwardRelu(shapes.h), t.netBackwardAffine1(shapes.h, shapes.W1)];
    const text = !stepper.stepping ? t.netAll : fShown === 0 ? t.netStart : bShown === 0 ? forwardTexts[fShown - 1] : backwardTexts[bShown - 1];
    status.replaceChildren(...richText(text));
    // forward: the first fShown operations have values; backward: the last bShown have run
    const { ops } = figure;
    const computed = new Set(ops.slice(0, fShown)), ran = new Set(ops.slice(ops.length - bShown));
    const current = !stepper.stepping || fShown === 0 ? null : bShown === 0 ? ops[fShown - 1] : ops[ops.length - bShown];
    const isOp = new Set(ops);
    for (const g of view.querySelectorAll('[data-node]')) {
      const k = Number(g.getAttribute('data-node'));
      if (!stepper.stepping || !isOp.has(k)) continue;
      g.classList.add(k === current ? 'current' : ran.has(k) ? 'done' : computed.has(k) ? 'computed' : 'unknown');
    }
    if (stepper.stepping) {
      for (const edge of view.querySelectorAll('.edge')) {
        const from = edge.getAttribute('data-from'), to = edge.getAttribute('data-to');
        const fromK = from === null ? ops[ops.length - 1] : Number(from);
        if (isOp.has(fromK) && !computed.has(fromK)) edge.querySelector('.value')!.textContent = '?';
        const gradKnown = to === null ? fShown === ops.length : ran.has(Number(to));
        if (!gradKnown) {
          edge.classList.add('pending');
          edge.querySelector('.grad')!.textContent = '?';
        }
      }
    }
    fitToWidth(view);
  }

  let lastWidth = 0;
  window.addEventListener('resize', () => {
    if (view.clientWidth !== lastWidth) render(); // refit the picture
    lastWidth = view.clientWidth;
  });
  onLangChange(render);
  render();
}
