/**
 * backprop: neural networks trained by error backpropagation, after chapter 5 of
 * Deep Learning from Scratch, in TypeScript.
 */
export type { Backend, DType, FloatArray, Storage } from './kernels/Backend.js';
export { JsBackend } from './kernels/reference/JsBackend.js';
export { getBackend, setBackend, registerBackend, listBackends } from './kernels/registry.js';

export { Tensor, shapeSize, type TensorOptions, type NestedArray } from './tensor/Tensor.js';
export { ShapeError } from './tensor/ShapeError.js';
export * as ops from './tensor/ops.js';

export { MulLayer } from './layers/MulLayer.js';
export { AddLayer } from './layers/AddLayer.js';
export type { Layer } from './layers/Layer.js';
export { Relu } from './layers/Relu.js';
export { Sigmoid } from './layers/Sigmoid.js';
export { Affine } from './layers/Affine.js';
export { SoftmaxWithLoss } from './layers/SoftmaxWithLoss.js';

export { softmax } from './functions/softmax.js';
export { crossEntropyError } from './functions/crossEntropyError.js';
export { numericalGradient } from './functions/numericalGradient.js';
export { toLabels, type Targets } from './functions/targets.js';

export { TwoLayerNet, type TwoLayerParams, type TwoLayerNetOptions } from './nets/TwoLayerNet.js';
export { gradientCheck } from './nets/gradientCheck.js';

export { Random, type RandomState } from './random.js';

export { DataError } from './data/DataError.js';
export { parseIdx, imageSetFromIdx, type IdxArray, type ImageSet } from './data/idx.js';
export { readIdxFile, findIdxFile, loadIdxDataset, type IdxDataset } from './data/idxFiles.js';
export { readBundledDigits, loadBundledDigits, type BundledDigits } from './data/bundledDigits.js';
export { splitImageSet, subset } from './data/split.js';
export { toLabeledData, oneHot, type LabeledData } from './data/dataset.js';

export { train, BOOK_DEFAULTS, type Trainable, type TrainConfig, type TrainResult, type EpochRecord, type TrainCallbacks } from './train/train.js';
export { TrainingError } from './train/TrainingError.js';
export { writeFileAtomic } from './io/atomicWrite.js';

/** Scalar computational graphs: build, parse, backward, draw (text, DOT, SVG). */
export * as graph from './graph/index.js';

export { ModelFileError } from './io/ModelFileError.js';
export {
  serializeSafetensors, parseSafetensors, saveSafetensors, loadSafetensors, expectTensors,
  type SafetensorsDType, type SafetensorsArray, type TensorLike, type SafetensorsTensor,
  type SafetensorsFile, type ExpectedTensors,
} from './io/safetensors.js';
