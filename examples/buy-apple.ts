// Section 5.4.1: buying two apples, with tax, as a chain of multiply layers (buy_apple.py).
import { MulLayer } from '../src/node.js';

const apple = 100;
const appleNum = 2;
const tax = 1.1;

// layers
const mulAppleLayer = new MulLayer();
const mulTaxLayer = new MulLayer();

// forward
const applePrice = mulAppleLayer.forward(apple, appleNum);
const price = mulTaxLayer.forward(applePrice, tax);

// backward
const dprice = 1;
const [dApplePrice, dTax] = mulTaxLayer.backward(dprice);
const [dApple, dAppleNum] = mulAppleLayer.backward(dApplePrice);

// Printed as the book prints: price as int(price), gradients as Python prints floats
// (220.00000000000003 → 220, 110.00000000000001 → 110 through int()).
console.log(`price: ${Math.trunc(price)}`);
console.log(`dApple: ${dApple}`);
console.log(`dApple_num: ${Math.trunc(dAppleNum)}`);
console.log(`dTax: ${dTax}`);
