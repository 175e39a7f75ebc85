/**
 * TF.js export: a network as the two files of the TF.js layers format, model.json (a
 * Keras-style Sequential topology and a weightsManifest) and weights.bin (the float32 weights,
 * little-endian, in manifest order), as `tf.loadLayersModel` and tensorflowjs_converter read
 * them. Pure: no files, no `node:` imports, so it runs in a browser too.
 *
 * Layers: Affine → Dense (kernel = W, same (in, out) layout), Relu/Sigmoid/Tanh → Activation,
 * BatchNormalization → BatchNormalization (the running mean and variance, the book's ε),
 * Dropout → Rescaling by (1 − ratio): the book's inference rule, where Keras's own Dropout
 * would pass values unchanged. The CNN's Conv and MaxPool become Conv2D and MaxPooling2D with
 * data_format channels_first, so the input is (N, 1, 28, 28) as in ONNX, and the filters are
 * transposed to Keras's (FH, FW, C, FN); a Flatten in C order follows, as the book's Affine
 * flattens. The model outputs the logits; the probabilities are tf.softmax of them.
 */
import { PACKAGE_NAME, VERSION } from '../version.js';
import { lowerNetwork, shapesOf, type Exportable, type NamedWeight } from './inferenceGraph.js';

/** One Keras layer of the topology. */
export interface KerasLayer {
  /** The Keras layer class: 'Dense', 'Activation', 'Conv2D', ... */
  class_name: string;
  /** The layer's settings as Keras names them (name, units, activation, ...). */
  config: Record<string, unknown>;
}

/** model.json of the TF.js layers format. */
export interface TfjsModelJson {
  /** The TF.js format: a layers model. */
  format: 'layers-model';
  /** This package and its version ('backprop-ts 1.2.3'). */
  generatedBy: string;
  /** null: written directly, not by tensorflowjs_converter. */
  convertedBy: null;
  /** The Keras model: a Sequential of the layers. */
  modelTopology: {
    /** The Keras model class. */
    class_name: 'Sequential';
    /** The model's settings. */
    config: {
      /** The network's class (TwoLayerNet, ...), from the lowered graph. */
      name: string;
      /** The layers in order, the first with the batch input shape. */
      layers: KerasLayer[];
    };
    /** The Keras version the topology follows ('tfjs-layers 4.22.0'). */
    keras_version: string;
    /** 'tensor_flow.js'. */
    backend: string;
  };
  /** Where the weights are: one group, in one file. */
  weightsManifest: {
    /** The weight files of the group, relative to model.json: [{@link TFJS_WEIGHTS_FILE}]. */
    paths: string[];
    /** The weights in the order of their bytes in the files. */
    weights: {
      /** Layer name and weight, as Keras names them: 'Affine1/kernel', 'BatchNorm1/moving_mean'. */
      name: string;
      /** The weight's shape in Keras's layout (a Conv2D kernel is (FH, FW, C, FN)). */
      shape: number[];
      /** The element type: 4 bytes each, little-endian. */
      dtype: 'float32';
    }[];
  }[];
  /** The training metadata (`modelMetadata`), as `model.getUserDefinedMetadata()` returns it. */
  userDefinedMetadata?: Record<string, string>;
}

/** The file name model.json's weightsManifest refers to. */
export const TFJS_WEIGHTS_FILE = 'weights.bin';

/** Options of `exportTfjs`. */
export interface ExportTfjsOptions {
  /** Recorded as userDefinedMetadata (see `modelMetadata`). */
  metadata?: Readonly<Record<string, string>>;
  /** The per-example input shape, for a Sequential that starts with a convolution. */
  inputShape?: number[];
}

/**
 * model.json (as an object: write it with JSON.stringify) and weights.bin of a network.
 *
 * @throws {ExportError} if a layer or operation has no mapping (the message names it)
 *
 * @example
 * const { modelJson, weightsBin } = exportTfjs(net);
 * // in TF.js, from memory:
 * const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology,
 *   weightSpecs: modelJson.weightsManifest[0].weights, weightData: weightsBin.buffer }));
 * tf.softmax(model.predict(tf.tensor(pixels, [1, 784])));
 */
export function exportTfjs(net: Exportable, options: ExportTfjsOptions = {}): {
  /** model.json, as an object. */
  modelJson: TfjsModelJson;
  /** weights.bin: the float32 weights in manifest order. */
  weightsBin: Uint8Array;
} {
  const graph = lowerNetwork(net, { inputShape: options.inputShape });
  const shapes = shapesOf(graph);
  const layers: KerasLayer[] = [];
  const weights: { name: string; shape: number[]; values: Float32Array }[] = [];
  const add = (class_name: string, name: string, config: Record<string, unknown>, layerWeights: [string, NamedWeight | { shape: number[]; values: Float32Array }][] = []): void => {
    const first = layers.length === 0 ? { batch_input_shape: [null, ...graph.inputShape], dtype: 'float32' } : {};
    layers.push({ class_name, config: { name, trainable: false, ...first, ...config } });
    for (const [suffix, w] of layerWeights) {
      const { shape, values } = 'tensor' in w ? { shape: [...w.tensor.shape], values: Float32Array.from(w.tensor.data) } : w;
      weights.push({ name: `${name}/${suffix}`, shape, values });
    }
  };
  const channelsFirst = { data_format: 'channels_first' };
  let shape = graph.inputShape;

  graph.ops.forEach((o, i) => {
    switch (o.op) {
      case 'Gemm':
        if (shape.length > 1) add('Flatten', `${o.name}_flatten`, {}); // the book's Affine flattens its input
        add('Dense', o.name, { units: o.W.tensor.shape[1], activation: 'linear', use_bias: true }, [['kernel', o.W], ['bias', o.b]]);
        break;
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
        add('Activation', o.name, { activation: o.op.toLowerCase() });
        break;
      case 'BatchNormalization': {
        // after a convolution: per C·H·W feature, as the book's x.reshape(N, −1), then back
        const flat = shape.length > 1;
        if (flat) add('Flatten', `${o.name}_flatten`, {});
        const vector = (w: NamedWeight): NamedWeight | { shape: number[]; values: Float32Array } => (flat ? { shape: [w.tensor.size], values: Float32Array.from(w.tensor.data) } : w);
        add('BatchNormalization', o.name, { axis: -1, momentum: 0.9, epsilon: o.epsilon, center: true, scale: true },
          [['gamma', vector(o.gamma)], ['beta', vector(o.beta)], ['moving_mean', vector(o.mean)], ['moving_variance', vector(o.variance)]]);
        if (flat) add('Reshape', `${o.name}_reshape`, { target_shape: [...shape] });
        break;
      }
      case 'Scale':
        add('Rescaling', o.name, { scale: o.factor, offset: 0 });
        break;
      case 'Conv': {
        const [fn, c, fh, fw] = o.W.tensor.shape;
        if (o.pad > 0) add('ZeroPadding2D', `${o.name}_pad`, { padding: [[o.pad, o.pad], [o.pad, o.pad]], ...channelsFirst });
        add('Conv2D', o.name, {
          filters: fn, kernel_size: [fh, fw], strides: [o.stride, o.stride], padding: 'valid', dilation_rate: [1, 1],
          activation: 'linear', use_bias: true, ...channelsFirst,
        }, [['kernel', { shape: [fh, fw, c, fn], values: filtersHWCN(o.W.tensor.data, fn, c, fh, fw) }], ['bias', o.b]]);
        break;
      }
      case 'MaxPool':
        if (o.pad > 0) add('ZeroPadding2D', `${o.name}_pad`, { padding: [[o.pad, o.pad], [o.pad, o.pad]], ...channelsFirst });
        add('MaxPooling2D', o.name, { pool_size: o.kernel, strides: [o.stride, o.stride], padding: 'valid', ...channelsFirst });
        break;
      case 'Flatten':
        add('Flatten', o.name, {}); // channels_last (the default): a plain row-major reshape of (N, C, H, W)
        break;
    }
    shape = shapes[i];
  });

  const weightsBin = new Uint8Array(weights.reduce((n, w) => n + 4 * w.values.length, 0));
  const view = new DataView(weightsBin.buffer);
  let offset = 0;
  for (const w of weights) {
    for (let k = 0; k < w.values.length; k++, offset += 4) view.setFloat32(offset, w.values[k], true);
  }
  const modelJson: TfjsModelJson = {
    format: 'layers-model',
    generatedBy: `${PACKAGE_NAME} ${VERSION}`,
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: { name: graph.name, layers },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: weights.map(({ name, shape }) => ({ name, shape, dtype: 'float32' })) }],
  };
  if (options.metadata) modelJson.userDefinedMetadata = { ...options.metadata };
  return { modelJson, weightsBin };
}

/** Filters (FN, C, FH, FW), the book's layout, as Keras's (FH, FW, C, FN). */
function filtersHWCN(w: ArrayLike<number>, fn: number, c: number, fh: number, fw: number): Float32Array {
  const out = new Float32Array(fn * c * fh * fw);
  for (let f = 0; f < fn; f++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < fh; y++) {
        for (let x = 0; x < fw; x++) out[((y * fw + x) * c + ch) * fn + f] = w[((f * c + ch) * fh + y) * fw + x];
      }
    }
  }
  return out;
}
