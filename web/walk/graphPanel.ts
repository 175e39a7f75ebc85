/**
 * A scalar computational graph on the page (src/graph): drawn as SVG with forward values above
 * the arrows and gradients below, one input box per variable, and the forward and backward
 * passes stepped one node at a time. The graph explorer and the chapter's scalar figures
 * (chain rule, add and multiply nodes, the apple layers, Sigmoid, Softmax-with-Loss) are each one.
 */
import {
  type BackwardStep, GraphError, GraphValueError, type Node, OPS, backwardSteps, expressionOf, formatNumber, graphInputs, nodeNames, renderSvg, topoSort,
} from '../../src/graph/index.js';
import { fitToWidth, h, setError, uniqueSvgIds } from '../dom.js';
import { type GraphSource, type PresetName, PRESETS, buildGraph, isComplete, parseValue, rewindTo } from '../graphModel.js';
import { onLangChange, richText, t } from '../i18n/index.js';
import { getParam, setParam } from '../url.js';
import { Stepper } from './stepper.js';

/** What a section can ask of its graph. */
export interface GraphPanelOptions {
  /** Prefix of the element ids and of the keys in the address. */
  id: string;
  /** The book's graphs to choose from; with `expression`, also "your own expression". */
  presets?: readonly PresetName[];
  /** Whether the learner can type an expression. */
  expression?: boolean;
  /** The graph shown first (when the address does not say). */
  initial: GraphSource;
  /** A graph the section builds itself (its inputs are edited elsewhere); replaces presets and expressions. */
  build?: () => Node;
  /** An input box for the gradient arriving from upstream, ∂L/∂out (1 otherwise). */
  upstream?: boolean;
  /** Show ∂out/∂input as the product of the local derivatives along each path (the chain rule). */
  paths?: boolean;
  /** Called after each drawing, for a section's own notes beside the graph. */
  onRender?: (view: GraphView) => void;
}

/** The graph as drawn: what a section's notes read. */
export interface GraphView {
  root: Node;
  /** The computed nodes, in the order forward computes them. */
  forwardOrder: Node[];
  steps: BackwardStep[];
  forwardShown: number;
  backwardShown: number;
  /** Whether the learner is stepping (false: everything is shown). */
  stepping: boolean;
}

/** A graph panel in `container`; returns a function that rebuilds it (after the section's inputs change). */
export function graphPanel(container: HTMLElement, options: GraphPanelOptions): { update: () => void } {
  const { id } = options;
  const key = (k: string): string => `${id}.${k}`;
  const presets = options.presets ?? [];

  const presetSelect = h('select', { id: `${id}-preset` });
  const exprInput = h('input', {
    id: `${id}-expr`, type: 'text', maxlength: '400', spellcheck: 'false', autocomplete: 'off', autocapitalize: 'off',
    'aria-describedby': `${id}-expr-help ${id}-expr-error`, translate: 'no',
  });
  const exprError = h('pre', { id: `${id}-expr-error`, class: 'error', 'aria-live': 'polite', hidden: '' });
  const exprHelp = h('p', { id: `${id}-expr-help`, class: 'hint' });
  const presetLabel = h('label', { for: presetSelect.id });
  const exprLabel = h('label', { for: exprInput.id });
  const valuesBox = h('div', { id: `${id}-values`, class: 'values' });
  const legend = h('legend');
  const upstreamInput = h('input', { id: `${id}-upstream`, type: 'text', autocomplete: 'off', value: getParam(key('dout')) ?? '1' });
  const upstreamLabel = h('label', { for: upstreamInput.id });
  const upstreamError = h('p', { class: 'error', 'aria-live': 'polite', hidden: '' });
  const status = h('p', { id: `${id}-step-status`, class: 'status', 'aria-live': 'polite' });
  const view = h('div', { id: `${id}-view`, class: 'graph-view', role: 'region', tabindex: '0', translate: 'no' });
  const gradCaption = h('caption');
  const gradHeads = [h('th', { scope: 'col' }), h('th', { scope: 'col', class: 'num' }), h('th', { scope: 'col', class: 'num', id: `${id}-grad-head` })];
  const gradRows = h('tbody');
  const pathsBox = h('div', { id: `${id}-paths`, class: 'paths' });

  if (presets.length || options.expression) {
    container.append(h('div', { class: 'field' }, presetLabel, presetSelect));
  }
  if (options.expression) container.append(h('div', { class: 'field wide' }, exprLabel, exprInput), exprHelp, exprError);
  if (!options.build) container.append(h('fieldset', {}, legend, valuesBox));
  if (options.upstream) container.append(h('div', { class: 'field' }, upstreamLabel, upstreamInput), upstreamError);
  const stepper = new Stepper(id, () => ({ forward: forwardOrder.length, backward: steps.length }), () => render());
  container.append(stepper.element, status, view,
    h('table', { id: `${id}-grads`, class: 'grads' }, gradCaption, h('thead', {}, h('tr', {}, ...gradHeads)), gradRows));
  if (options.paths) container.append(pathsBox);

  let source: GraphSource = options.initial;
  const savedGraph = getParam(key('graph'));
  const savedExpr = getParam(key('expr'));
  if (savedGraph && (presets as readonly string[]).includes(savedGraph)) source = { preset: savedGraph as PresetName };
  else if (options.expression && savedExpr !== null) source = { expression: savedExpr };
  let values: Record<string, number> = readValues(getParam(key('in')));
  let seed = parseSeed() ?? 1;
  let root!: Node;
  let steps: BackwardStep[] = [];
  let forwardOrder: Node[] = [];
  /** The variables the input boxes are for, to rebuild them only when these change. */
  let boxesFor = '';

  function readValues(text: string | null): Record<string, number> {
    const out: Record<string, number> = {};
    for (const pair of (text ?? '').split(',').filter(Boolean)) {
      const [name, v] = pair.split(':');
      if (name && Number.isFinite(Number(v))) out[name] = Number(v);
    }
    return out;
  }

  function parseSeed(): number | null {
    const v = parseValue(upstreamInput.value);
    return typeof v === 'number' ? v : null;
  }

  /** Builds the graph, runs backward, and draws it. */
  function update(): boolean {
    let next: Node, nextValues = values, nextSteps: BackwardStep[];
    try {
      if (options.build) {
        next = options.build();
      } else {
        const built = buildGraph(source, values);
        next = built.root;
        nextValues = built.values;
      }
      if (!next.name && next.inputs.length) next.named('out');
      // a value or gradient that is not a finite number (log of a negative) is a GraphError too
      nextSteps = backwardSteps(next, seed);
    } catch (e) {
      if (!(e instanceof GraphError)) throw e;
      // a syntax error's message ends with the expression and a caret under the column
      setError(exprInput, exprError, e instanceof GraphValueError ? t.graphValueError(e) : e.message);
      view.classList.add('stale');
      return false;
    }
    [root, values, steps] = [next, nextValues, nextSteps];
    setError(exprInput, exprError, null);
    view.classList.remove('stale');
    forwardOrder = topoSort(root).filter((n) => n.inputs.length > 0);
    stepper.clamp();
    syncInputBoxes();
    saveState();
    render();
    return true;
  }

  function saveState(): void {
    if (options.build) return;
    const isInitial = JSON.stringify(source) === JSON.stringify(options.initial);
    setParam(key('graph'), isInitial ? null : 'preset' in source ? source.preset : 'custom');
    setParam(key('expr'), 'expression' in source && !isInitial ? source.expression : null);
    const fresh = buildGraph(source, {}).values;
    const changed = Object.entries(values).filter(([name, v]) => fresh[name] !== v || 'expression' in source);
    setParam(key('in'), changed.length ? changed.map(([name, v]) => `${name}:${v}`).join(',') : null);
  }

  function syncInputBoxes(): void {
    if (options.build) return;
    const names = Object.keys(values);
    if (names.join(',') === boxesFor) return;
    boxesFor = names.join(',');
    valuesBox.replaceChildren(...names.map((name) => {
      const input = h('input', {
        id: `${id}-var-${name}`, type: 'text', autocomplete: 'off', spellcheck: 'false',
        'data-var': name, 'aria-describedby': `${id}-var-${name}-error`, value: formatNumber(values[name]),
      });
      const error = h('p', { id: `${id}-var-${name}-error`, class: 'error', 'aria-live': 'polite', hidden: '' });
      input.addEventListener('input', () => {
        const v = parseValue(input.value);
        setError(input, error, typeof v === 'string' ? `${name}: ${t.valueProblem(v)}` : null);
        if (typeof v === 'string') return; // keep the last good graph on screen
        values[name] = v;
        update();
      });
      return h('div', { class: 'var-row' }, h('label', { for: input.id, translate: 'no' }, name), input, error);
    }));
    if (!names.length) valuesBox.append(h('p', { class: 'hint' }, t.noVariables));
  }

  function render(): void {
    const fShown = stepper.forwardShown, bShown = stepper.backwardShown;
    const ran = rewindTo(root, steps, bShown, seed);
    const done = new Set(ran);
    const known = new Set(forwardOrder.slice(0, fShown));
    const isKnown = (n: Node): boolean => !n.inputs.length || known.has(n);
    const forwardDone = fShown === forwardOrder.length;
    const currentForward = stepper.stepping && !bShown && fShown > 0 ? forwardOrder[fShown - 1] : null;
    const current = stepper.stepping && bShown > 0 ? steps[bShown - 1] : null;
    const order = topoSort(root);
    const names = nodeNames(root);

    view.innerHTML = uniqueSvgIds(renderSvg(root), id); // markup from our own renderer, with every text escaped
    fitToWidth(view);
    for (const g of view.querySelectorAll('[data-node]')) {
      const n = order[Number(g.getAttribute('data-node'))];
      if (!stepping()) continue;
      if (n === currentForward || n === current?.node) g.classList.add('current');
      else if (done.has(n)) g.classList.add('done');
      else if (n.inputs.length && !known.has(n)) g.classList.add('unknown');
    }
    for (const edge of view.querySelectorAll('.edge')) {
      const fromAttr = edge.getAttribute('data-from'), toAttr = edge.getAttribute('data-to');
      const from = fromAttr === null ? root : order[Number(fromAttr)];
      const to = toAttr === null ? null : order[Number(toAttr)];
      if (!isKnown(from)) edge.querySelector('.value')!.textContent = '?';
      if (to === null ? !forwardDone : !done.has(to)) {
        edge.classList.add('pending'); // that node's rule has not run: no gradient yet
        edge.querySelector('.grad')!.textContent = '?';
      } else if (to === current?.node) {
        edge.classList.add('current');
      }
    }
    view.setAttribute('aria-label', t.graphRegion);

    const out = names.get(root)!;
    gradHeads[0].textContent = t.gradInput;
    gradHeads[1].textContent = t.gradValue;
    gradHeads[2].replaceChildren(...richText(options.upstream ? `∂L/∂${t.gradInput}` : `∂\`${out}\`/∂${t.gradInput}`));
    gradCaption.textContent = t.gradCaption;
    gradRows.replaceChildren(...graphInputs(root).map((n) => {
      const complete = forwardDone && (!stepper.stepping || isComplete(root, n, ran));
      const received = ran.some((r) => r.inputs.includes(n));
      const text = complete ? formatNumber(n.grad) : received ? t.soFar(formatNumber(n.grad)) : '?';
      return h('tr', { 'data-var': n.name! },
        h('td', { translate: 'no' }, n.name!), h('td', { class: 'num' }, formatNumber(n.value)),
        h('td', { class: `num grad${complete ? '' : ' partial'}` }, text));
    }));
    status.replaceChildren(...richText(statusText(current, currentForward, names, out, fShown)));
    if (options.paths) renderPaths(names, out, forwardDone);
    upstreamLabel.textContent = t.upstreamLabel(out);
    options.onRender?.({ root, forwardOrder, steps, forwardShown: fShown, backwardShown: bShown, stepping: stepper.stepping });
  }

  const stepping = (): boolean => stepper.stepping;

  /** ∂out/∂input = Σ over paths of the product of local derivatives, each from the node's own rule. */
  function renderPaths(names: Map<Node, string>, out: string, forwardDone: boolean): void {
    pathsBox.replaceChildren(h('h4', {}, t.pathsTitle));
    if (!forwardDone) {
      pathsBox.append(h('p', { class: 'hint' }, t.pathsNeedForward));
      return;
    }
    const list = h('ul', { class: 'path-list', translate: 'no' });
    for (const inputNode of graphInputs(root)) {
      const paths = pathsTo(root, inputNode);
      if (paths.length > 6) {
        list.append(h('li', {}, t.pathsTooMany(inputNode.name!, paths.length)));
        continue;
      }
      const symbolic: string[] = [], numeric: string[] = [];
      for (const path of paths) {
        symbolic.push(path.map(({ node, k }) => `∂${names.get(node)}/∂${names.get(node.inputs[k])}`).join(' · '));
        numeric.push(path.map(({ node, k }) => formatNumber(localDerivative(node, k))).join(' × '));
      }
      const total = paths.reduce((s, path) => s + path.reduce((p, { node, k }) => p * localDerivative(node, k), 1), 0);
      list.append(h('li', { 'data-var': inputNode.name! },
        `∂${out}/∂${inputNode.name} = ${symbolic.join(' + ')} = ${numeric.map((x) => (paths.length > 1 ? `(${x})` : x)).join(' + ')} = `,
        h('strong', {}, formatNumber(total))));
    }
    pathsBox.append(list);
  }

  function statusText(current: BackwardStep | null, currentForward: Node | null, names: Map<Node, string>, out: string, fShown: number): string {
    if (!forwardOrder.length) return t.nothingToBackprop;
    if (!stepper.stepping) return t.allShown(out, formatNumber(root.value), steps.length);
    if (fShown === 0) return t.forwardStart;
    if (currentForward) {
      return t.forwardStep(fShown, forwardOrder.length, currentForward.label, names.get(currentForward)!, formatNumber(currentForward.value))
        + (fShown === forwardOrder.length ? t.sentenceGap + t.forwardDone : '');
    }
    if (!current) return t.backwardStart(out, formatNumber(seed));
    const passed = current.changes.map((c) => t.passedTo(formatNumber(c.delta), names.get(c.node)!));
    const k = stepper.backwardShown;
    return t.backwardStep(k, steps.length, current.node.label, names.get(current.node)!, formatNumber(current.dout), passed)
      + (k === steps.length ? t.sentenceGap + t.backwardDone : '');
  }

  function labels(): void {
    presetLabel.textContent = t.graphLabel;
    exprLabel.textContent = t.expressionLabel;
    exprHelp.replaceChildren(...richText(t.expressionHelp));
    legend.textContent = t.inputsLegend;
    const chosen = presetSelect.value;
    presetSelect.replaceChildren(
      ...presets.map((p) => h('option', { value: p }, t[PRESETS[p].title])),
      ...(options.expression ? [h('option', { value: 'custom' }, t.presetCustom)] : []));
    presetSelect.value = chosen || ('preset' in source ? source.preset : 'custom');
  }

  function choosePreset(name: PresetName): void {
    source = { preset: name };
    values = {};
    boxesFor = '';
    stepper.showAll();
    update();
    exprInput.value = expressionOf(root);
  }

  presetSelect.addEventListener('change', () => {
    if (presetSelect.value in PRESETS) return choosePreset(presetSelect.value as PresetName);
    source = { expression: exprInput.value };
    stepper.showAll();
    update();
  });
  exprInput.addEventListener('input', () => {
    presetSelect.value = 'custom';
    source = { expression: exprInput.value };
    stepper.showAll();
    update();
  });
  upstreamInput.addEventListener('input', () => {
    const v = parseSeed();
    setError(upstreamInput, upstreamError, v === null ? t.valueProblem(String(parseValue(upstreamInput.value))) : null);
    if (v === null) return;
    seed = v;
    setParam(key('dout'), v === 1 ? null : String(v));
    update();
  });

  let lastWidth = 0;
  window.addEventListener('resize', () => {
    if (view.clientWidth !== lastWidth && root) render(); // refit the picture
    lastWidth = view.clientWidth;
  });
  onLangChange(() => {
    labels();
    syncInputBoxesLabels();
    if (root) render();
  });
  function syncInputBoxesLabels(): void {
    boxesFor = ''; // error messages and the "no variables" hint are in the old language
    syncInputBoxes();
  }

  labels();
  update();
  exprInput.value = 'expression' in source ? source.expression : expressionOf(root);
  return { update: () => { update(); } };
}

/** Every path from `root` down to `target`, as the edges (node, index of the input) it takes. */
function pathsTo(root: Node, target: Node): { node: Node; k: number }[][] {
  const paths: { node: Node; k: number }[][] = [];
  const walk = (n: Node, path: { node: Node; k: number }[]): void => {
    if (paths.length > 6) return;
    n.inputs.forEach((i, k) => {
      const next = [...path, { node: n, k }];
      if (i === target) paths.push(next);
      else walk(i, next);
    });
  };
  walk(root, []);
  return paths;
}

/** ∂node/∂(its k-th input) at the forward values: the node's own backward rule given dout = 1. */
function localDerivative(node: Node, k: number): number {
  return OPS[node.op].backward(1, node.inputs.map((i) => i.value), node.value, node.param)[k];
}
