// Section 5.4.2: apples and oranges, with tax (buy_apple_orange.py), with the orange layer
// the study notes forgot to create.
import { AddLayer, MulLayer } from '../src/node.js';

const apple = 100;
const appleNum = 2;
const orange = 150;
const orangeNum = 3;
const tax = 1.1;

// layers
const mulAppleLayer = new MulLayer();
const mulOrangeLayer = new MulLayer();
const addAppleOrangeLayer = new AddLayer();
const mulTaxLayer = new MulLayer();

// forward
const applePrice = mulAppleLayer.forward(apple, appleNum); // (1)
const orangePrice = mulOrangeLayer.forward(orange, orangeNum); // (2)
const allPrice = addAppleOrangeLayer.forward(applePrice, orangePrice); // (3)
const price = mulTaxLayer.forward(allPrice, tax); // (4)

// backward, in reverse order; each gradient gets its own name (nothing overwrites dout)
const dprice = 1;
const [dAllPrice, dTax] = mulTaxLayer.backward(dprice); // (4)
const [dApplePrice, dOrangePrice] = addAppleOrangeLayer.backward(dAllPrice); // (3)
const [dOrange, dOrangeNum] = mulOrangeLayer.backward(dOrangePrice); // (2)
const [dApple, dAppleNum] = mulAppleLayer.backward(dApplePrice); // (1)

// As the book prints them: int(price); the floats rounded as the book's text shows them.
const show = (v: number): number => Number(v.toPrecision(12));
console.log(`price: ${Math.trunc(price)}`);
console.log(`dApple: ${show(dApple)}`);
console.log(`dApple_num: ${Math.trunc(dAppleNum)}`);
console.log(`dOrange: ${show(dOrange)}`);
console.log(`dOrange_num: ${Math.trunc(dOrangeNum)}`);
console.log(`dTax: ${dTax}`);
