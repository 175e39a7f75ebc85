import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GraphSyntaxError, backwardSteps, formatNumber, graphInputs } from '../../src/graph/index.js';
import { NEW_VARIABLE_VALUE, buildGraph, isComplete, parseValue, rewindTo } from '../../web/graphModel.js';

const grads = (root: ReturnType<typeof buildGraph>['root']): Record<string, string> =>
  Object.fromEntries(graphInputs(root).map((n) => [n.name!, formatNumber(n.grad)]));

describe('graph explorer model', () => {
  it('builds the book graphs with the values given (apple 150: 2.2, 165, 300)', () => {
    const { root, values } = buildGraph({ preset: 'apple' }, { apple: 150 });
    assert.deepEqual(values, { apple: 150, apple_num: 2, tax: 1.1 });
    backwardSteps(root);
    assert.equal(formatNumber(root.value), '330');
    assert.deepEqual(grads(root), { apple: '2.2', apple_num: '165', tax: '300' });
    const ao = buildGraph({ preset: 'apple-orange' }, {}).root;
    backwardSteps(ao);
    assert.deepEqual(grads(ao), { apple: '2.2', apple_num: '110', orange: '3.3', orange_num: '165', tax: '650' });
  });

  it('gives a new variable of an expression the default value and keeps known ones', () => {
    assert.deepEqual(buildGraph({ expression: 'x * y + x' }, { x: 3, unused: 9 }).values, { x: 3, y: NEW_VARIABLE_VALUE });
    assert.deepEqual(buildGraph({ expression: '2 ^ 3' }, {}).values, {});
  });

  it('reports a syntax error with its column, not an unknown variable', () => {
    assert.throws(() => buildGraph({ expression: '(a + b))' }, {}), (e: Error) => e instanceof GraphSyntaxError && e.column === 8);
    assert.throws(() => buildGraph({ expression: 'a +' }, {}), (e: Error) => e instanceof GraphSyntaxError && e.column === 4);
    assert.throws(() => buildGraph({ expression: 'foo(1)' }, {}), /unknown function 'foo'/);
  });

  it('reads typed values, refusing what is not a finite number', () => {
    assert.equal(parseValue(' 1.5e2 '), 150);
    assert.equal(parseValue('−2'), -2);
    assert.equal(parseValue('abc'), "'abc' is not a number");
    assert.equal(parseValue(''), 'enter a number');
    assert.equal(parseValue('1e999'), '1e999 is not a finite number');
  });

  it('rewinds backward to any step: grads and completeness as they were then', () => {
    const { root } = buildGraph({ preset: 'apple' }, {});
    const steps = backwardSteps(root);
    const [apple, appleNum, tax] = graphInputs(root);
    assert.equal(steps.length, 2);
    let ran = rewindTo(root, steps, 0);
    assert.deepEqual([ran.length, root.grad, apple.grad, tax.grad], [0, 1, 0, 0]);
    ran = rewindTo(root, steps, 1); // the last × ran: tax has its gradient, apple not yet
    assert.equal(formatNumber(tax.grad), '200');
    assert.equal(apple.grad, 0);
    assert.deepEqual([isComplete(root, tax, ran), isComplete(root, apple, ran)], [true, false]);
    ran = rewindTo(root, steps, 2);
    assert.deepEqual([formatNumber(apple.grad), formatNumber(appleNum.grad)], ['2.2', '110']);
    assert.ok(isComplete(root, apple, ran));
  });

  it('an input used twice is complete only after both of its uses ran', () => {
    const { root } = buildGraph({ expression: 'x * y + x' }, { x: 3, y: 2 });
    const steps = backwardSteps(root);
    const x = graphInputs(root).find((n) => n.name === 'x')!;
    const ran = rewindTo(root, steps, 1); // + ran: x got 1 from it, × has not run
    assert.equal(x.grad, 1);
    assert.equal(isComplete(root, x, ran), false);
    assert.ok(isComplete(root, x, rewindTo(root, steps, steps.length)));
    assert.equal(x.grad, 3); // y + 1
  });
});
