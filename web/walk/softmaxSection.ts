/**
 * Section 5.6.3, Softmax-with-Loss: appendix A's graph for the first sample of a batch, stepped
 * backward until y − t appears at the scores, and the whole batch through the library's
 * SoftmaxWithLoss layer, with a "divide by the batch size" switch: (y − t)/N or y − t.
 */
import { formatNumber, graphInputs, softmaxWithLossGraph } from '../../src/graph/index.js';
import { SoftmaxWithLoss } from '../../src/layers/SoftmaxWithLoss.js';
import { softmaxLossBackward } from '../../src/tensor/ops.js';
import { Tensor } from '../../src/tensor/Tensor.js';
import { byId, h, wholeNumberInput } from '../dom.js';
import { onLangChange, richText, t } from '../i18n/index.js';
import { formatMatrix, getParam, getWhole, parseMatrix, setParam } from '../url.js';
import { graphPanel, type GraphView } from './graphPanel.js';
import { type Rows, matrixView, resizeRows, rowsOf } from './matrix.js';

const A_ROWS: Rows = [[0.3, 2.9, 4], [1, 0.5, -0.3], [-1, 2, 0.5], [0.2, 0.2, 1.5]];
const LABELS = [2, 0, 1, 2];
const CLASSES = 3;
export const MAX_N = 4;

const oneHot = (label: number): number[] => Array.from({ length: CLASSES }, (_, k) => (k === label ? 1 : 0));

export function setupSoftmaxSection(): void {
  const container = byId('softmax-figure', HTMLDivElement);
  let N = getWhole('softmax.N', 1, MAX_N, 2);
  let a = resizeRows(parseMatrix(getParam('softmax.a'), [1, MAX_N], CLASSES) ?? A_ROWS.slice(0, N).map((r) => [...r]), N, (i, j) => A_ROWS[i][j]);
  const savedT = getParam('softmax.t')?.split(',').map(Number) ?? [];
  let labels = Array.from({ length: N }, (_, i) => (Number.isInteger(savedT[i]) && savedT[i] >= 0 && savedT[i] < CLASSES ? savedT[i] : LABELS[i]));
  let divide = getParam('softmax.divide') !== '0';

  const nInput = wholeNumberInput('softmax-n', 1, MAX_N, N, (n) => {
    N = n;
    a = resizeRows(a, N, (i, j) => A_ROWS[i][j]);
    labels = Array.from({ length: N }, (_, i) => labels[i] ?? LABELS[i]);
    changed();
  });
  const nLabel = h('label', { for: nInput.id });
  const divideBox = h('input', { id: 'softmax-divide', type: 'checkbox' });
  divideBox.checked = divide;
  const divideLabel = h('label', { for: divideBox.id });
  const inputsTitle = h('h3');
  const inputs = h('div', { class: 'matrices', id: 'softmax-inputs' });
  const labelsBox = h('div', { class: 'values', id: 'softmax-labels' });
  const graphTitle = h('h3');
  const graphBox = h('div');
  const graphNote = h('div', { id: 'softmax-graph-note' });
  const batchTitle = h('h3');
  const batchBox = h('div', { id: 'softmax-batch' });
  container.append(
    h('div', { class: 'field' }, nLabel, nInput), h('div', { class: 'field check' }, divideBox, divideLabel),
    inputsTitle, inputs, labelsBox, graphTitle, graphBox, graphNote, batchTitle, batchBox);

  const panel = graphPanel(graphBox, {
    id: 'softmax', initial: { preset: 'apple' },
    build: () => softmaxWithLossGraph(a[0], oneHot(labels[0]), divide ? 1 / N : undefined),
    onRender: showGraphNote,
  });

  function save(): void {
    setParam('softmax.N', N === 2 ? null : String(N));
    setParam('softmax.a', formatMatrix(a));
    setParam('softmax.t', labels.join(','));
    setParam('softmax.divide', divide ? null : '0');
  }

  divideBox.addEventListener('change', () => {
    divide = divideBox.checked;
    changed();
  });

  function changed(): void {
    save();
    render();
    panel.update();
  }

  /** Under the graph, once backward has reached the scores: ∂L/∂ak beside yk − tk. */
  function showGraphNote(view: GraphView): void {
    if (view.backwardShown < view.steps.length) {
      graphNote.replaceChildren(h('p', { class: 'hint' }, t.softmaxKeepStepping));
      return;
    }
    const inputsByName = new Map(graphInputs(view.root).map((n) => [n.name!, n]));
    const rows = Array.from({ length: CLASSES }, (_, k) => {
      const ak = inputsByName.get(`a${k + 1}`)!;
      const yk = view.root.inputs.length ? softmaxOf(a[0])[k] : NaN;
      const tk = oneHot(labels[0])[k];
      return h('tr', {}, h('td', { translate: 'no' }, `a${k + 1}`), h('td', { class: 'num' }, formatNumber(yk)), h('td', { class: 'num' }, String(tk)),
        h('td', { class: 'num' }, formatNumber(divide ? (yk - tk) / N : yk - tk)), h('td', { class: 'num grad', 'data-k': String(k) }, formatNumber(ak.grad)));
    });
    graphNote.replaceChildren(h('p', {}, ...richText(divide ? t.softmaxGraphDoneDivided(N) : t.softmaxGraphDone)),
      h('table', { id: 'softmax-graph-table', class: 'scroll' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t.gradInput),
        h('th', { scope: 'col', class: 'num' }, 'y'), h('th', { scope: 'col', class: 'num' }, 't'),
        h('th', { scope: 'col', class: 'num' }, divide ? '(y − t)/N' : 'y − t'), h('th', { scope: 'col', class: 'num' }, t.softmaxFromGraph))),
      h('tbody', {}, ...rows)));
  }

  /** The softmax of one row, from the library's layer (what the graph's exp, sum and 1/S nodes compute). */
  function softmaxOf(row: number[]): number[] {
    const layer = new SoftmaxWithLoss();
    layer.forward(Tensor.from([row], undefined, { dtype: 'float64' }), [0]);
    return rowsOf(layer.y!)[0];
  }

  function render(): void {
    const layer = new SoftmaxWithLoss();
    const loss = layer.forward(Tensor.from(a, undefined, { dtype: 'float64' }), labels);
    // the layer divides by the batch size; without it, the same operation with scale 1
    const dx = rowsOf(divide ? layer.backward() : softmaxLossBackward(layer.y!, layer.t!, 1));
    const y = rowsOf(layer.y!);
    const tRows = labels.map(oneHot);

    nLabel.textContent = t.batchSizeLabel;
    divideLabel.textContent = t.softmaxDivideLabel;
    inputsTitle.textContent = t.softmaxInputsTitle;
    graphTitle.textContent = t.softmaxGraphTitle;
    batchTitle.textContent = t.softmaxBatchTitle;
    inputs.replaceChildren(matrixView(a, {
      name: 'a', key: 'softmax-a',
      edit: (i, j, v) => { a[i][j] = v; changed(); },
    }));
    labelsBox.replaceChildren(...labels.map((label, i) => {
      const select = h('select', { id: `softmax-t-${i}` }, ...Array.from({ length: CLASSES }, (_, k) => h('option', { value: String(k) }, String(k))));
      select.value = String(label);
      select.addEventListener('change', () => { labels[i] = Number(select.value); changed(); });
      return h('div', { class: 'field' }, h('label', { for: select.id }, t.softmaxLabelOfRow(i + 1)), select);
    }));
    batchBox.replaceChildren(
      h('p', {}, ...richText(divide ? t.softmaxLossMean(formatNumber(loss), N) : t.softmaxLossSum(formatNumber(loss * N), N))),
      h('div', { class: 'matrices' },
        matrixView(y, { name: 'y = softmax(a)', key: 'softmax-y' }),
        matrixView(tRows, { name: 't', key: 'softmax-t' }),
        matrixView(dx, { name: divide ? 'dx = (y − t) / N' : 'dx = y − t', key: 'softmax-dx' })),
      h('p', { class: 'hint' }, ...richText(divide ? t.softmaxWhyDivide(N) : t.softmaxWhyNotDivide(N))));
  }

  onLangChange(render);
  render();
}
