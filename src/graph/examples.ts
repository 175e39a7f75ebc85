import { GraphError } from './errors.js';
import { type Node, add, constant, exp, input, log, mul, reciprocal } from './node.js';

/**
 * The book's first graph (fig. 5-3, buy_apple.py): 2 apples at 100 each, 10% tax.
 * Forward gives 220; backward gives ∂price/∂apple = 2.2, ∂price/∂apple_num = 110,
 * ∂price/∂tax = 200. Returns the root, `price`.
 *
 * @example
 * const price = appleGraph();
 * backward(price);
 * formatNumber(price.value); // '220'
 */
export function appleGraph(): Node {
  const apple = input('apple', 100), appleNum = input('apple_num', 2), tax = input('tax', 1.1);
  const applePrice = mul(apple, appleNum).named('apple_price');
  return mul(applePrice, tax).named('price');
}

/**
 * The book's second graph (fig. 5-17, buy_apple_orange.py): 2 apples at 100 and 3 oranges at
 * 150, 10% tax. Forward gives 715; backward gives apple 2.2, apple_num 110, orange 3.3,
 * orange_num 165, tax 650. Returns the root, `price`.
 *
 * @example
 * const price = appleOrangeGraph();
 * backward(price);
 * graphInputs(price).map((n) => formatNumber(n.grad)); // ['2.2', '110', '3.3', '165', '650']
 */
export function appleOrangeGraph(): Node {
  const apple = input('apple', 100), appleNum = input('apple_num', 2);
  const orange = input('orange', 150), orangeNum = input('orange_num', 3), tax = input('tax', 1.1);
  const applePrice = mul(apple, appleNum).named('apple_price');
  const orangePrice = mul(orange, orangeNum).named('orange_price');
  const allPrice = add(applePrice, orangePrice).named('all_price');
  return mul(allPrice, tax).named('price');
}

/**
 * The Sigmoid layer's graph (fig. 5-19/5-20): y = 1 / (1 + exp(−x)) as the book draws it, with
 * a ×(−1) node, an exp node, a +1 node and a "/" node (1/x). Backward through the four nodes
 * gives dout·y²·exp(−x), which simplifies to dout·y(1 − y). Returns the root, `y`.
 *
 * @example
 * const y = sigmoidGraph(1);
 * backward(y);
 * graphInputs(y)[0].grad; // 0.19661193324148185 = y(1 − y)
 */
export function sigmoidGraph(x = 0): Node {
  const xIn = input('x', x);
  const negX = mul(xIn, constant(-1)).named('-x');
  const expNegX = exp(negX).named('exp(-x)');
  const onePlus = add(expNegX, constant(1)).named('1+exp(-x)');
  return reciprocal(onePlus).named('y');
}

/**
 * Softmax-with-Loss for one sample as appendix A draws it (fig. A-1): scores a1..an through
 * exp, their sum S, 1/S, yk = exp(ak)·(1/S), then cross-entropy L = −Σ tk·log yk. Backward
 * gives ∂L/∂ak = yk − tk when the targets sum to 1. With `scale` (1/N for a batch of N), the
 * loss gets a last × node, and every gradient is multiplied by it. Returns the root, `L`.
 *
 * @example
 * const L = softmaxWithLossGraph([0.3, 2.9, 4.0], [0, 0, 1]);
 * backward(L);
 * graphInputs(L).filter((n) => n.name!.startsWith('a')).map((n) => n.grad); // y − t
 */
export function softmaxWithLossGraph(a: readonly number[], t: readonly number[], scale?: number): Node {
  if (a.length !== t.length || a.length < 1) {
    throw new GraphError(`softmaxWithLossGraph: needs as many targets as scores, got ${a.length} scores and ${t.length} targets`);
  }
  const k = a.map((_, i) => i + 1);
  const exps = a.map((v, i) => exp(input(`a${k[i]}`, v)).named(`exp(a${k[i]})`));
  // partial sums get names of their own, so none clashes with an input's (t1, t2, …)
  const S = exps.slice(1).reduce<Node>((s, e, i) => add(s, e).named(`S_${i + 2}`), exps[0]).named('S');
  const invS = reciprocal(S).named('1/S');
  const ys = exps.map((e, i) => mul(e, invS).named(`y${k[i]}`));
  const terms = ys.map((y, i) => mul(log(y).named(`log y${k[i]}`), input(`t${k[i]}`, t[i])).named(`t${k[i]}·log y${k[i]}`));
  const sum = terms.slice(1).reduce<Node>((s, e, i) => add(s, e).named(`sum_${i + 2}`), terms[0]);
  const L = mul(sum, constant(-1)).named(scale === undefined ? 'L' : 'Lk');
  return scale === undefined ? L : mul(L, constant(scale)).named('L');
}
