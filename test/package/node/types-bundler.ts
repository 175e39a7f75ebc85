// Type-checked under moduleResolution bundler: 'backprop-ts' is the browser-safe core; Node's
// parts are behind 'backprop-ts/node'.
import { Tensor, Trainer, TwoLayerNet, decodeDigits, getBackend, parseModel, useBackend, type Backend } from 'backprop-ts';
import { loadBundledDigits } from 'backprop-ts/node';

const choose: Promise<Backend> = useBackend('auto');
const name: string = getBackend().name;
const net = new TwoLayerNet(784, 50, 10);
const x: Tensor = Tensor.zeros([2, 784]);
export { choose, name, net, x, Trainer, decodeDigits, parseModel, loadBundledDigits };
