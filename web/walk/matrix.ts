/**
 * Matrices on the page: shown as bracketed tables with their name and shape, editable cell by
 * cell, and matrix products laid out with their shapes aligned, so the learner sees which
 * dimensions must match.
 */
import { formatNumber, formatShape } from '../../src/graph/index.js';
import type { Tensor } from '../../src/tensor/Tensor.js';
import { h } from '../dom.js';
import { parseValue } from '../graphModel.js';
import { richText, t } from '../i18n/index.js';

export type Rows = number[][];

/** A tensor's values as rows (a 1-D tensor as one row). */
export function rowsOf(x: Tensor): Rows {
  const cols = x.ndim === 1 ? x.size : x.shape[1];
  const d = x.data;
  return Array.from({ length: x.size / cols }, (_, i) => Array.from(d.subarray(i * cols, (i + 1) * cols)));
}

/** The transpose of rows (for showing Wᵀ and Xᵀ beside the products that use them). */
export const transpose = (m: Rows): Rows => m[0].map((_, j) => m.map((r) => r[j]));

/** A value short enough for a matrix cell: 6 significant digits (the full value is in `data-value`). */
export const cellText = (v: number): string => (Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v));

export interface MatrixOptions {
  /** The matrix's name, as in the book: `X`, `dW`, `∂L/∂X`. */
  name: string;
  /** The shape to print (default: rows × cols of the values). */
  shape?: readonly number[];
  /** A sentence above the matrix (translated, unlike the name). */
  title?: string;
  /** A data-name for tests and links. */
  key?: string;
  /** A class per cell (e.g. 'masked', 'changed'). */
  cellClass?: (i: number, j: number) => string;
  /** Text per cell instead of the number (e.g. True / False). */
  cellLabel?: (v: number, i: number, j: number) => string;
  /** Makes the cells inputs; called with the new value of a cell. */
  edit?: (i: number, j: number, v: number) => void;
  /** Values not known yet: every cell shows '?'. */
  unknown?: boolean;
}

/** A matrix as a figure: the name and shape above a bracketed table. */
export function matrixView(values: Rows, o: MatrixOptions): HTMLElement {
  const shape = o.shape ?? [values.length, values[0]?.length ?? 0];
  const table = h('table', { class: 'matrix', translate: 'no' }, h('tbody', {}, ...values.map((row, i) => h('tr', {}, ...row.map((v, j) => {
    const cls = `${o.cellClass?.(i, j) ?? ''}${o.edit ? ' edit' : ''}`.trim();
    if (o.edit) {
      const id = `${o.key}-${i}-${j}`;
      const input = h('input', { id, type: 'text', inputmode: 'decimal', autocomplete: 'off', value: formatNumber(v), 'aria-label': `${o.name}[${i}, ${j}]`, 'data-i': String(i), 'data-j': String(j) });
      input.addEventListener('change', () => {
        const parsed = parseValue(input.value);
        if (typeof parsed === 'string') {
          input.setAttribute('aria-invalid', 'true');
          input.title = t.valueProblem(parsed);
          return;
        }
        input.removeAttribute('aria-invalid');
        input.removeAttribute('title');
        o.edit!(i, j, parsed);
      });
      return h('td', { class: cls }, input);
    }
    const text = o.unknown ? '?' : o.cellLabel ? o.cellLabel(v, i, j) : cellText(v);
    return h('td', { class: cls, ...(o.unknown ? {} : { 'data-value': String(v) }) }, text);
  })))));
  return h('figure', { class: 'matrix-figure', 'data-name': o.key ?? o.name },
    ...(o.title ? [h('p', { class: 'm-title' }, ...richText(o.title))] : []),
    h('figcaption', { translate: 'no' }, h('span', { class: 'm-name' }, o.name), ' ', h('span', { class: 'm-shape' }, formatShape(shape))), table);
}

/** A shape with each dimension in its own span, coloured by role in a product. */
function shapeChips(shape: readonly number[], roles: readonly string[]): HTMLElement {
  const parts: (Node | string)[] = ['('];
  shape.forEach((d, k) => {
    if (k) parts.push(', ');
    parts.push(h('span', { class: `dim ${roles[k]}` }, String(d)));
  });
  parts.push(')');
  return h('span', { class: 'shape' }, ...parts);
}

/**
 * `out = a · b` with the three matrices side by side and, above them, their shapes aligned:
 * (n, m) = (n, k) · (k, m), the inner k's marked as the dimension the product sums over.
 */
export function productView(out: { name: string; values: Rows; key: string }, a: { name: string; values: Rows }, b: { name: string; values: Rows }): HTMLElement {
  const n = a.values.length, k = b.values.length, m = b.values[0].length;
  const shapes = h('p', { class: 'shape-line', translate: 'no' },
    h('span', { class: 'm-name' }, out.name), ' ', shapeChips([n, m], ['outer-r', 'outer-c']), ' = ',
    h('span', { class: 'm-name' }, a.name), ' ', shapeChips([n, a.values[0].length], ['outer-r', 'inner']), ' · ',
    h('span', { class: 'm-name' }, b.name), ' ', shapeChips([k, m], ['inner', 'outer-c']));
  return h('div', { class: 'product', 'data-product': out.key },
    shapes,
    h('div', { class: 'matrices' },
      matrixView(out.values, { name: out.name, key: out.key }), h('span', { class: 'op' }, '='),
      matrixView(a.values, { name: a.name }), h('span', { class: 'op' }, '·'),
      matrixView(b.values, { name: b.name })));
}

/**
 * A matrix editor whose rows can grow and shrink (the batch size N): new rows get values
 * from `fill(i, j)`.
 */
export function resizeRows(m: Rows, rows: number, fill: (i: number, j: number) => number): Rows {
  return Array.from({ length: rows }, (_, i) => m[i] ?? Array.from({ length: m[0].length }, (_, j) => fill(i, j)));
}
