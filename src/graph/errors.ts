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
