/**
 * backprop-ts: neural networks trained by error backpropagation, after chapter 5 of
 * Deep Learning from Scratch, in TypeScript.
 *
 * This is the package's browser-safe core (the `browser` and `default` conditions of its
 * exports map): nothing here, nor in anything it imports, imports `node:`. Node resolves
 * `backprop-ts` to src/node.ts instead: all of this plus files, atomic saves, the bundled
 * digits and WebAssembly kernels by default. New exports go here if they run in a browser,
 * in src/node.ts if they need Node.
 */
export type { Backend, BatchStrides, ConvGeometry, DType, FloatArray, FusedOutput, Storage } from './kernels/Backend.js';
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
export { DATASETS, DATASET_NAMES, isDatasetName, type DatasetName, type DatasetSpec, type DatasetFile } from './data/datasets.js';
export { splitImageSet, subset } from './data/split.js';
export { toLabeledData, oneHot, type LabeledData } from './data/dataset.js';

export { train, BOOK_DEFAULTS, type Trainable, type TrainConfig, type TrainResult, type EpochRecord, type TrainCallbacks } from './train/train.js';
export { TrainingError, type DivergenceDetails } from './train/TrainingError.js';
export { DIVERGENCE_FACTOR, divergenceThreshold } from './train/divergence.js';
export { UsageError } from './UsageError.js';

/** Scalar computational graphs: build, parse, backward, draw (text, DOT, SVG). */
export * as graph from './graph/index.js';

export { ModelFileError } from './io/ModelFileError.js';
export {
  serializeSafetensors, parseSafetensors, expectTensors,
  type SafetensorsDType, type SafetensorsArray, type TensorLike, type SafetensorsTensor,
  type SafetensorsFile, type ExpectedTensors,
} from './io/safetensors.js';

export * as elementwise from './tensor/elementwise.js';

export { Tanh } from './layers/Tanh.js';
export { Dropout } from './layers/Dropout.js';
export { BatchNormalization } from './layers/BatchNormalization.js';
export { weightStd, initWeight, fanIn, type WeightInit } from './layers/init.js';

export { MultiLayerNet, type MultiLayerNetOptions, type Activation } from './nets/MultiLayerNet.js';
export { Sequential, restoreTensors, type SequentialLayer, type SequentialOptions, type LossLayer, type NetworkState, type ParamNaming } from './nets/Sequential.js';

export { OptimizerBase, OPTIMIZER_EPS, type Optimizer, type OptimizerName, type OptimizerState, type NamedTensors, type HyperparameterSpec } from './optimizers/Optimizer.js';
export { SGD, type SGDOptions } from './optimizers/SGD.js';
export { Momentum, type MomentumOptions } from './optimizers/Momentum.js';
export { Nesterov, type NesterovOptions } from './optimizers/Nesterov.js';
export { AdaGrad, type AdaGradOptions } from './optimizers/AdaGrad.js';
export { RMSprop, type RMSpropOptions } from './optimizers/RMSprop.js';
export { Adam, type AdamOptions } from './optimizers/Adam.js';
export { createOptimizer, optimizerFromState, OPTIMIZER_NAMES } from './optimizers/createOptimizer.js';

export { Trainer, type TrainerNetwork, type TrainerOptions, type TrainerResult, type TrainerState, type Sampling } from './train/Trainer.js';

export { im2col, im2colT, col2im, convOutputSize, convGeometry, maxPool, maxPoolBackward, transposeBatch, type MaxPoolResult } from './tensor/conv.js';
export { Convolution } from './layers/Convolution.js';
export { Pooling } from './layers/Pooling.js';
export { Flatten } from './layers/Flatten.js';
export { SimpleConvNet, CONV_PARAM_DEFAULTS, type ConvParam, type SimpleConvParams, type SimpleConvNetOptions } from './nets/SimpleConvNet.js';

export { useBackend, type BackendChoice, type UseBackendOptions } from './kernels/useBackend.js';

export { renderTrainingChart, type TrainingCurves } from './plot/trainingChart.js';
export { renderLineChart, smoothCurve, SERIES_COLORS, type LineSeries, type ChartPanel, type LineChartOptions, type Marker } from './plot/lineChart.js';

export { serializeModel, parseModel, MODEL_FORMAT, type ModelRecord, type LoadedModel, type DataInfo } from './io/modelFile.js';
export { buildNetwork, MODEL_KINDS, type ModelSpec, type ModelKind, type Network } from './nets/buildNetwork.js';
export { decodeDigitPng } from './data/digitPng.js';
export { decodeDigits, encodeDigits } from './data/digitsFile.js';
export { toMnist, centreOfMass } from './data/preprocess.js';
export { ChunkedAccuracy } from './nets/ChunkedAccuracy.js';

/** Export to other runtimes (ONNX, TF.js), browser-safe. */
export { exportOnnx, onnxModel, ONNX_OPSET, ONNX_IR_VERSION, ONNX_NAMES, type ExportOnnxOptions } from './io/exportOnnx.js';
export { exportTfjs, TFJS_WEIGHTS_FILE, type TfjsModelJson, type KerasLayer, type ExportTfjsOptions } from './io/exportTfjs.js';
export { lowerNetwork, shapesOf, ExportError, INFERENCE_OPS, type InferenceGraph, type InferenceOp, type NamedWeight, type Exportable } from './io/inferenceGraph.js';
export { modelMetadata, type TrainingRecord } from './io/exportMetadata.js';
export type { ModelProto, GraphProto, NodeProto, TensorProto, AttributeProto, ValueInfoProto, DimensionProto } from './io/onnx/onnxTypes.js';
export { VERSION } from './version.js';

/**
 * Autograd on tensors (browser-safe): Variables, the operations F, Models, and the two-layer net
 * written with them. DeZero's Function is exported as AutogradFunction (not to shadow the global).
 */
export {
  Variable, Parameter, asVariable, Function as AutogradFunction, AutogradError, noGrad, isRecording, F, Model, Linear, Conv2d,
  type VariableLike, type VariableOptions, type BackwardOptions, type ParamOptions,
} from './autograd/index.js';
export { AutogradTwoLayerNet, type AutogradTwoLayerNetOptions } from './nets/AutogradTwoLayerNet.js';
