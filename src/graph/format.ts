/**
 * A number as the book prints it: rounded to 10 significant digits, so float64 noise from
 * `1.1 * 200` disappears.
 *
 * @example
 * formatNumber(220.00000000000003); // '220'
 * formatNumber(3.3000000000000003); // '3.3'
 * formatNumber(NaN);                // 'NaN'
 * formatNumber(1.7976931345e308);   // '1.7976931345e+308' (rounded, it would be Infinity)
 */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const rounded = Number(x.toPrecision(10));
  return String(Number.isFinite(rounded) ? rounded : x); // near ±MAX_VALUE rounding up would overflow to ±Infinity
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
