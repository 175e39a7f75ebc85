/**
 * Section 5.7.3, gradient check (梯度确认): a small TwoLayerNet in float64, its gradients by
 * backpropagation and by central differences, per parameter, with the differences, and the
 * elements where a ±h nudge moves a hidden unit across ReLU's kink at 0 marked: there the
 * numerical gradient is wrong, not backprop.
 */
import { TwoLayerNet } from '../../src/nets/TwoLayerNet.js';
import { numericalGradient } from '../../src/functions/numericalGradient.js';
import { addBias, matmul } from '../../src/tensor/ops.js';
import { Tensor } from '../../src/tensor/Tensor.js';
import { Random } from '../../src/random.js';
import { byId, h, wholeNumberInput } from '../dom.js';
import { onLangChange, richText, t } from '../i18n/index.js';
import { getParam, getWhole, setParam } from '../url.js';
import { type Rows, cellText, matrixView, rowsOf } from './matrix.js';
import { Stepper } from './stepper.js';

const SIZES = { input: 4, hidden: 5, output: 3, batch: 3 };
const STEPS = ['1e-4', '1e-3', '1e-2', '1e-1'];

export function setupGradcheckSection(): void {
  const container = byId('gradcheck-figure', HTMLDivElement);
  let seed = getWhole('gradcheck.seed', 0, 2 ** 31, 1);
  let hText = STEPS.includes(getParam('gradcheck.h') ?? '') ? getParam('gradcheck.h')! : '1e-4';

  const seedInput = wholeNumberInput('gradcheck-seed', 0, 2 ** 31, seed, (v) => {
    seed = v;
    setParam('gradcheck.seed', v === 1 ? null : String(v));
    render();
  });
  const seedLabel = h('label', { for: seedInput.id });
  const hSelect = h('select', { id: 'gradcheck-h' }, ...STEPS.map((s) => h('option', { value: s }, s)));
  hSelect.value = hText;
  const hLabel = h('label', { for: hSelect.id });
  const stepper = new Stepper('gradcheck', () => ({ forward: 1, backward: 2 }), render);
  const status = h('p', { id: 'gradcheck-status', class: 'status', 'aria-live': 'polite' });
  const out = h('div', { id: 'gradcheck-out' });
  container.append(h('div', { class: 'settings' }, h('div', { class: 'field' }, seedLabel, seedInput), h('div', { class: 'field' }, hLabel, hSelect)),
    stepper.element, status, out);

  hSelect.addEventListener('change', () => {
    hText = hSelect.value;
    setParam('gradcheck.h', hText === '1e-4' ? null : hText);
    render();
  });

  function render(): void {
    const h_ = Number(hText);
    const rng = new Random(seed);
    const net = new TwoLayerNet(SIZES.input, SIZES.hidden, SIZES.output, 0.1, { rng, dtype: 'float64' });
    const x = Tensor.zeros([SIZES.batch, SIZES.input], { dtype: 'float64' });
    for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
    const labels = Array.from({ length: SIZES.batch }, () => rng.int(SIZES.output));
    const loss = net.loss(x, labels);
    // numerical first: gradient() returns the layers' own buffers, which a later loss() would not touch, but keep the order plain
    const numerical = Object.fromEntries(TwoLayerNet.paramNames.map((k) => [k, rowsOf(numericalGradient(() => net.loss(x, labels), net.params[k], h_))]));
    const grads = net.gradient(x, labels);
    const backprop = Object.fromEntries(TwoLayerNet.paramNames.map((k) => [k, rowsOf(grads[k])]));
    // hidden pre-activations z = x·W1 + b1: a nudge of W1[j][k] by ±h moves z[n][k] by ±h·x[n][j]
    const z = rowsOf(addBias(matmul(x, net.params.W1), net.params.b1));
    const xr = rowsOf(x);
    const kink: Record<string, (i: number, j: number) => boolean> = {
      W1: (j, k) => z.some((zn, n) => Math.abs(zn[k]) < h_ * Math.abs(xr[n][j])),
      b1: (_i, k) => z.some((zn) => Math.abs(zn[k]) < h_),
      W2: () => false,
      b2: () => false,
    };

    seedLabel.textContent = t.gradcheckSeed;
    hLabel.textContent = t.gradcheckH;
    const fShown = stepper.forwardShown, bShown = stepper.backwardShown;
    status.replaceChildren(...richText(!stepper.stepping ? t.gradcheckAll
      : fShown === 0 ? t.gradcheckStart : bShown === 0 ? t.gradcheckForward(cellText(loss)) : bShown === 1 ? t.gradcheckBackprop : t.gradcheckNumerical(hText)));
    const parts: HTMLElement[] = [h('p', { translate: 'no', class: 'formula' }, `TwoLayerNet(${SIZES.input}, ${SIZES.hidden}, ${SIZES.output}), N = ${SIZES.batch}, t = [${labels.join(', ')}], L = ${fShown ? cellText(loss) : '?'}`)];
    if (bShown >= 2) {
      let kinks = 0;
      const summary = TwoLayerNet.paramNames.map((k) => {
        const a = backprop[k].flat(), b = numerical[k].flat();
        const diffs = a.map((v, i) => Math.abs(v - b[i]));
        const cols = backprop[k][0].length;
        kinks += diffs.filter((_, i) => kink[k](Math.floor(i / cols), i % cols)).length;
        return h('tr', { 'data-param': k }, h('td', { translate: 'no' }, k), h('td', { class: 'num mean' }, cellText(diffs.reduce((s, d) => s + d, 0) / diffs.length)),
          h('td', { class: 'num max' }, cellText(Math.max(...diffs))));
      });
      parts.push(h('table', { id: 'gradcheck-summary', class: 'scroll' }, h('caption', {}, t.gradcheckSummaryCaption),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t.gradcheckParam), h('th', { scope: 'col', class: 'num' }, t.gradcheckMean), h('th', { scope: 'col', class: 'num' }, t.gradcheckMax))),
        h('tbody', {}, ...summary)));
      parts.push(h('p', { id: 'gradcheck-kinks' }, ...richText(kinks ? t.gradcheckKinks(kinks, hText) : t.gradcheckNoKinks(hText))));
    }
    const row = h('div', { class: 'matrices' });
    for (const k of TwoLayerNet.paramNames) {
      const diff: Rows = backprop[k].map((r, i) => r.map((v, j) => Math.abs(v - numerical[k][i][j])));
      const cls = (i: number, j: number): string => (kink[k](i, j) ? 'kink' : '');
      const group = h('div', { class: 'param-group', 'data-param': k },
        matrixView(backprop[k], { name: `d${k}`, shape: net.params[k].shape, title: t.gradcheckBackpropTitle, key: `gradcheck-${k}-backprop`, unknown: bShown < 1, cellClass: cls }),
        matrixView(numerical[k], { name: `d${k}`, shape: net.params[k].shape, title: t.gradcheckNumericalTitle, key: `gradcheck-${k}-numerical`, unknown: bShown < 2, cellClass: cls }),
        matrixView(diff, { name: `|Δd${k}|`, shape: net.params[k].shape, title: t.gradcheckDiffTitle, key: `gradcheck-${k}-diff`, unknown: bShown < 2, cellClass: cls }));
      row.append(group);
    }
    parts.push(row);
    out.replaceChildren(...parts);
  }

  onLangChange(render);
  render();
}
