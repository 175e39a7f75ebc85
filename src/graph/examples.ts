import { type Node, add, input, mul } from './node.js';

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
