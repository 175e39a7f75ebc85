/**
 * A number as the book prints it: rounded to 10 significant digits, so float64 noise from
 * `1.1 * 200` disappears.
 *
 * @example
 * formatNumber(220.00000000000003); // '220'
 * formatNumber(3.3000000000000003); // '3.3'
 * formatNumber(NaN);                // 'NaN'
 */
export function formatNumber(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(10))) : String(x);
}

/**
 * A tensor shape as NumPy prints it.
 *
 * @example
 * formatShape([100, 784]); // '(100, 784)'
 * formatShape([50]);       // '(50,)'
 * formatShape([]);         // '()'
 */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}
