// Type-checked under module node16 and nodenext: 'backprop-ts' resolves to the Node entry's types.
import { Tensor, TwoLayerNet, getBackend, loadBundledDigits, saveModel, useBackend, type Backend } from 'backprop-ts';
import { parseSafetensors, serializeModel } from 'backprop-ts/core';
import { readIdxFile } from 'backprop-ts/node';

const backend: Backend = getBackend();
const name: string = backend.name;
const net = new TwoLayerNet(784, 50, 10);
const x: Tensor = Tensor.zeros([2, 784]);
const digits = loadBundledDigits();
const count: number = digits.train.count;
const choose: Promise<Backend> = useBackend('js');
const toBytes: (record: Parameters<typeof serializeModel>[0]) => Uint8Array = serializeModel;
export { name, net, x, count, choose, toBytes, parseSafetensors, saveModel, readIdxFile };
