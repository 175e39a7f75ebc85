import { type Node, topoSort } from './node.js';
import { checkedGradients } from './finite.js';

/** One input's share of a backward step: what was added to its grad, and the grad after. */
export interface GradChange {
  /** The input that received gradient. */
  node: Node;
  /** What this step added to its grad. */
  delta: number;
  /** Its grad after the step. */
  grad: number;
}

/** One node's local rule run during backward: the upstream `dout` it got and what it passed on. */
export interface BackwardStep {
  /** The node whose local rule ran. */
  node: Node;
  /** The upstream gradient it received (its grad). */
  dout: number;
  /** What it passed on to each input. */
  changes: GradChange[];
}

/**
 * Backpropagation one node at a time, for a "step through backward" view: resets every grad,
 * seeds `root.grad = seed` (1, dL/dL, unless an upstream gradient is given), then runs each computed node's local rule in reverse
 * topological order, adding (`+=`) its results into the inputs' grads. Returns the steps in
 * the order they ran; the grads left on the nodes are the final ones. A gradient that is not a
 * finite number (x^0.5 at x = 0) is a GraphError naming the node and its input.
 *
 * @example
 * const steps = backwardSteps(appleGraph());
 * steps[0].node.name;                       // 'price'
 * steps[0].changes.map((c) => c.delta);     // [1.1, 200]
 */
export function backwardSteps(root: Node, seed = 1): BackwardStep[] {
  const order = topoSort(root);
  for (const n of order) n.grad = 0;
  root.grad = seed;
  const steps: BackwardStep[] = [];
  for (const n of order.reverse()) {
    if (!n.inputs.length) continue;
    const deltas = edgeGrads(n);
    const changes = n.inputs.map((input, k) => {
      input.grad += deltas[k]; // accumulate: an input used twice gets both contributions
      return { node: input, delta: deltas[k], grad: input.grad };
    });
    steps.push({ node: n, dout: n.grad, changes });
  }
  return steps;
}

/**
 * Backpropagation: fills `grad` on every node with ∂root/∂node (see `backwardSteps`).
 *
 * @example
 * const x = input('x', 3);
 * backward(mul(x, x));
 * x.grad; // 6
 */
export function backward(root: Node): void {
  backwardSteps(root);
}

/**
 * The gradient each input received from this node in the last backward pass (its local rule
 * applied to its `grad`): what a picture writes under each incoming edge. For an input used
 * by several nodes these are the parts that add up to its `grad`.
 *
 * @example
 * const x = input('x', 3), y = mul(x, x);
 * backward(y);
 * edgeGrads(y); // [3, 3]; x.grad === 6
 */
export function edgeGrads(n: Node): number[] {
  return n.inputs.length ? checkedGradients(n.op, n.inputs.map((i) => i.value), n.grad, n.value, n.param, n.inputs.map((i) => i.name ?? i.label)) : [];
}
