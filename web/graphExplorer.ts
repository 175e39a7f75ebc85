/**
 * Part 1, the graph explorer: a scalar graph drawn as SVG with its forward values and
 * gradients, one input box per variable, and backward run one node at a time.
 */
import {
  type BackwardStep, GraphError, type Node, backwardSteps, expressionOf, formatNumber, graphInputs, nodeNames, renderSvg, topoSort,
} from '../src/graph/index.js';
import { byId, h, setError } from './dom.js';
import { type GraphSource, type PresetName, PRESETS, buildGraph, isComplete, parseValue, rewindTo } from './graphModel.js';

export function setupGraphExplorer(): void {
  const presetSelect = byId('graph-preset', HTMLSelectElement);
  const exprInput = byId('graph-expr', HTMLInputElement);
  const exprError = byId('graph-expr-error', HTMLPreElement);
  const valuesBox = byId('graph-values', HTMLDivElement);
  const stepButton = byId('graph-step', HTMLButtonElement);
  const resetButton = byId('graph-reset', HTMLButtonElement);
  const stepStatus = byId('graph-step-status', HTMLParagraphElement);
  const view = byId('graph-view', HTMLDivElement);
  const gradHead = byId('graph-grad-head', HTMLTableCellElement);
  const gradRows = byId('graph-grads', HTMLTableElement).tBodies[0];

  let source: GraphSource = { preset: 'apple' };
  let values: Record<string, number> = {};
  let root: Node;
  let steps: BackwardStep[] = [];
  /** Steps of backward shown: all of them unless the user is stepping. */
  let shown = 0;
  let stepping = false;
  /** The variables the input boxes are for, to rebuild them only when these change. */
  let boxesFor = '';

  /** Builds the graph from `source` and `values`, runs backward, and draws it. */
  function update(): boolean {
    try {
      const built = buildGraph(source, values);
      root = built.root;
      values = built.values;
    } catch (e) {
      if (!(e instanceof GraphError)) throw e;
      // a syntax error's message ends with the expression and a caret under the column
      setError(exprInput, exprError, e.message);
      view.classList.add('stale');
      return false;
    }
    setError(exprInput, exprError, null);
    view.classList.remove('stale');
    if (!root.name && root.inputs.length) root.named('out');
    steps = backwardSteps(root);
    if (!stepping) shown = steps.length;
    shown = Math.min(shown, steps.length);
    syncInputBoxes();
    render();
    return true;
  }

  function syncInputBoxes(): void {
    const names = Object.keys(values);
    if (names.join(',') === boxesFor) return;
    boxesFor = names.join(',');
    valuesBox.replaceChildren(...names.map((name) => {
      const input = h('input', {
        id: `var-${name}`, type: 'text', autocomplete: 'off', spellcheck: 'false',
        'data-var': name, 'aria-describedby': `var-${name}-error`, value: formatNumber(values[name]),
      });
      const error = h('p', { id: `var-${name}-error`, class: 'error', 'aria-live': 'polite', hidden: '' });
      input.addEventListener('input', () => {
        const v = parseValue(input.value);
        setError(input, error, typeof v === 'string' ? `${name}: ${v}` : null);
        if (typeof v === 'string') return; // keep the last good graph on screen
        values[name] = v;
        update();
      });
      return h('div', { class: 'var-row' }, h('label', { for: input.id }, name), input, error);
    }));
    if (!names.length) valuesBox.append(h('p', { class: 'hint' }, 'This expression has no variables.'));
  }

  function render(): void {
    const ran = rewindTo(root, steps, shown);
    const done = new Set(ran);
    const current = stepping && shown > 0 ? steps[shown - 1] : null;
    const order = topoSort(root);
    const names = nodeNames(root);

    view.innerHTML = renderSvg(root); // markup from our own renderer, with every text escaped
    fitToView(view.querySelector('svg'));
    for (const g of view.querySelectorAll('[data-node]')) {
      const n = order[Number(g.getAttribute('data-node'))];
      if (stepping && done.has(n)) g.classList.add(n === current?.node ? 'current' : 'done');
    }
    for (const edge of view.querySelectorAll('.edge[data-to]')) {
      const to = order[Number(edge.getAttribute('data-to'))];
      if (!done.has(to)) {
        edge.classList.add('pending'); // that node's rule has not run: no gradient yet
        const grad = edge.querySelector('.grad');
        if (grad) grad.textContent = '?';
      } else if (to === current?.node) {
        edge.classList.add('current');
      }
    }

    const out = names.get(root)!;
    gradHead.textContent = `∂${out}/∂input`;
    gradRows.replaceChildren(...graphInputs(root).map((n) => {
      const complete = !stepping || isComplete(root, n, ran);
      const received = ran.some((r) => r.inputs.includes(n));
      const text = complete ? formatNumber(n.grad) : received ? `${formatNumber(n.grad)} so far` : '?';
      return h('tr', { 'data-var': n.name! },
        h('td', {}, n.name!), h('td', { class: 'num' }, formatNumber(n.value)),
        h('td', { class: `num grad${complete ? '' : ' partial'}` }, text));
    }));

    stepButton.disabled = steps.length === 0;
    stepStatus.textContent = stepText(current, names, out);
  }

  /**
   * Scales the graph to the view's width, between 0.75× (text still readable on a phone)
   * and 1.5× (a small graph on a wide screen); a graph wider than that scrolls sideways.
   */
  function fitToView(svg: SVGSVGElement | null): void {
    if (!svg) return;
    const width = Number(svg.getAttribute('width')), height = Number(svg.getAttribute('height'));
    const scale = Math.max(0.75, Math.min(1.5, (view.clientWidth - 12) / width));
    svg.setAttribute('width', String(Math.round(width * scale)));
    svg.setAttribute('height', String(Math.round(height * scale)));
  }

  function stepText(current: BackwardStep | null, names: Map<Node, string>, out: string): string {
    if (!steps.length) return 'Nothing to backpropagate: the output is an input itself.';
    if (!stepping) return `Forward: ${out} = ${formatNumber(root.value)}. Backward ran all ${steps.length} local rules; press “Step backward” to watch them one at a time.`;
    if (!current) return `Backward starts from the output with ∂${out}/∂${out} = 1. Press “Step backward” to run the first rule.`;
    const passed = current.changes.map((c) => `${formatNumber(c.delta)} to ${names.get(c.node)}`).join(', ');
    const end = shown === steps.length ? ' Every gradient is final.' : '';
    return `Step ${shown} of ${steps.length}: the ${current.node.label} node (${names.get(current.node)}) got ${formatNumber(current.dout)} from above and passed ${passed}.${end}`;
  }

  function choosePreset(name: PresetName): void {
    source = { preset: name };
    values = {};
    boxesFor = '';
    stepping = false;
    update();
    exprInput.value = expressionOf(root);
  }

  presetSelect.addEventListener('change', () => {
    if (presetSelect.value in PRESETS) return choosePreset(presetSelect.value as PresetName);
    source = { expression: exprInput.value };
    stepping = false;
    update();
  });
  exprInput.addEventListener('input', () => {
    presetSelect.value = 'custom';
    source = { expression: exprInput.value };
    stepping = false;
    update();
  });
  stepButton.addEventListener('click', () => {
    if (!stepping || shown >= steps.length) {
      stepping = true;
      shown = 1;
    } else {
      shown++;
    }
    render();
  });
  resetButton.addEventListener('click', () => {
    stepping = true;
    shown = 0;
    render();
  });

  let lastWidth = view.clientWidth;
  window.addEventListener('resize', () => {
    if (view.clientWidth !== lastWidth) render(); // refit the picture
    lastWidth = view.clientWidth;
  });
  choosePreset('apple');
}
