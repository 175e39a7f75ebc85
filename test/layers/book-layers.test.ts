import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AddLayer } from '../../src/layers/AddLayer.js';
import { MulLayer } from '../../src/layers/MulLayer.js';

describe('MulLayer and AddLayer: the book\'s shopping examples', () => {
  it('buy_apple: price 220; dApple 2.2, dApple_num 110, dTax 200', () => {
    const mulApple = new MulLayer();
    const mulTax = new MulLayer();
    const price = mulTax.forward(mulApple.forward(100, 2), 1.1);
    const [dApplePrice, dTax] = mulTax.backward(1);
    const [dApple, dAppleNum] = mulApple.backward(dApplePrice);
    assert.equal(Math.trunc(price), 220);
    assert.ok(Math.abs(price - 220) < 1e-12);
    assert.equal(dApple, 2.2);
    assert.ok(Math.abs(dAppleNum - 110) < 1e-12);
    assert.equal(dTax, 200);
  });

  it('buy_apple_orange: price 715; 2.2, 110, 3.3, 165, 650; intermediate gradients 1.1', () => {
    const mulApple = new MulLayer();
    const mulOrange = new MulLayer();
    const add = new AddLayer();
    const mulTax = new MulLayer();
    const allPrice = add.forward(mulApple.forward(100, 2), mulOrange.forward(150, 3));
    const price = mulTax.forward(allPrice, 1.1);
    const [dAllPrice, dTax] = mulTax.backward(1);
    const [dApplePrice, dOrangePrice] = add.backward(dAllPrice);
    const [dOrange, dOrangeNum] = mulOrange.backward(dOrangePrice);
    const [dApple, dAppleNum] = mulApple.backward(dApplePrice);
    assert.ok(Math.abs(price - 715) < 1e-9);
    assert.equal(dAllPrice, 1.1);
    assert.equal(dApplePrice, 1.1);
    assert.equal(dOrangePrice, 1.1);
    assert.equal(dApple, 2.2);
    assert.ok(Math.abs(dAppleNum - 110) < 1e-12);
    assert.ok(Math.abs(dOrange - 3.3) < 1e-12);
    assert.ok(Math.abs(dOrangeNum - 165) < 1e-12);
    assert.equal(dTax, 650);
  });

  it('a multiply node passes dout times the other input; an add node passes dout unchanged', () => {
    const mul = new MulLayer();
    assert.equal(mul.forward(3, -4), -12);
    assert.deepEqual(mul.backward(0.5), [-2, 1.5]);
    assert.deepEqual(new AddLayer().backward(0.5), [0.5, 0.5]);
  });

  it('MulLayer.backward before forward is a clear error', () => {
    assert.throws(() => new MulLayer().backward(1), /MulLayer: backward called before forward/);
  });
});
