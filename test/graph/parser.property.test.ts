/**
 * Property-based tests of the expression parser: generated expressions, printed by this test's
 * own printer (fewest parentheses, any spacing, the book's symbols), parse to the value the
 * formula gives; any string at all parses or throws a GraphSyntaxError (GraphError for a
 * constant too large to be finite) with a column inside the input, never another exception.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GraphError, GraphSyntaxError } from '../../src/graph/errors.js';
import { MAX_EXPRESSION_DEPTH, parseExpression } from '../../src/graph/parser.js';
import { expressionOf } from '../../src/graph/renderText.js';
import { topoSort } from '../../src/graph/node.js';
import { check } from '../property.js';

type Ast =
  | { kind: 'num'; value: number }
  | { kind: 'var'; name: string }
  | { kind: 'bin'; op: '+' | '-' | '*' | '/' | '^'; left: Ast; right: Ast }
  | { kind: 'neg'; x: Ast }
  | { kind: 'call'; f: string; args: Ast[] };

const VARIABLES = ['x', 'y', 'apple_num', '_t', 'exp', 'max', 'W1'];
const UNARY = ['exp', 'log', 'sigmoid', 'relu', 'reciprocal', 'neg'];
const BINARY = ['max', 'pow'];

const { ast } = fc.letrec<{ ast: Ast }>((tie) => ({
  ast: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(
      fc.integer({ min: 0, max: 20 }).map((value): Ast => ({ kind: 'num', value })),
      fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }).map((value): Ast => ({ kind: 'num', value })),
    ),
    fc.constantFrom(...VARIABLES).map((name): Ast => ({ kind: 'var', name })),
    fc.record({ kind: fc.constant('bin' as const), op: fc.constantFrom('+', '-', '*', '/', '^' as const), left: tie('ast'), right: tie('ast') }),
    fc.record({ kind: fc.constant('neg' as const), x: tie('ast') }),
    fc.record({ kind: fc.constant('call' as const), f: fc.constantFrom(...UNARY), args: fc.tuple(tie('ast')) }),
    fc.record({ kind: fc.constant('call' as const), f: fc.constantFrom(...BINARY), args: fc.tuple(tie('ast'), tie('ast')) }),
  ),
}));

/**
 * The value by the formulas themselves, in IEEE arithmetic, and whether every subexpression
 * stayed a finite number: where one did not (log of a negative, 1/0, exp(800)) the graph must
 * refuse with a GraphError instead of holding NaN or ±Infinity.
 */
function evaluate(a: Ast, values: Record<string, number>): { value: number; finite: boolean } {
  let finite = true;
  const walk = (a: Ast): number => {
    const v = value(a);
    if (!Number.isFinite(v)) finite = false;
    return v;
  };
  const value = (a: Ast): number => {
    switch (a.kind) {
      case 'num': return a.value;
      case 'var': return values[a.name];
      case 'neg': return -walk(a.x);
      case 'bin': {
        const [l, r] = [walk(a.left), walk(a.right)];
        return a.op === '+' ? l + r : a.op === '-' ? l - r : a.op === '*' ? l * r : a.op === '/' ? l / r : l ** r;
      }
      case 'call': {
        const [x, y] = a.args.map(walk);
        switch (a.f) {
          case 'exp': return Math.exp(x);
          case 'log': return Math.log(x);
          case 'sigmoid': return 1 / (1 + Math.exp(-x));
          case 'relu': return Math.max(0, x);
          case 'reciprocal': return 1 / x;
          case 'neg': return -x;
          case 'max': return Math.max(x, y);
          default: return x ** y; // pow
        }
      }
    }
  };
  const result = walk(a);
  return { value: result, finite };
}

/** The GraphError of a result that is not a finite number: `log(-1) is NaN: log needs an input above 0`. */
const isValueError = (e: unknown): boolean => e instanceof GraphError && / is (NaN|-?Infinity): /.test(e.message);

/** Precedence levels of the grammar: 1 sum, 2 product, 3 sign, 4 power, 5 atom. */
interface Style {
  /** Spacing put between tokens, cycled. */
  spaces: string[];
  /** Write × ÷ − for * / - (the book's symbols). */
  book: boolean;
  /** Extra parentheses around a node, in addition to the needed ones. */
  extraParens: boolean[];
}

/** The expression as text, with only the parentheses precedence needs (plus `extraParens`). */
function print(a: Ast, style: Style): string {
  let k = 0;
  const sp = (): string => style.spaces[k++ % style.spaces.length];
  const sym = (op: string): string => (style.book ? ({ '*': '×', '/': '÷', '-': '−' } as Record<string, string>)[op] ?? op : op);
  const show = (n: Ast, min: number): string => {
    const [text, prec] = level(n);
    const extra = style.extraParens[k++ % style.extraParens.length];
    return prec < min || extra ? `(${sp()}${text}${sp()})` : text;
  };
  const level = (n: Ast): [string, number] => {
    switch (n.kind) {
      case 'num': return [String(n.value), 5];
      case 'var': return [n.name, 5];
      case 'neg': return [`${sym('-')}${sp()}${show(n.x, 3)}`, 3];
      case 'call': return [`${n.f}(${sp()}${n.args.map((x) => show(x, 1)).join(`${sp()},${sp()}`)}${sp()})`, 5];
      case 'bin':
        if (n.op === '^') return [`${show(n.left, 5)}${sp()}^${sp()}${show(n.right, 3)}`, 4];
        if (n.op === '*' || n.op === '/') return [`${show(n.left, 2)}${sp()}${sym(n.op)}${sp()}${show(n.right, 3)}`, 2];
        return [`${show(n.left, 1)}${sp()}${sym(n.op)}${sp()}${show(n.right, 2)}`, 1];
    }
  };
  return `${sp()}${show(a, 1)}${sp()}`;
}

const styleArb: fc.Arbitrary<Style> = fc.record({
  spaces: fc.array(fc.constantFrom('', '', ' ', '  ', '\t', '\n'), { minLength: 1, maxLength: 5 }),
  book: fc.boolean(),
  extraParens: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }).map((a) => (a.every(Boolean) ? [...a, false] : a)),
});

const valuesArb = fc.record(Object.fromEntries(VARIABLES.map((v) => [v, fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 })])));

const same = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

/** The error is the documented one: a GraphSyntaxError with a column inside (or just after) the input. */
function assertSyntaxError(error: unknown, source: string): void {
  if (error instanceof GraphSyntaxError) {
    assert.ok(error.column >= 1 && error.column <= source.length + 1, `column ${error.column} in a ${source.length}-character input`);
    assert.equal(error.source, source);
    assert.ok(error.message.includes(`at column ${error.column}`), error.message);
  } else {
    // a literal like 1e999 is not a finite number, nor is log(-1): GraphError, the documented class
    assert.ok(isValueError(error) || (error instanceof GraphError && /value must be a finite number/.test(error.message)), `expected a GraphSyntaxError, got ${String((error as Error)?.stack ?? error)}`);
  }
}

/** Text near the grammar: its tokens, bits of tokens, and stray characters. */
const nearGrammarArb = fc.array(
  fc.oneof(
    fc.constantFrom('x', 'y', 'exp', 'max', 'pow', 'log', '(', ')', ',', '+', '-', '*', '/', '^', '×', '÷', '−', ' ', '1', '2.5', '.5', '1e3', '1e', '1e999', '.', 'e', '__proto__', 'constructor', 'toString'),
    fc.string({ maxLength: 2 }),
    fc.string({ unit: 'grapheme', maxLength: 1 }),
  ),
  { maxLength: 25 },
).map((parts) => parts.join(''));

describe('expression parser, property-based', () => {
  it('a printed expression parses to the value its formula gives', () => {
    check('parser round trip', 1500, fc.property(ast, styleArb, valuesArb, (a, style, values) => {
      const source = print(a, style);
      const expected = evaluate(a, values);
      if (!expected.finite) {
        assert.throws(() => parseExpression(source, values), isValueError, `${source}: a subexpression is ${expected.value}, yet it parsed`);
        return;
      }
      const root = parseExpression(source, values);
      assert.ok(same(root.value, expected.value), `${source}: got ${root.value}, expected ${expected.value}`);
    }));
  });

  it("expressionOf's text parses back to the same text (the printer and parser agree)", () => {
    check('parser expressionOf', 600, fc.property(ast, valuesArb, (a, values) => {
      fc.pre(evaluate(a, values).finite); // else parsing refuses (the test above)
      const text = expressionOf(parseExpression(print(a, { spaces: [''], book: false, extraParens: [false] }), values));
      assert.equal(expressionOf(parseExpression(text, values)), text);
    }));
  });

  it('any text parses or gives a GraphSyntaxError with its column, never another exception', () => {
    const arb = fc.record({
      source: fc.oneof(nearGrammarArb, fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 12 })),
      values: fc.dictionary(fc.constantFrom('x', 'y', 'e', '__proto__', 'toString'), fc.double({ noNaN: true, noDefaultInfinity: true }), { noNullPrototype: true }),
    });
    check('parser any text', 2500, fc.property(arb, ({ source, values }) => {
      try {
        // a graph no bigger than its text: at most one node per character
        assert.ok(topoSort(parseExpression(source, values)).length <= source.length, source);
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        assertSyntaxError(e, source);
      }
    }));
  });

  it('deep nesting and long chains give a GraphSyntaxError, not a stack overflow', () => {
    const arb = fc.record({
      depth: fc.integer({ min: 1, max: 20000 }),
      shape: fc.constantFrom('(%)', '-%', 'x^%', 'exp(%)', 'max(x, %)', '% + x', 'x * %'),
    });
    check('parser depth', 60, fc.property(arb, ({ depth, shape }) => {
      const [before, after] = shape.split('%');
      const source = before.repeat(depth) + 'x' + after.repeat(depth);
      try {
        parseExpression(source, { x: 0.5 });
        assert.ok(depth <= MAX_EXPRESSION_DEPTH, `${depth} levels of ${shape} parsed`);
      } catch (e) {
        if (isValueError(e)) { // exp(exp(…)) overflows: parsed, then refused for its value
          assert.ok(depth <= MAX_EXPRESSION_DEPTH, `${depth} levels of ${shape} parsed`);
          return;
        }
        assertSyntaxError(e, source);
        assert.ok(depth > MAX_EXPRESSION_DEPTH / 2, `${depth} levels refused: ${(e as Error).message.split('\n')[0]}`);
      }
    }));
  });
});
