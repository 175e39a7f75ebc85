/**
 * Section 5.5.1, the ReLU layer on a small matrix: x, the book's mask (x <= 0), out, dout and
 * dx side by side, computed by the library's Relu; and the book's in-place `dout[mask] = 0`
 * run on a copy, to show what it does to the caller's dout.
 */
import { Relu } from '../../src/layers/Relu.js';
import { Tensor } from '../../src/tensor/Tensor.js';
import { byId, h } from '../dom.js';
import { onLangChange, richText, t } from '../i18n/index.js';
import { formatMatrix, getParam, parseMatrix, setParam } from '../url.js';
import { type Rows, matrixView, rowsOf } from './matrix.js';
import { Stepper } from './stepper.js';

const X0: Rows = [[1, -0.5, 2], [-2, 3, 0]];
const DOUT0: Rows = [[0.5, 1.5, -1], [2, -0.3, 0.7]];

/**
 * The book's Relu.backward (common/layers.py), transcribed to show its side effect:
 * `dout[self.mask] = 0; dx = dout` writes into the caller's array and returns that same array.
 */
function bookBackwardInPlace(dout: Float64Array, mask: boolean[]): Float64Array {
  mask.forEach((m, i) => { if (m) dout[i] = 0; });
  return dout;
}

export function setupReluSection(): void {
  const container = byId('relu-figure', HTMLDivElement);
  const x: Rows = parseMatrix(getParam('relu.x'), 2, 3) ?? X0.map((r) => [...r]);
  const dout: Rows = parseMatrix(getParam('relu.dout'), 2, 3) ?? DOUT0.map((r) => [...r]);
  const stepper = new Stepper('relu', () => ({ forward: 1, backward: 1 }), render);
  const status = h('p', { id: 'relu-status', class: 'status', 'aria-live': 'polite' });
  const forwardRow = h('div', { class: 'matrices', id: 'relu-forward' });
  const backwardRow = h('div', { class: 'matrices', id: 'relu-backward' });
  const trap = h('div', { id: 'relu-trap', class: 'trap' });
  const forwardTitle = h('h3'), backwardTitle = h('h3');
  container.append(stepper.element, status, forwardTitle, forwardRow, backwardTitle, backwardRow, trap);

  function edit(m: Rows, key: string) {
    return (i: number, j: number, v: number): void => {
      m[i][j] = v;
      setParam(key, formatMatrix(m));
      render();
    };
  }

  function render(): void {
    const xT = Tensor.from(x, undefined, { dtype: 'float64' });
    const doutT = Tensor.from(dout, undefined, { dtype: 'float64' });
    const relu = new Relu();
    const out = rowsOf(relu.forward(xT));
    const dx = rowsOf(relu.backward(doutT));
    const mask = x.map((r) => r.map((v) => (v <= 0 ? 1 : 0))); // the book's self.mask = (x <= 0)
    const fwd = stepper.forwardShown > 0, bwd = stepper.backwardShown > 0;
    const masked = (i: number, j: number): string => (mask[i][j] ? 'masked' : '');

    forwardTitle.replaceChildren(...richText(t.reluForwardTitle));
    backwardTitle.replaceChildren(...richText(t.reluBackwardTitle));
    forwardRow.replaceChildren(
      matrixView(x, { name: 'x', key: 'relu-x', edit: edit(x, 'relu.x'), cellClass: masked }),
      matrixView(mask, { name: 'mask = (x <= 0)', key: 'relu-mask', unknown: !fwd, cellLabel: (v) => (v ? 'True' : 'False'), cellClass: masked }),
      matrixView(out, { name: 'out', key: 'relu-out', unknown: !fwd, cellClass: masked }));
    backwardRow.replaceChildren(
      matrixView(dout, { name: 'dout', key: 'relu-dout', edit: edit(dout, 'relu.dout') }),
      matrixView(dx, { name: 'dx', key: 'relu-dx', unknown: !bwd, cellClass: masked }));
    status.replaceChildren(...richText(!stepper.stepping ? t.reluAll : !fwd ? t.reluStart : !bwd ? t.reluAfterForward : t.reluAfterBackward));

    // the trap: the book's backward on the caller's own dout, against the library's
    const callersDout = Float64Array.from(dout.flat());
    const bookDx = bookBackwardInPlace(callersDout, mask.flat().map(Boolean));
    const after: Rows = x.map((r, i) => r.map((_, j) => callersDout[i * r.length + j]));
    const changed = (i: number, j: number): string => (after[i][j] !== dout[i][j] ? 'changed' : '');
    const oursAfter = rowsOf(doutT);
    trap.replaceChildren(h('h3', {}, ...richText(t.reluTrapTitle)), h('p', {}, ...richText(t.reluTrapText)),
      h('pre', { class: 'code', translate: 'no' }, 'def backward(self, dout):\n    dout[self.mask] = 0\n    dx = dout\n    return dx'),
      h('div', { class: 'matrices' },
        matrixView(after, { name: 'dout', title: t.reluTrapBook, key: 'relu-book-dout', cellClass: changed }),
        matrixView(oursAfter, { name: 'dout', title: t.reluTrapOurs, key: 'relu-our-dout' })),
      h('p', { id: 'relu-trap-verdict' }, ...richText(t.reluTrapVerdict(after.flat().filter((v, k) => v !== dout.flat()[k]).length, bookDx === callersDout))));
  }

  onLangChange(render);
  render();
}
