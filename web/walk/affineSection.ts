/**
 * Sections 5.6.1 and 5.6.2, the Affine layer (fig. 5-24/5-25) and its batch version: X, W and B
 * editable, the graph with shapes on its edges, and backward as matrix products with their
 * shapes aligned, dX = dY·Wᵀ and dW = Xᵀ·dY, and dB as the sum of dY's rows. Every number is
 * computed by the library's Affine layer.
 */
import { formatShape } from '../../src/graph/index.js';
import { GRAD_COLOR } from '../../src/graph/renderDot.js';
import { HALO, ARROW_DEFS, labelledArrow } from '../../src/graph/renderSvg.js';
import { el } from '../../src/graph/xml.js';
import { Affine } from '../../src/layers/Affine.js';
import { matmul } from '../../src/tensor/ops.js';
import { Tensor } from '../../src/tensor/Tensor.js';
import { byId, h, uniqueSvgIds, wholeNumberInput } from '../dom.js';
import { onLangChange, richText, t } from '../i18n/index.js';
import { formatMatrix, getParam, getWhole, parseMatrix, setParam } from '../url.js';
import { type Rows, matrixView, productView, resizeRows, rowsOf, transpose } from './matrix.js';
import { Stepper } from './stepper.js';

const X_ROWS: Rows = [[0.5, -1.2], [1, 0.3], [-0.7, 2], [0.2, 0.9], [1.5, -0.4]];
const W0: Rows = [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]];
const B0 = [0.1, 0.2, 0.3];
const DY_ROWS: Rows = [[1, -0.5, 0.25], [0.3, 0.8, -1], [-0.6, 0.2, 0.4], [0.5, 0.5, 0.5], [-1, 0, 1]];
/** The largest batch the section offers. */
export const MAX_N = 5;

const f64 = (m: Rows | number[]): Tensor => Tensor.from(m, undefined, { dtype: 'float64' });

/** The Affine section (`batch: false`, N = 1) or the batch one (N adjustable). */
export function setupAffineSection(id: 'affine' | 'batch'): void {
  const batch = id === 'batch';
  const container = byId(`${id}-figure`, HTMLDivElement);
  let N = batch ? getWhole(`${id}.N`, 1, MAX_N, 2) : 1;
  let X = parseMatrix(getParam(`${id}.X`), [1, MAX_N], 2) ?? X_ROWS.slice(0, N).map((r) => [...r]);
  let dY = parseMatrix(getParam(`${id}.dY`), [1, MAX_N], 3) ?? DY_ROWS.slice(0, N).map((r) => [...r]);
  const W = parseMatrix(getParam(`${id}.W`), 2, 3) ?? W0.map((r) => [...r]);
  const B = parseMatrix(getParam(`${id}.B`), 1, 3)?.[0] ?? [...B0];
  X = resizeRows(X, N, (i, j) => X_ROWS[i][j]);
  dY = resizeRows(dY, N, (i, j) => DY_ROWS[i][j]);

  const nInput = wholeNumberInput(`${id}-n`, 1, MAX_N, N, (n) => {
    N = n;
    X = resizeRows(X, N, (i, j) => X_ROWS[i][j]);
    dY = resizeRows(dY, N, (i, j) => DY_ROWS[i][j]);
    setParam(`${id}.N`, N === 2 ? null : String(N));
    save();
    render();
  });
  const nLabel = h('label', { for: nInput.id });
  const inputsTitle = h('h3');
  const inputs = h('div', { class: 'matrices', id: `${id}-inputs` });
  const stepper = new Stepper(id, () => ({ forward: 2, backward: 2 }), render);
  const status = h('p', { id: `${id}-status`, class: 'status', 'aria-live': 'polite' });
  const figure = h('div', { class: 'graph-view', id: `${id}-view`, translate: 'no' });
  const work = h('div', { id: `${id}-work`, class: 'work' });
  if (batch) container.append(h('div', { class: 'field' }, nLabel, nInput));
  container.append(inputsTitle, inputs, stepper.element, status, figure, work);

  function save(): void {
    setParam(`${id}.X`, formatMatrix(X));
    setParam(`${id}.dY`, formatMatrix(dY));
    setParam(`${id}.W`, formatMatrix(W));
    setParam(`${id}.B`, formatMatrix([B]));
  }

  const edit = (m: Rows) => (i: number, j: number, v: number): void => {
    m[i][j] = v;
    save();
    render();
  };

  function render(): void {
    // the library's Affine: forward keeps X, backward sets dW and db and returns dX
    const affine = new Affine(f64(W), f64(B));
    const Y = rowsOf(affine.forward(f64(X)));
    const XW = rowsOf(matmul(f64(X), f64(W))); // the dot node's output, before + B
    const dX = rowsOf(affine.backward(f64(dY)));
    const dW = rowsOf(affine.dW!), dB = rowsOf(affine.db!)[0];
    const fShown = stepper.forwardShown, bShown = stepper.backwardShown;

    inputsTitle.textContent = t.affineInputsTitle;
    nLabel.textContent = t.batchSizeLabel;
    inputs.replaceChildren(
      matrixView(X, { name: 'X', key: `${id}-X`, edit: edit(X) }),
      matrixView(W, { name: 'W', key: `${id}-W`, edit: edit(W) }),
      matrixView([B], { name: 'B', key: `${id}-B`, shape: [3], edit: (_i, j, v) => { B[j] = v; save(); render(); } }),
      matrixView(dY, { name: '∂L/∂Y', key: `${id}-dY`, edit: edit(dY), title: t.affineDyTitle }));

    figure.innerHTML = uniqueSvgIds(affineSvg(N, { X, W, B, XW, Y, dX, dW, dB, dY }, fShown, bShown, stepper.stepping), id);
    const s = (shape: number[]): string => formatShape(shape);
    status.replaceChildren(...richText(!stepper.stepping ? t.affineAll
      : fShown === 0 ? t.affineStart
      : bShown === 0 ? (fShown === 1 ? t.affineForwardDot(s([N, 2]), s([2, 3]), s([N, 3])) : t.affineForwardAdd(s([N, 3]), s([3])))
      : bShown === 1 ? t.affineBackwardAdd(N)
      : t.affineBackwardDot));

    const parts: HTMLElement[] = [];
    if (fShown >= 1) parts.push(h('h3', {}, ...richText(t.affineDotTitle)), productView({ name: 'X·W', values: XW, key: `${id}-XW` }, { name: 'X', values: X }, { name: 'W', values: W }));
    if (fShown >= 2) {
      parts.push(h('h3', {}, ...richText(t.affineAddTitle)), h('div', { class: 'matrices' },
        matrixView(Y, { name: 'Y', key: `${id}-Y` }), h('span', { class: 'op' }, '='),
        matrixView(XW, { name: 'X·W' }), h('span', { class: 'op' }, '+'),
        matrixView(X.map(() => B), { name: N > 1 ? t.affineBroadcastName : 'B', cellClass: (i) => (i > 0 ? 'broadcast' : '') })));
    }
    if (bShown >= 1) {
      parts.push(h('h3', {}, ...richText(t.affineDbTitle)), h('p', { class: 'hint' }, ...richText(t.affineDbText(N))),
        h('div', { class: 'matrices' },
          matrixView([dB], { name: '∂L/∂B', key: `${id}-dB`, shape: [3] }), h('span', { class: 'op' }, '= Σ'),
          matrixView(dY, { name: '∂L/∂Y' })));
    }
    if (bShown >= 2) {
      parts.push(h('h3', {}, ...richText(t.affineDxTitle)), h('p', { class: 'hint' }, ...richText(t.affineDxText)),
        productView({ name: '∂L/∂X', values: dX, key: `${id}-dX` }, { name: '∂L/∂Y', values: dY }, { name: 'Wᵀ', values: transpose(W) }),
        h('h3', {}, ...richText(t.affineDwTitle)), h('p', { class: 'hint' }, ...richText(t.affineDwText)),
        productView({ name: '∂L/∂W', values: dW, key: `${id}-dW` }, { name: 'Xᵀ', values: transpose(X) }, { name: '∂L/∂Y', values: dY }));
    }
    work.replaceChildren(...parts);
  }

  onLangChange(render);
  render();
}

/** The matrices the figure writes on its edges. */
interface AffineValues {
  X: Rows; W: Rows; B: number[]; XW: Rows; Y: Rows; dX: Rows; dW: Rows; dB: number[]; dY: Rows;
}

/** Values of a tensor of at most 3 elements, as an edge shows them: `[0.5, -1.2]`; larger ones by shape alone. */
function edgeValues(m: Rows | number[]): string {
  const flat = m.flat();
  return flat.length <= 3 ? `[${flat.map((v) => Number(v.toPrecision(4))).join(', ')}]` : '';
}

/**
 * Fig. 5-25 as SVG: X and W into a dot node, its output and B into a + node, Y out; each edge
 * with its tensor, shape and (when it has at most 3 elements) values above, and its gradient
 * below ('?' until backward reaches it).
 */
function affineSvg(N: number, v: AffineValues, fShown: number, bShown: number, stepping: boolean): string {
  const s = (shape: number[]): string => formatShape(shape);
  const known = (fwd: number): boolean => fShown >= fwd;
  const back = (bwd: number): boolean => bShown >= bwd && fShown === 2;
  const dot = { x: 280, y: 70 }, plus = { x: 540, y: 70 }, r = 24;
  const node = (p: { x: number; y: number }, label: string, step: { f: number; b: number }): ReturnType<typeof el> => {
    const current = stepping && ((bShown === 0 && fShown === step.f) || bShown === step.b);
    const cls = current ? 'node current' : stepping && (bShown >= step.b) ? 'node done' : stepping && fShown < step.f ? 'node unknown' : 'node';
    return el('g', { class: cls },
      el('circle', { cx: p.x, cy: p.y, r, fill: 'white', stroke: 'black' }),
      el('text', { x: p.x, y: p.y + 5, 'text-anchor': 'middle' }, label));
  };
  /** An edge: name and shape above, gradient below, and a second line of values on each side. */
  const edge = (x1: number, y1: number, x2: number, y2: number, above: string | null, below: string | null, values: string, grads: string, cls = 'edge'): ReturnType<typeof el> => {
    const mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
    return el('g', {},
      labelledArrow(x1, y1, x2, y2, above ?? '?', below ?? '?', { class: cls }),
      el('text', { class: 'edge-values', x: mx, y: my - 20, ...HALO }, above === null ? '' : values),
      el('text', { class: 'edge-values grad', x: mx, y: my + 33, fill: GRAD_COLOR, ...HALO }, below === null ? '' : grads));
  };
  const edges = [
    edge(70, 70, dot.x - r, dot.y, `X ${s([N, 2])}`, back(2) ? `∂L/∂X ${s([N, 2])}` : null, edgeValues(v.X), edgeValues(v.dX)),
    edge(70, 195, dot.x - r * 0.7, dot.y + r * 0.7, `W ${s([2, 3])}`, back(2) ? `∂L/∂W ${s([2, 3])}` : null, edgeValues(v.W), edgeValues(v.dW)),
    edge(dot.x + r, dot.y, plus.x - r, plus.y, known(1) ? `X·W ${s([N, 3])}` : null, back(1) ? `∂L/∂Y ${s([N, 3])}` : null, edgeValues(v.XW), edgeValues(v.dY)),
    edge(360, 195, plus.x - r * 0.7, plus.y + r * 0.7, `B ${s([3])}`, back(1) ? `∂L/∂B ${s([3])}` : null, edgeValues(v.B), edgeValues(v.dB)),
    edge(plus.x + r, plus.y, 770, plus.y, known(2) ? `Y ${s([N, 3])}` : null, fShown === 2 ? `∂L/∂Y ${s([N, 3])}` : null, edgeValues(v.Y), edgeValues(v.dY), 'edge output'),
  ];
  return el('svg', { xmlns: 'http://www.w3.org/2000/svg', width: 800, height: 240, viewBox: '0 0 800 240', 'font-family': 'sans-serif', 'font-size': 13 },
    ARROW_DEFS, ...edges, node(dot, 'dot', { f: 1, b: 2 }), node(plus, '+', { f: 2, b: 1 }),
    el('text', { x: 56, y: 75, ...HALO }, 'X'), el('text', { x: 56, y: 200, ...HALO }, 'W'),
    el('text', { x: 348, y: 216, ...HALO }, 'B')).xml;
}
