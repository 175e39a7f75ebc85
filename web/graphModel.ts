/**
 * The graph explorer's model, without the DOM: which graph to build, its input values, and
 * the state of the graph after the first k steps of backward. Tested in Node.
 */
import {
  type BackwardStep, GraphSyntaxError, type Node, add, appleGraph, appleOrangeGraph, evaluate, graphInputs, input, mul, parseExpression, pow,
  sigmoidGraph, topoSort,
} from '../src/graph/index.js';
import type { TextKey } from './i18n/index.js';

/** The book's graphs the page offers, by the CLI's names where the CLI has them; `title` is a message key. */
export const PRESETS = {
  apple: { title: 'presetApple', build: appleGraph },
  'apple-orange': { title: 'presetAppleOrange', build: appleOrangeGraph },
  // fig. 5-7: z = t², t = x + y, the composed function of the chain rule
  chain: { title: 'presetChain', build: () => pow(add(input('x', 1), input('y', 2)).named('t'), 2).named('z') },
  // fig. 5-9 and 5-12: one add node, one multiply node
  add: { title: 'presetAdd', build: () => add(input('x', 2), input('y', 3)).named('z') },
  mul: { title: 'presetMul', build: () => mul(input('x', 2), input('y', 3)).named('z') },
  sigmoid: { title: 'presetSigmoid', build: () => sigmoidGraph(1) },
} as const satisfies Record<string, { title: TextKey; build: () => Node }>;
export type PresetName = keyof typeof PRESETS;

/** The value a variable gets when it first appears in a typed expression. */
export const NEW_VARIABLE_VALUE = 1;

/** Which graph to build: one of the book's, or an expression. */
export type GraphSource = { preset: PresetName } | { expression: string };

/**
 * Builds the graph and sets its inputs from `values`; a variable of an expression that has
 * no value yet gets NEW_VARIABLE_VALUE. Returns the root and the value of every input.
 *
 * @throws GraphSyntaxError (with the column) for an expression that does not parse.
 * @example
 * buildGraph({ expression: 'x * y' }, { x: 3 }).values; // { x: 3, y: 1 }
 */
export function buildGraph(source: GraphSource, values: Readonly<Record<string, number>>): { root: Node; values: Record<string, number> } {
  let root: Node;
  if ('preset' in source) {
    root = PRESETS[source.preset].build();
    const names = new Set(graphInputs(root).map((n) => n.name));
    evaluate(root, Object.fromEntries(Object.entries(values).filter(([name]) => names.has(name))));
  } else {
    root = parseWithDefaults(source.expression, values);
  }
  return { root, values: Object.fromEntries(graphInputs(root).map((n) => [n.name!, n.value])) };
}

/** parseExpression, giving each unknown variable NEW_VARIABLE_VALUE instead of failing. */
function parseWithDefaults(expression: string, values: Readonly<Record<string, number>>): Node {
  const known: Record<string, number> = { ...values };
  for (;;) {
    try {
      return parseExpression(expression, known);
    } catch (e) {
      // the parser stops at the first variable it has no value for: give it one and go again
      const name = e instanceof GraphSyntaxError ? /^unknown variable '(\w+)'$/.exec(e.reason)?.[1] : undefined;
      if (!name || Object.hasOwn(known, name)) throw e;
      known[name] = NEW_VARIABLE_VALUE;
    }
  }
}

/**
 * Reads a value typed by the user: a finite number, or a message saying what is wrong.
 *
 * @example
 * parseValue(' 1.5e2 '); // 150
 * parseValue('abc');     // "'abc' is not a number"
 */
export function parseValue(text: string): number | string {
  const t = text.trim();
  if (t === '') return 'enter a number';
  const v = Number(t.replace(/^−/, '-')); // the book's minus sign too
  if (Number.isNaN(v)) return `'${t}' is not a number`;
  if (!Number.isFinite(v)) return `${t} is not a finite number`;
  return v;
}

/**
 * Puts the gradients the graph had after the first `k` steps of backward (from
 * `backwardSteps(root, seed)`): the root's seed (1 unless given), and each input's grad as that step left it.
 * Returns the nodes whose local rule has run, in order.
 */
export function rewindTo(root: Node, steps: readonly BackwardStep[], k: number, seed = 1): Node[] {
  for (const n of topoSort(root)) n.grad = 0;
  root.grad = seed;
  const ran: Node[] = [];
  for (const step of steps.slice(0, k)) {
    for (const change of step.changes) change.node.grad = change.grad;
    ran.push(step.node);
  }
  return ran;
}

/**
 * Whether an input has all its gradient after `ran`: every node that uses it has run. An
 * input of the root alone is complete after the first step.
 */
export function isComplete(root: Node, input: Node, ran: readonly Node[]): boolean {
  const done = new Set(ran);
  return topoSort(root).every((n) => !n.inputs.includes(input) || done.has(n));
}
