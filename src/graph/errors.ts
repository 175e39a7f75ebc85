/**
 * A mistake in building or evaluating a scalar graph: a value that is not a finite number,
 * an input name the graph does not have, a value set on a computed node.
 *
 * @example
 * input('x', NaN); // GraphError: input 'x': value must be a finite number, got NaN
 */
export class GraphError extends Error {
  /** 'GraphError', so printed messages and stack traces name the class. */
  override name = 'GraphError';
}

/**
 * A mistake in an expression given to `parseExpression`, with the 1-based column it was found
 * at. The message ends with the expression and a caret under that column:
 *
 * @example
 * parseExpression('(a + b))', { a: 1, b: 2 });
 * // GraphSyntaxError: unexpected ')' at column 8
 * //   (a + b))
 * //          ^
 */
export class GraphSyntaxError extends GraphError {
  /** 'GraphSyntaxError', so printed messages and stack traces name the class. */
  override name = 'GraphSyntaxError';

  constructor(
    /** What is wrong, without the position: `unexpected ')'`. */
    readonly reason: string,
    /** 1-based column of the offending character. */
    readonly column: number,
    /** The whole expression. */
    readonly source: string,
    hint?: string,
  ) {
    super(`${reason} at column ${column}${hint ? `; ${hint}` : ''}\n  ${source}\n  ${' '.repeat(column - 1)}^`);
  }
}

/**
 * Why an operation of a scalar graph gave no finite number: `log-domain` (log of x ≤ 0),
 * `division-by-zero`, `negative-base` (a negative number to a fractional power),
 * `zero-negative-power`, `exp-overflow` (exp above 709.78), `overflow` (beyond ±1.8e308);
 * in backward `infinite-slope` (x^c at x = 0 for c < 1), `log-of-base` (∂(x^y)/∂y = x^y·ln x
 * at x ≤ 0), `gradient-overflow`.
 */
export type NonFiniteReason =
  | 'log-domain' | 'division-by-zero' | 'negative-base' | 'zero-negative-power' | 'exp-overflow' | 'overflow'
  | 'infinite-slope' | 'log-of-base' | 'gradient-overflow';

/**
 * An operation's value, or the gradient backward passes to one of its inputs, is not a finite
 * number: the graph refuses it rather than carry NaN or ±Infinity on. Its fields let a page
 * word the message in its own language.
 *
 * @example
 * log(input('x', -1)); // GraphValueError: log(-1) is NaN: log needs an input above 0
 */
export class GraphValueError extends GraphError {
  /** 'GraphValueError', so printed messages and stack traces name the class. */
  override name = 'GraphValueError';

  constructor(
    message: string,
    /** The operation on its input values, as text: `log(-1)`, `1 ÷ 0`. */
    readonly expression: string,
    /** The value (or gradient) it gave: NaN, Infinity or -Infinity. */
    readonly value: number,
    /** Why, as a code. */
    readonly reason: NonFiniteReason,
    /** In backward: the input whose gradient it is; undefined for a forward value. */
    readonly gradientOf?: string,
  ) {
    super(message);
  }
}
