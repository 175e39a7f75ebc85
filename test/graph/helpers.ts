/** Shared test helpers for the graph tests: a seeded LCG, random expressions, numerical gradients, an XML checker. */
import assert from 'node:assert/strict';
import { type Node, evaluate, graphInputs, topoSort } from '../../src/graph/index.js';

/** A tiny linear congruential generator (Numerical Recipes constants), so every run draws the same numbers. */
export class Lcg {
  constructor(private state: number) {}
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (Math.imul(this.state, 1664525) + 1013904223) >>> 0;
    return this.state / 2 ** 32;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
}

/** Variables of random expressions: p, q are positive, x, y may be negative. */
export function randomValues(rng: Lcg): Record<string, number> {
  const signed = (): number => rng.pick([-1, 1]) * rng.uniform(0.3, 2);
  return { p: rng.uniform(0.5, 2), q: rng.uniform(0.5, 2), x: signed(), y: signed() };
}

/**
 * A random expression over p, q, x, y using every operation. `positive` asks for one whose
 * value is sure to be positive, for log, division and a general power's base.
 */
export function randomExpression(rng: Lcg, depth: number, positive = false): string {
  const e = (d = depth - 1): string => randomExpression(rng, d);
  const pos = (d = depth - 1): string => randomExpression(rng, d, true);
  if (depth <= 0 || rng.next() < 0.2) {
    return positive ? rng.pick(['p', 'q', '1.5', '0.75']) : rng.pick(['p', 'q', 'x', 'y', '2', '-0.5']);
  }
  const forms: (() => string)[] = positive
    ? [() => `exp(${e()})`, () => `sigmoid(${e()})`, () => `${pos()} + ${pos()}`, () => `(${pos()}) * (${pos()})`,
       () => `(${pos()}) / (${pos()})`, () => `(${pos()}) ^ (${e()})`, () => `reciprocal(${pos()})`, () => `max(${pos()}, ${e()})`,
       () => `(${e()})^2 + 0.5`]
    : [() => `${e()} + ${e()}`, () => `${e()} - (${e()})`, () => `(${e()}) * (${e()})`, () => `(${e()}) / (${pos()})`,
       () => `-(${e()})`, () => `neg(${e()})`, () => `log(${pos()})`, () => `relu(${e()})`, () => `max(${e()}, ${e()})`,
       () => `(${e()})^3`, () => `(${pos()})^0.5`, () => `pow(${pos()}, ${e()})`, () => `exp(${e()})`, () => `sigmoid(${e()})`,
       () => `reciprocal(${pos()})`, () => `(${pos()}) ^ -1`];
  return rng.pick(forms)();
}

/**
 * Whether a graph is fit for a numerical check: finite, moderate values, and no ReLU or max
 * within 1e-3 of its kink (where the central difference straddles two slopes).
 */
export function wellConditioned(root: Node): boolean {
  return topoSort(root).every((n) => {
    if (!Number.isFinite(n.value) || Math.abs(n.value) > 1e3) return false;
    if (n.op === 'relu') return Math.abs(n.inputs[0].value) > 1e-3;
    if (n.op === 'max') return Math.abs(n.inputs[0].value - n.inputs[1].value) > 1e-3;
    if (n.op === 'div' || n.op === 'reciprocal' || n.op === 'log') return Math.abs(n.inputs.at(-1)!.value) > 1e-2;
    return true;
  });
}

/** ∂root/∂input for every input by central difference, h = 1e-4, leaving the graph as it was. */
export function numericalGrads(root: Node, h = 1e-4): Map<string, number> {
  const grads = new Map<string, number>();
  for (const n of graphInputs(root)) {
    const name = n.name!, x = n.value;
    const plus = evaluate(root, { [name]: x + h });
    const minus = evaluate(root, { [name]: x - h });
    evaluate(root, { [name]: x });
    grads.set(name, (plus - minus) / (2 * h));
  }
  return grads;
}

/** assert that |actual − expected| ≤ tol · max(1, |expected|). */
export function assertClose(actual: number, expected: number, tol: number, what: string): void {
  if (!(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)))) {
    assert.fail(`${what}: got ${actual}, expected ${expected} (tolerance ${tol})`);
  }
}

const NAME = '[A-Za-z_][\\w.:-]*';
const ATTR_VALUE = '"(?:[^"<&]|&(?:amp|lt|gt|quot|apos|#\\d+);)*"';
const TAG = new RegExp(`^<(/?)(${NAME})((?:\\s+${NAME}=${ATTR_VALUE})*)\\s*(/?)>$`);

/**
 * A minimal well-formedness check: every tag is `<name attr="…">`, `</name>` or `<name …/>`
 * with quoted attributes, tags nest and balance, one root element, and `&` appears only in
 * entities. Returns the element names in document order.
 */
export function checkXml(xml: string): string[] {
  const stack: string[] = [];
  const names: string[] = [];
  let roots = 0;
  for (const [token] of xml.matchAll(/<[^>]*>|[^<]+/g)) {
    if (!token.startsWith('<')) {
      assert.ok(/^(?:[^&>]|&(?:amp|lt|gt|quot|apos|#\d+);)*$/.test(token), `bad text: ${JSON.stringify(token)}`);
      assert.ok(stack.length || !token.trim(), `text outside the root element: ${JSON.stringify(token)}`);
      continue;
    }
    const m = TAG.exec(token);
    assert.ok(m, `malformed tag: ${token}`);
    const [, close, name, , selfClose] = m;
    assert.ok(!(close && selfClose), `malformed tag: ${token}`);
    if (close) {
      assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
      continue;
    }
    if (!stack.length) roots++;
    names.push(name);
    if (!selfClose) stack.push(name);
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(roots, 1, 'exactly one root element');
  return names;
}

/** What `backprop graph apple` prints: the book's numbers, 220 and 2.2, 110, 200. */
export const APPLE_TEXT: readonly string[] = [
  'price = apple × apple_num × tax',
  '',
  'node         op     inputs            value  grad',
  'apple        input                      100   2.2',
  'apple_num    input                        2   110',
  'apple_price  ×      apple, apple_num    200   1.1',
  'tax          input                      1.1   200',
  'price        ×      apple_price, tax    220     1',
  '',
  'price = 220',
  '∂price/∂apple     = 2.2',
  '∂price/∂apple_num = 110',
  '∂price/∂tax       = 200',
];
