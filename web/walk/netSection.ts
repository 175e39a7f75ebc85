/**
 * Section 5.7.1, the two-layer net's graph: Affine1 → Relu1 → Affine2 → SoftmaxWithLoss with
 * the shape of every tensor, for a batch size and hidden size the learner picks, stepped layer
 * by layer forward and backward.
 */
import { renderLayersSvg, twoLayerNetGraph } from '../../src/graph/index.js';
import { formatShape } from '../../src/graph/format.js';
import { byId, h, uniqueSvgIds, wholeNumberInput } from '../dom.js';
import { onLangChange, richText, t } from '../i18n/index.js';
import { getWhole, setParam } from '../url.js';
import { Stepper } from './stepper.js';

/** The sizes of the figure. */
export interface NetDims {
  batch: number;
  hidden: number;
}

/**
 * The two-layer net's tensor graph as SVG. Drawn from src/graph/twoLayerNet.ts; this is the one
 * place to draw it from the autograd graph instead once autograd is on main.
 */
export function twoLayerFigure({ batch, hidden }: NetDims): string {
  return renderLayersSvg(twoLayerNetGraph({ batch, inputSize: 784, hiddenSize: hidden, outputSize: 10 }));
}

const LAYERS = ['Affine1', 'Relu1', 'Affine2', 'SoftmaxWithLoss'] as const;

export function setupNetSection(): void {
  const container = byId('net-figure', HTMLDivElement);
  const dims: NetDims = { batch: getWhole('net.N', 1, 1000, 100), hidden: getWhole('net.hidden', 1, 1000, 50) };
  const field = (key: keyof NetDims, max: number): [HTMLLabelElement, HTMLInputElement] => {
    const input = wholeNumberInput(`net-${key}`, 1, max, dims[key], (v) => {
      dims[key] = v;
      setParam(key === 'batch' ? 'net.N' : 'net.hidden', String(v));
      render();
    });
    return [h('label', { for: input.id }), input];
  };
  const [nLabel, nInput] = field('batch', 1000), [hLabel, hInput] = field('hidden', 1000);
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
    view.innerHTML = uniqueSvgIds(twoLayerFigure(dims), 'net');
    const title = view.querySelector('svg > title'); // the drawing's tooltip, in the page's language
    if (title) title.textContent = t.netFigureTitle(N, H);
    const s = formatShape;
    const fShown = stepper.forwardShown, bShown = stepper.backwardShown;
    const shapes = { x: s([N, 784]), W1: s([784, H]), h: s([N, H]), W2: s([H, 10]), y: s([N, 10]) };
    const forwardTexts = [t.netForwardAffine1(shapes.x, shapes.W1, shapes.h), t.netForwardRelu(shapes.h), t.netForwardAffine2(shapes.h, shapes.W2, shapes.y), t.netForwardLoss(shapes.y)];
    const backwardTexts = [t.netBackwardLoss(shapes.y, N), t.netBackwardAffine2(shapes.y, shapes.W2, shapes.h), t.netBackwardRelu(shapes.h), t.netBackwardAffine1(shapes.h, shapes.W1)];
    const text = !stepper.stepping ? t.netAll : fShown === 0 ? t.netStart : bShown === 0 ? forwardTexts[fShown - 1] : backwardTexts[bShown - 1];
    status.replaceChildren(...richText(text));
    // mark the layer box the step is at
    const current = !stepper.stepping || fShown === 0 ? null : bShown === 0 ? LAYERS[fShown - 1] : LAYERS[4 - bShown];
    for (const label of view.querySelectorAll('text')) {
      if (label.textContent === current) label.previousElementSibling?.classList.add('current-box');
    }
  }

  onLangChange(render);
  render();
}
