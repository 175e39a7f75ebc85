import { GraphSyntaxError } from './errors.js';
import {
  type Node, add, constant, div, exp, input, log, max, mul, neg, pow, reciprocal, relu, sigmoid, sub,
} from './node.js';

interface Token {
  kind: 'num' | 'id' | 'sym' | 'end';
  text: string;
  /** 1-based column. */
  col: number;
}

/** The book's symbols are accepted too, so an expression printed by `expressionOf` parses back. */
const SYMBOLS: Record<string, string> = { '×': '*', '÷': '/', '−': '-' };
const TOKEN = /(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_]\w*)|([-+*/^(),×÷−@])/y;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  for (let pos = 0; ; pos = TOKEN.lastIndex) {
    while (/\s/.test(source[pos] ?? '')) pos++;
    if (pos >= source.length) return [...tokens, { kind: 'end', text: '', col: pos + 1 }];
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(source);
    if (!m) throw new GraphSyntaxError(`unexpected character '${source[pos]}'`, pos + 1, source);
    const kind = m[1] ? 'num' : m[2] ? 'id' : 'sym';
    tokens.push({ kind, text: (m[3] && SYMBOLS[m[3]]) || m[0], col: pos + 1 });
  }
}

/** The functions an expression may call, with their number of arguments. */
const FUNCTIONS: Record<string, [arity: number, build: (...args: Node[]) => Node]> = {
  exp: [1, exp], log: [1, log], sigmoid: [1, sigmoid], relu: [1, relu], reciprocal: [1, reciprocal],
  neg: [1, neg], max: [2, max], pow: [2, (x, y) => powOf(x, y)],
};

/** x^y, with a constant exponent folded into one `^c` node, as the book draws x². */
const powOf = (x: Node, y: Node): Node => pow(x, y.op === 'const' ? y.value : y);

const show = (t: Token): string => (t.kind === 'end' ? 'end of input' : `'${t.text}'`);

/** An infix operator of an expression. */
export type Operator = '+' | '-' | '*' | '/' | '@' | '^';

/**
 * What an expression is built into: scalar graph nodes (parseExpression) or autograd
 * variables (parseTensorExpression in tensorExpression.ts). The parser does the syntax; the
 * builder makes the nodes.
 */
export interface ExpressionBuilder<T> {
  /** The operators this kind of expression has ('@', the matrix product, only for tensors). */
  readonly operators: ReadonlySet<Operator>;
  /** The functions it may call, with their number of arguments. */
  readonly functions: Readonly<Record<string, [arity: number, build: (...args: T[]) => T]>>;
  /** A number written in the expression. */
  number(value: number): T;
  /** The variable of that name (one node however often it is used), or undefined if it has no value. */
  variable(name: string): T | undefined;
  /** The names that have values, for the error about one that has none. */
  known(): string[];
  /** a op b. */
  binary(op: Operator, a: T, b: T): T;
  /** −x. */
  negate(x: T): T;
}

const SCALAR_OPS: ReadonlySet<Operator> = new Set<Operator>(['+', '-', '*', '/', '^']);

/** The scalar graph's builder: named inputs from `values`, constants folded where the book draws them so. */
function scalarBuilder(values: Readonly<Record<string, number>>): ExpressionBuilder<Node> {
  const variables = new Map<string, Node>();
  return {
    operators: SCALAR_OPS,
    functions: FUNCTIONS,
    number: (v) => constant(v),
    variable(name) {
      if (!Object.hasOwn(values, name)) return undefined;
      let v = variables.get(name);
      if (!v) variables.set(name, (v = input(name, values[name])));
      return v;
    },
    known: () => Object.keys(values),
    binary: (op, a, b) => (op === '+' ? add(a, b) : op === '-' ? sub(a, b) : op === '*' ? mul(a, b) : op === '/' ? div(a, b) : powOf(a, b)),
    negate: (x) => (x.op === 'const' ? constant(-x.value) : neg(x)), // "-2" is the constant −2
  };
}

/**
 * The deepest nesting (brackets, signs, exponents) and the longest chain of operations an
 * expression may have: the parser, `backward` and the renderers recurse, and overflow the stack
 * a few thousand levels down; no picture is readable that deep anyway.
 */
export const MAX_EXPRESSION_DEPTH = 500;

/**
 * Builds a scalar graph from an expression, taking each variable's value from `values`.
 * Grammar (usual precedence, `^` binds tightest and to the right, `-x^2` is `-(x^2)`):
 *
 *     expr  = term (('+' | '-') term)*
 *     term  = unary (('*' | '/') unary)*
 *     unary = '-' unary | power
 *     power = primary ('^' unary)?
 *     primary = number | name | name '(' expr (',' expr)* ')' | '(' expr ')'
 *
 * Functions: exp, log, sigmoid, relu, reciprocal, neg, max(a, b), pow(a, b). A variable used
 * twice is one input node, so its gradient collects both uses. A constant exponent (`x^2`)
 * makes one `^2` node.
 *
 * @throws GraphSyntaxError with the column, for a syntax error or a variable with no value.
 * @throws GraphError for a value that is not a finite number.
 * @example
 * const price = parseExpression('(apple * apple_num + orange * orange_num) * tax',
 *   { apple: 100, apple_num: 2, orange: 150, orange_num: 3, tax: 1.1 });
 * price.value; // 715.0000000000001
 */
export function parseExpression(source: string, values: Readonly<Record<string, number>>): Node {
  return parseWith(source, scalarBuilder(values));
}

/**
 * Parses an expression with the grammar of parseExpression (plus `@`, at the precedence of `*`,
 * where the builder has it) and builds it with `builder`.
 */
export function parseWith<T>(source: string, builder: ExpressionBuilder<T>): T {
  const tokens = tokenize(source);
  let i = 0;
  const peek = (): Token => tokens[i];
  const next = (): Token => tokens[i++];
  const fail = (t: Token, reason = `unexpected ${show(t)}`, hint?: string): never => {
    throw new GraphSyntaxError(reason, t.col, source, hint);
  };
  const expect = (text: string): void => {
    if (peek().text !== text) fail(peek(), `expected '${text}' but found ${show(peek())}`);
    i++;
  };
  const isOp = (t: Token, ...ops: Operator[]): boolean => t.kind === 'sym' && ops.some((o) => o === t.text && builder.operators.has(o));
  // the depth of each operation built: the longest chain of operations below it (inputs: 0)
  const depths = new Map<T, number>();
  const chain = (t: Token, n: T, ...operands: T[]): T => {
    const depth = 1 + Math.max(0, ...operands.map((x) => depths.get(x) ?? 0));
    if (depth > MAX_EXPRESSION_DEPTH) fail(t, `expression too deep: a chain of more than ${MAX_EXPRESSION_DEPTH} operations`);
    depths.set(n, depth);
    return n;
  };
  let nesting = 0;

  function expr(): T {
    let n = term();
    while (isOp(peek(), '+', '-')) {
      const op = next();
      const rhs = term();
      n = chain(op, builder.binary(op.text as Operator, n, rhs), n, rhs);
    }
    return n;
  }
  function term(): T {
    let n = unary();
    while (isOp(peek(), '*', '/', '@')) {
      const op = next();
      const rhs = unary();
      n = chain(op, builder.binary(op.text as Operator, n, rhs), n, rhs);
    }
    return n;
  }
  function unary(): T {
    // every level of brackets, signs and exponents passes through here
    if (++nesting > MAX_EXPRESSION_DEPTH) fail(peek(), `expression nested too deeply (more than ${MAX_EXPRESSION_DEPTH} levels)`);
    try {
      if (peek().text !== '-') return power();
      const sign = next();
      const x = unary();
      return chain(sign, builder.negate(x), x);
    } finally {
      nesting--;
    }
  }
  function power(): T {
    const base = primary();
    if (!isOp(peek(), '^')) return base;
    const op = next();
    const exponent = unary();
    return chain(op, builder.binary('^', base, exponent), base, exponent);
  }
  function primary(): T {
    const t = next();
    if (t.kind === 'num') return builder.number(Number(t.text));
    if (t.text === '(') {
      const n = expr();
      expect(')');
      return n;
    }
    if (t.kind !== 'id') return fail(t);
    if (peek().text === '(') return call(t);
    const v = builder.variable(t.text);
    if (v === undefined) {
      const known = builder.known();
      fail(t, `unknown variable '${t.text}'`, known.length ? `known variables: ${known.join(', ')}` : 'no variable values were given');
    }
    return v as T;
  }
  function call(name: Token): T {
    if (!Object.hasOwn(builder.functions, name.text)) fail(name, `unknown function '${name.text}'`, `functions: ${Object.keys(builder.functions).join(', ')}`);
    const f = builder.functions[name.text];
    expect('(');
    const args = [expr()];
    while (peek().text === ',') { i++; args.push(expr()); }
    if (args.length !== f[0]) fail(name, `${name.text} takes ${f[0]} argument${f[0] > 1 ? 's' : ''}, got ${args.length}`);
    expect(')');
    return chain(name, f[1](...args), ...args);
  }

  const root = expr();
  if (peek().kind !== 'end') fail(peek());
  return root;
}
