import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import {
  GraphError, OPS, type Op, add, apply, appleGraph, appleOrangeGraph, backward, backwardSteps, constant, div, edgeGrads,
  evaluate, exp, formatNumber, graphInputs, input, log, max, mul, neg, parseExpression, pow, recompute, reciprocal,
  relu, sigmoid, sigmoidGraph, softmaxWithLossGraph, sub, topoSort,
} from '../../src/graph/index.js';
import { AddLayer } from '../../src/layers/AddLayer.js';
import { MulLayer } from '../../src/layers/MulLayer.js';
import { Lcg, assertClose, numericalGrads, randomExpression, randomValues, wellConditioned } from './helpers.js';

const grads = (root: ReturnType<typeof appleGraph>): Record<string, number> =>
  Object.fromEntries(graphInputs(root).map((n) => [n.name!, n.grad]));

describe('the book\'s graphs', () => {
  it('buy apple: price 220; grads apple 2.2, apple_num 110, tax 200', () => {
    const price = appleGraph();
    backward(price);
    assertClose(price.value, 220, 1e-9, 'price');
    const g = grads(price);
    assertClose(g.apple, 2.2, 1e-9, 'apple');
    assertClose(g.apple_num, 110, 1e-9, 'apple_num');
    assertClose(g.tax, 200, 1e-9, 'tax');
    assert.deepEqual([price.value, g.apple, g.apple_num, g.tax].map(formatNumber), ['220', '2.2', '110', '200']);
    assert.equal(price.inputs[0].name, 'apple_price');
    assert.equal(price.label, '×');
  });

  it('buy apple and orange: price 715; grads 2.2, 110, 3.3, 165, 650', () => {
    const price = appleOrangeGraph();
    backward(price);
    const expected = { apple: 2.2, apple_num: 110, orange: 3.3, orange_num: 165, tax: 650 };
    assertClose(price.value, 715, 1e-9, 'price');
    for (const [name, v] of Object.entries(expected)) assertClose(grads(price)[name], v, 1e-9, name);
    assert.deepEqual(graphInputs(price).map((n) => formatNumber(n.grad)), ['2.2', '110', '3.3', '165', '650']);
    assert.deepEqual(topoSort(price).filter((n) => n.inputs.length).map((n) => `${n.name} ${n.label}`),
      ['apple_price ×', 'orange_price ×', 'all_price +', 'price ×']);
  });

  it('the expression form builds the same graph with the same numbers', () => {
    const price = parseExpression('(apple * apple_num + orange * orange_num) * tax',
      { apple: 100, apple_num: 2, orange: 150, orange_num: 3, tax: 1.1 });
    const book = appleOrangeGraph();
    backward(price);
    backward(book);
    assert.equal(price.value, book.value);
    assert.deepEqual(grads(price), grads(book));
    assert.deepEqual(topoSort(price).map((n) => n.label), topoSort(book).map((n) => n.label));
  });
});

describe('the chapter\'s layer graphs', () => {
  it('Sigmoid as fig. 5-19 (×(−1), exp, +1, /): y at x = 1, and backward gives y(1 − y) = 0.19661193…', () => {
    const y = sigmoidGraph(1);
    assert.deepEqual(topoSort(y).filter((n) => n.inputs.length).map((n) => n.label), ['×', 'exp', '+', '1/x']);
    const steps = backwardSteps(y);
    const expected = 1 / (1 + Math.exp(-1)); // the book's formula (3)
    assertClose(y.value, expected, 1e-15, 'y');
    assertClose(graphInputs(y)[0].grad, expected * (1 - expected), 1e-15, 'dx = y(1 − y)');
    assert.equal(formatNumber(graphInputs(y)[0].grad), '0.1966119332');
    // fig. 5-20: −y² after "/", unchanged by +, times exp(−x), times −1
    assertClose(steps[0].changes[0].delta, -(expected ** 2), 1e-15, '/');
    assertClose(steps[2].changes[0].delta, -(expected ** 2) * Math.exp(-1), 1e-15, 'exp');
  });

  it('backwardSteps with an upstream gradient scales every gradient by it', () => {
    const y = sigmoidGraph(0);
    backwardSteps(y, 2);
    assertClose(graphInputs(y)[0].grad, 2 * 0.25, 1e-15, 'dx = dout · y(1 − y)');
  });

  it('Softmax-with-Loss as appendix A: the loss is the cross entropy of the softmax; ∂L/∂a = y − t, or (y − t)/N with scale 1/N', () => {
    const a = [0.3, 2.9, 4.0], t = [0, 1, 0];
    const e = a.map(Math.exp), s = e.reduce((p, q) => p + q, 0), y = e.map((v) => v / s);
    for (const scale of [undefined, 1 / 4]) {
      const L = softmaxWithLossGraph(a, t, scale);
      backward(L);
      assertClose(L.value, -Math.log(y[1]) * (scale ?? 1), 1e-14, 'L');
      const g = grads(L);
      a.forEach((_, k) => assertClose(g[`a${k + 1}`], (y[k] - t[k]) * (scale ?? 1), 1e-14, `a${k + 1}`));
    }
    assert.throws(() => softmaxWithLossGraph([1, 2], [1]), /as many targets as scores/);
  });
});

describe('backward', () => {
  it('multiply and add nodes run the book\'s MulLayer and AddLayer', () => {
    const mulBackward = mock.method(MulLayer.prototype, 'backward');
    const addBackward = mock.method(AddLayer.prototype, 'backward');
    try {
      backward(appleOrangeGraph());
      assert.equal(mulBackward.mock.callCount(), 3);
      assert.equal(addBackward.mock.callCount(), 1);
      assert.deepEqual(addBackward.mock.calls[0].arguments, [1.1]);
    } finally {
      mulBackward.mock.restore();
      addBackward.mock.restore();
    }
  });

  it('an input used twice gets both contributions: d(x·x)/dx = 2x', () => {
    const x = input('x', 3);
    const y = mul(x, x);
    backward(y);
    assert.equal(y.value, 9);
    assert.equal(x.grad, 6);
    assert.deepEqual(edgeGrads(y), [3, 3]);
    const z = add(mul(x, 2), exp(x)); // used by two different nodes
    backward(z);
    assertClose(x.grad, 2 + Math.exp(3), 1e-12, 'dz/dx');
  });

  it('resets grads, so running backward twice gives the same grads', () => {
    const price = appleGraph();
    backward(price);
    backward(price);
    assert.equal(grads(price).apple, 2.2);
  });

  it('backwardSteps lists each node\'s rule in reverse topological order', () => {
    const price = appleGraph();
    const steps = backwardSteps(price);
    assert.deepEqual(steps.map((s) => s.node.name), ['price', 'apple_price']);
    assert.deepEqual(steps.map((s) => s.dout), [1, 1.1]);
    assert.deepEqual(steps[0].changes.map((c) => [c.node.name, c.delta, c.grad]), [['apple_price', 1.1, 1.1], ['tax', 200, 200]]);
    assert.deepEqual(steps[1].changes.map((c) => [c.node.name, formatNumber(c.grad)]), [['apple', '2.2'], ['apple_num', '110']]);
    const x = input('x', 3);
    const [step] = backwardSteps(mul(x, x));
    assert.deepEqual(step.changes.map((c) => [c.delta, c.grad]), [[3, 3], [3, 6]]);
  });
});

describe('re-evaluation', () => {
  it('setValue + recompute updates every node', () => {
    const price = appleGraph();
    graphInputs(price)[0].setValue(150);
    assertClose(recompute(price), 330, 1e-12, 'price');
    assertClose(price.inputs[0].value, 300, 1e-12, 'apple_price');
  });

  it('evaluate sets inputs by name and matches a freshly built graph', () => {
    const rng = new Lcg(99);
    for (let k = 0; k < 20; k++) {
      const source = randomExpression(rng, 4);
      const root = parseExpression(source, randomValues(rng));
      const values = randomValues(rng);
      const used = Object.fromEntries(graphInputs(root).map((n) => [n.name!, values[n.name!]]));
      const fresh = parseExpression(source, values);
      assert.ok(Object.is(evaluate(root, used), fresh.value) || (Number.isNaN(root.value) && Number.isNaN(fresh.value)), source);
    }
  });

  it('errors name the input and say what to do', () => {
    assert.throws(() => evaluate(appleGraph(), { aple: 1 }), { name: 'GraphError', message: "the graph has no input 'aple'; its inputs are apple, apple_num, tax" });
    assert.throws(() => evaluate(appleGraph(), { apple: NaN }), { message: "input 'apple': value must be a finite number, got NaN" });
    assert.throws(() => input('x', Infinity), GraphError);
    assert.throws(() => appleGraph().setValue(1), /cannot set the value of a '×' node: it is computed; set one of its inputs instead/);
  });

  it('a result that is not a finite number is a GraphError saying why, never a NaN in the graph', () => {
    const cases: [() => unknown, string][] = [
      [() => log(input('x', -1)), 'log(-1) is NaN: log needs an input above 0'],
      [() => log(0), 'log(0) is -Infinity: log needs an input above 0'],
      [() => div(1, input('y', 0)), '1 ÷ 0 is Infinity: division by 0'],
      [() => reciprocal(0), '1/0 is Infinity: division by 0'],
      [() => exp(800), 'exp(800) is Infinity: exp overflows the float64 range for inputs above 709.78'],
      [() => pow(input('x', -8), 0.5), '(-8)^0.5 is NaN: a negative base needs a whole-number exponent'],
      [() => pow(0, input('y', -1)), '0^-1 is Infinity: 0 to a negative power is a division by 0'],
      [() => mul(1e200, 1e200), '1e+200 × 1e+200 is Infinity: the result overflows the float64 range (±1.8e308)'],
      [() => parseExpression('exp(x) / 2', { x: 1000 }), 'exp(1000) is Infinity: exp overflows the float64 range for inputs above 709.78'],
    ];
    for (const [build, message] of cases) assert.throws(build, (e: unknown) => e instanceof GraphError && e.name === 'GraphValueError' && e.message === message);
    // the fields a page words in its own language
    assert.throws(() => log(input('x', -1)), { expression: 'log(-1)', value: NaN, reason: 'log-domain', gradientOf: undefined });
  });

  it('recompute refuses a non-finite value and leaves every computed node as it was', () => {
    const x = input('x', 2);
    const y = log(x), z = mul(y, 3);
    x.setValue(-2);
    assert.throws(() => recompute(z), { message: 'log(-2) is NaN: log needs an input above 0' });
    assert.equal(y.value, Math.log(2));
    assert.equal(z.value, Math.log(2) * 3);
  });

  it('backward refuses a gradient that is not a finite number, naming the node and its input', () => {
    // d(x^0.5)/dx = 0.5·x^−0.5 is Infinity at x = 0
    assert.throws(() => backward(pow(input('x', 0), 0.5)), { name: 'GraphValueError', reason: 'infinite-slope', gradientOf: 'x', value: Infinity, message: 'backward through 0^0.5: the gradient for its input x is Infinity (dout 1): x^c has no finite slope at x = 0 for c < 1' });
    // ∂(x^y)/∂y = x^y·ln x: ln(−2) is NaN
    assert.throws(() => backward(pow(input('x', -2), input('y', 3))), { message: 'backward through (-2)^3: the gradient for its input y is NaN (dout 1): ∂(x^y)/∂y = x^y·ln x needs x above 0' });
    assert.throws(() => backwardSteps(mul(input('a', 1e300), input('b', 2)), 1e10), { message: /^backward through 1e\+300 × 2: the gradient for its input b is Infinity \(dout 10000000000\): the local derivative times dout overflows/ });
  });
});

/** Each operation at a few points, forward against Math and backward against a central difference. */
const OP_CASES: [Op, (x: number, y: number) => number, [number, number][], number?][] = [
  ['add', (x, y) => x + y, [[1, 2], [-3, 0.5]]],
  ['sub', (x, y) => x - y, [[1, 2], [-3, 0.5]]],
  ['mul', (x, y) => x * y, [[1.5, 2], [-3, 0.5]]],
  ['div', (x, y) => x / y, [[1.5, 2], [-3, 0.5]]],
  ['pow', (x, y) => x ** y, [[1.5, 2], [0.7, -1.3]]],
  ['max', (x, y) => Math.max(x, y), [[1.5, 2], [3, 0.5]]],
  ['exp', (x) => Math.exp(x), [[1.5, 0], [-3, 0]]],
  ['log', (x) => Math.log(x), [[1.5, 0], [0.2, 0]]],
  ['powConst', (x) => x ** 3, [[1.5, 0], [-0.7, 0]], 3],
  ['powConst', (x) => x ** 0.5, [[1.5, 0], [0.3, 0]], 0.5],
  ['neg', (x) => -x, [[1.5, 0], [-3, 0]]],
  ['reciprocal', (x) => 1 / x, [[1.5, 0], [-0.4, 0]]],
  ['sigmoid', (x) => 1 / (1 + Math.exp(-x)), [[1.5, 0], [-3, 0]]],
  ['relu', (x) => Math.max(0, x), [[1.5, 0], [-3, 0]]],
];

describe('every operation', () => {
  for (const [op, f, points, param] of OP_CASES) {
    it(`${op}${param === undefined ? '' : ` (c = ${param})`}: forward and a central-difference gradient`, () => {
      for (const [a, b] of points) {
        const arity = OPS[op].backward(1, [a, b], f(a, b), param).length;
        const leaves = [input('x', a), input('y', b)].slice(0, arity);
        const root = apply(op, leaves, param);
        assert.equal(root.value, f(a, b));
        backward(root);
        const numeric = numericalGrads(root);
        for (const leaf of leaves) assertClose(leaf.grad, numeric.get(leaf.name!)!, 1e-6, `${op} at (${a}, ${b}): d/d${leaf.name}`);
      }
    });
  }

  it('the builders make the operations they are named for', () => {
    const x = input('x', 2), y = input('y', 3);
    const built = [add(x, y), sub(x, y), mul(x, y), div(x, y), pow(x, y), pow(x, 2), max(x, y), exp(x), log(x), neg(x),
      reciprocal(x), sigmoid(x), relu(x)];
    assert.deepEqual(built.map((n) => n.op),
      ['add', 'sub', 'mul', 'div', 'pow', 'powConst', 'max', 'exp', 'log', 'neg', 'reciprocal', 'sigmoid', 'relu']);
    assert.deepEqual(built.map((n) => n.label), ['+', '−', '×', '÷', '^', '^2', 'max', 'exp', 'log', 'neg', '1/x', 'σ', 'ReLU']);
    assert.equal(mul(x, 4).inputs[1].op, 'const');
    assert.equal(constant(-2).label, '-2');
  });

  it('gradient conventions at the edges: max ties go to the first input, relu(0) passes nothing, 0^y has dy = 0', () => {
    const a = input('a', 2), b = input('b', 2);
    backward(max(a, b));
    assert.deepEqual([a.grad, b.grad], [1, 0]);
    const z = input('z', 0);
    backward(relu(z));
    assert.equal(z.grad, 0);
    const base = input('base', 0), e = input('e', 2);
    backward(pow(base, e));
    assert.deepEqual([base.grad, e.grad], [0, 0]);
  });
});

describe('random expressions against numerical differentiation', () => {
  it('200 seeded expressions: every input gradient within 1e-6 (relative) of the central difference', () => {
    const rng = new Lcg(20240501);
    let checked = 0, tries = 0;
    while (checked < 200) {
      assert.ok(++tries < 2000, 'too many ill-conditioned samples');
      const source = randomExpression(rng, 5);
      const root = parseExpression(source, randomValues(rng));
      if (!wellConditioned(root)) continue;
      backward(root);
      const numeric = numericalGrads(root);
      for (const n of graphInputs(root)) assertClose(n.grad, numeric.get(n.name!)!, 1e-6, `${source}: d/d${n.name}`);
      checked++;
    }
  });
});
