/**
 * Section 5.5.2, the Sigmoid layer: the graph of fig. 5-19/5-20 (×(−1), exp, +1 and "/"),
 * stepped backward node by node, the expression so far beside each step, ending in the
 * simplified dout·y(1 − y), checked against the library's Sigmoid layer.
 */
import { formatNumber, graphInputs } from '../../src/graph/index.js';
import { Sigmoid } from '../../src/layers/Sigmoid.js';
import { Tensor } from '../../src/tensor/Tensor.js';
import { byId, h } from '../dom.js';
import { richText, t } from '../i18n/index.js';
import { graphPanel, type GraphView } from './graphPanel.js';

/** What ∂L/∂(the node's input) is after each backward step, as fig. 5-20 writes it under the arrows. */
const FORMULAS = ['∂L/∂y · (−y²)', '∂L/∂y · (−y²)', '∂L/∂y · (−y²) · exp(−x)', '∂L/∂y · y² · exp(−x)'];

export function setupSigmoidSection(): void {
  const box = h('div', { id: 'sigmoid-derivation', class: 'derivation' });
  const container = byId('sigmoid-figure', HTMLDivElement);
  graphPanel(container, { id: 'sigmoid', initial: { preset: 'sigmoid' }, upstream: true, onRender: show });
  container.append(box);

  function show(view: GraphView): void {
    const x = graphInputs(view.root)[0];
    const y = view.root.value, dout = view.steps.length ? view.steps[0].dout : 1;
    const rows = view.steps.slice(0, view.backwardShown).map((step, k) =>
      h('tr', {}, h('td', { translate: 'no' }, step.node.label), h('td', { translate: 'no' }, FORMULAS[k] ?? ''),
        h('td', { class: 'num grad' }, formatNumber(step.changes[0].delta))));
    box.replaceChildren(h('h3', {}, ...richText(t.sigmoidDerivationTitle)),
      h('table', { class: 'scroll' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t.colNode), h('th', { scope: 'col' }, t.colPassedBack), h('th', { scope: 'col', class: 'num' }, t.gradValue))),
        h('tbody', {}, ...rows)));
    if (view.backwardShown < view.steps.length) {
      box.append(h('p', { class: 'hint' }, t.sigmoidKeepStepping));
      return;
    }
    // the same derivative three ways: the graph's four rules, the simplified formula, the Sigmoid layer
    const layer = new Sigmoid();
    layer.forward(Tensor.from([x.value], undefined, { dtype: 'float64' }));
    const fromLayer = layer.backward(Tensor.from([dout], undefined, { dtype: 'float64' })).data[0];
    const formula = dout * y * (1 - y);
    box.append(h('p', {}, ...richText(t.sigmoidSimplified)),
      h('p', { class: 'formula', translate: 'no' }, '∂L/∂y · y² · exp(−x) = ∂L/∂y · y(1 − y)'),
      h('dl', { id: 'sigmoid-result', class: 'result' },
        h('dt', {}, ...richText(t.sigmoidFromGraph)), h('dd', { 'data-k': 'graph', class: 'num' }, formatNumber(x.grad)),
        h('dt', {}, ...richText(t.sigmoidFromFormula(formatNumber(dout), formatNumber(y)))), h('dd', { 'data-k': 'formula', class: 'num' }, formatNumber(formula)),
        h('dt', {}, ...richText(t.sigmoidFromLayer)), h('dd', { 'data-k': 'layer', class: 'num' }, formatNumber(fromLayer))));
  }
}
