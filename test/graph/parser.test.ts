import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  GraphError, GraphSyntaxError, appleOrangeGraph, backward, expressionOf, graphInputs, parseExpression, topoSort,
} from '../../src/graph/index.js';
import { Lcg, randomExpression, randomValues } from './helpers.js';

const V = { x: 2, y: 3, z: -1.5, apple: 100, orange: 150 };
const value = (source: string): number => parseExpression(source, V).value;

describe('parseExpression: values', () => {
  const cases: [string, number][] = [
    ['2 + 3 * 4', 14], ['(2 + 3) * 4', 20], ['10 - 4 - 3', 3], ['8 / 4 / 2', 1], ['2 ^ 3 ^ 2', 512],
    ['-2 ^ 2', -4], ['2 ^ -1', 0.5], ['-x', -2], ['--x', 2], ['2 * -3', -6], ['x * y + z', 4.5], ['x ^ y', 8],
    ['1.5e2 + .5', 150.5], ['exp(0)', 1], ['log(1)', 0], ['sigmoid(0)', 0.5], ['relu(z)', 0], ['relu(x)', 2],
    ['max(x, y)', 3], ['max(y, x) - 1', 2], ['reciprocal(4)', 0.25], ['neg(x)', -2], ['pow(x, y)', 8],
    ['2×3÷4−1', 0.5], ['  x\t*  y ', 6], ['((x))', 2], ['exp(log(x))', 2],
  ];
  for (const [source, expected] of cases) {
    it(`${source} = ${expected}`, () => assert.ok(Math.abs(value(source) - expected) < 1e-12, `${source} gave ${value(source)}`));
  }
});

describe('parseExpression: structure', () => {
  it('one input node per variable, however often it is used', () => {
    const root = parseExpression('x * x + x', V);
    assert.equal(graphInputs(root).length, 1);
    assert.equal(topoSort(root).filter((n) => n.op === 'input').length, 1);
  });

  it('a constant exponent is one ^c node; a negative literal is one constant', () => {
    const sq = parseExpression('x ^ 2', V);
    assert.deepEqual([sq.op, sq.label, sq.inputs.length], ['powConst', '^2', 1]);
    assert.equal(parseExpression('x ^ -0.5', V).label, '^-0.5');
    assert.equal(parseExpression('x ^ y', V).op, 'pow');
    assert.deepEqual([parseExpression('-2', V).op, parseExpression('-2', V).value], ['const', -2]);
    assert.equal(parseExpression('-x', V).op, 'neg');
  });

  it('expressionOf prints the book\'s graph with only the parentheses it needs', () => {
    assert.equal(expressionOf(appleOrangeGraph()), '(apple × apple_num + orange × orange_num) × tax');
    assert.equal(expressionOf(parseExpression('a - (b - c) / (d * e) ^ 2 ^ f', { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 })),
      'a − (b − c) ÷ (d × e) ^ 2 ^ f');
    assert.equal(expressionOf(parseExpression('(x * y) ^ 2 - -2 + pow(x, 3) ^ (-1)', V)), '(x × y)^2 − -2 + (x^3)^-1');
  });

  it('expressionOf reads back into the same graph for random expressions', () => {
    const rng = new Lcg(7);
    for (let k = 0; k < 100; k++) {
      const values = randomValues(rng);
      const root = parseExpression(randomExpression(rng, 5), values);
      const again = parseExpression(expressionOf(root), values);
      assert.deepEqual(topoSort(again).map((n) => n.label), topoSort(root).map((n) => n.label), expressionOf(root));
      assert.ok(Object.is(again.value, root.value), expressionOf(root));
    }
  });
});

describe('parseExpression: errors', () => {
  const cases: [string, string][] = [
    ['(a + b))', "unexpected ')' at column 8"],
    ['(x + ))', "unexpected ')' at column 6"],
    ['x +', 'unexpected end of input at column 4'],
    ['', 'unexpected end of input at column 1'],
    ['x $ y', "unexpected character '$' at column 3"],
    ['(x', "expected ')' but found end of input at column 3"],
    ['x y', "unexpected 'y' at column 3"],
    ['2x', "unexpected 'x' at column 2"],
    ['x * * y', "unexpected '*' at column 5"],
    ['max(x)', 'max takes 2 arguments, got 1 at column 1'],
    ['exp(x, y)', 'exp takes 1 argument, got 2 at column 1'],
    ['  foo(x)', "unknown function 'foo' at column 3; functions: exp, log, sigmoid, relu, reciprocal, neg, max, pow"],
  ];
  for (const [source, first] of cases) {
    it(`${JSON.stringify(source)}: ${first}`, () => {
      assert.throws(() => parseExpression(source, { a: 1, b: 2, x: 1, y: 2 }), (e: unknown) => {
        assert.ok(e instanceof GraphSyntaxError && e instanceof GraphError);
        assert.equal(e.message.split('\n')[0], first);
        assert.equal(e.column, Number(/column (\d+)/.exec(first)![1]));
        return true;
      });
    });
  }

  it('the message ends with the expression and a caret under the column', () => {
    assert.throws(() => parseExpression('(x + ))', { x: 1 }), {
      name: 'GraphSyntaxError',
      message: "unexpected ')' at column 6\n  (x + ))\n       ^",
    });
  });

  it('an unknown variable is named, with the known ones listed', () => {
    assert.throws(() => parseExpression('apple * orang', { apple: 100, orange: 150 }), {
      message: "unknown variable 'orang' at column 9; known variables: apple, orange\n  apple * orang\n          ^",
    });
    assert.throws(() => parseExpression('x', {}), /unknown variable 'x' at column 1; no variable values were given/);
    assert.throws(() => parseExpression('toString', {}), /unknown variable 'toString'/);
  });

  it('a value that is not a finite number names the variable', () => {
    for (const bad of [NaN, Infinity, -Infinity, '3' as unknown as number]) {
      assert.throws(() => parseExpression('x + 1', { x: bad }), { name: 'GraphError', message: `input 'x': value must be a finite number, got ${String(bad)}` });
    }
  });

  it('deep nesting or a long chain is a GraphSyntaxError, not a stack overflow (found by the property tests)', () => {
    const deep = '('.repeat(3000) + 'x' + ')'.repeat(3000);
    assert.throws(() => parseExpression(deep, { x: 1 }), { name: 'GraphSyntaxError', message: /^expression nested too deeply \(more than 500 levels\) at column 501/ });
    assert.throws(() => parseExpression('-'.repeat(100000) + 'x', { x: 1 }), { name: 'GraphSyntaxError', message: /^expression nested too deeply/ });
    const sum = Array(3000).fill('x').join(' + ');
    assert.throws(() => parseExpression(sum, { x: 1 }), { name: 'GraphSyntaxError', message: /^expression too deep: a chain of more than 500 operations at column 2003/ });
    // 500 levels still parse, and their graph goes through backward
    const ok = parseExpression('('.repeat(499) + 'x' + ')'.repeat(499) + ' + x'.repeat(500), { x: 1 });
    assert.equal(ok.value, 501);
    backward(ok);
  });
});
