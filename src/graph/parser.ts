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
const TOKEN = /(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_]\w*)|([-+*/^(),×÷−])/y;

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
  const tokens = tokenize(source);
  const variables = new Map<string, Node>();
  let i = 0;
  const peek = (): Token => tokens[i];
  const next = (): Token => tokens[i++];
  const fail = (t: Token, reason = `unexpected ${show(t)}`, hint?: string): never => {
    throw new GraphSyntaxError(reason, t.col, source, hint);
  };
  // the depth of each operation node: the longest chain of operations below it
  const depths = new Map<Node, number>();
  const chain = (n: Node, t: Token): Node => {
    const depth = 1 + Math.max(0, ...n.inputs.map((x) => depths.get(x) ?? 0));
    if (depth > MAX_EXPRESSION_DEPTH) fail(t, `expression too deep: a chain of more than ${MAX_EXPRESSION_DEPTH} operations`);
    depths.set(n, depth);
    return n;
  };
  let nesting = 0;
  const expect = (text: string): void => {
    if (peek().text !== text) fail(peek(), `expected '${text}' but found ${show(peek())}`);
    i++;
  };

  function expr(): Node {
    let n = term();
    while (peek().text === '+' || peek().text === '-') {
      const op = next();
      n = chain(op.text === '+' ? add(n, term()) : sub(n, term()), op);
    }
    return n;
  }
  function term(): Node {
    let n = unary();
    while (peek().text === '*' || peek().text === '/') {
      const op = next();
      n = chain(op.text === '*' ? mul(n, unary()) : div(n, unary()), op);
    }
    return n;
  }
  function unary(): Node {
    // every level of brackets, signs and exponents passes through here
    if (++nesting > MAX_EXPRESSION_DEPTH) fail(peek(), `expression nested too deeply (more than ${MAX_EXPRESSION_DEPTH} levels)`);
    try {
      if (peek().text !== '-') return power();
      const sign = next();
      const x = unary();
      return x.op === 'const' ? constant(-x.value) : chain(neg(x), sign); // "-2" is the constant −2
    } finally {
      nesting--;
    }
  }
  function power(): Node {
    const base = primary();
    if (peek().text !== '^') return base;
    const op = next();
    return chain(powOf(base, unary()), op);
  }
  function primary(): Node {
    const t = next();
    if (t.kind === 'num') return constant(Number(t.text));
    if (t.text === '(') {
      const n = expr();
      expect(')');
      return n;
    }
    if (t.kind !== 'id') return fail(t);
    if (peek().text === '(') return call(t);
    let v = variables.get(t.text);
    if (!v) {
      if (!Object.hasOwn(values, t.text)) {
        const known = Object.keys(values);
        fail(t, `unknown variable '${t.text}'`, known.length ? `known variables: ${known.join(', ')}` : 'no variable values were given');
      }
      variables.set(t.text, (v = input(t.text, values[t.text])));
    }
    return v;
  }
  function call(name: Token): Node {
    if (!Object.hasOwn(FUNCTIONS, name.text)) fail(name, `unknown function '${name.text}'`, `functions: ${Object.keys(FUNCTIONS).join(', ')}`);
    const f = FUNCTIONS[name.text];
    expect('(');
    const args = [expr()];
    while (peek().text === ',') { i++; args.push(expr()); }
    if (args.length !== f[0]) fail(name, `${name.text} takes ${f[0]} argument${f[0] > 1 ? 's' : ''}, got ${args.length}`);
    expect(')');
    return chain(f[1](...args), name);
  }

  const root = expr();
  if (peek().kind !== 'end') fail(peek());
  return root;
}
