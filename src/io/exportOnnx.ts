/**
 * ONNX export: a network as the bytes of an .onnx file that onnxruntime (in every language,
 * onnxruntime-web in browsers), Netron and other runtimes read. Pure: no files, no `node:`
 * imports, so it runs in a browser too.
 *
 * The graph, for the book's TwoLayerNet (MultiLayerNet adds BatchNormalization, Sigmoid/Tanh
 * and Mul nodes; SimpleConvNet starts with Conv, Relu, MaxPool, Flatten):
 * ```
 * input [N,784] → Gemm(W1, b1) → Relu → Gemm(W2, b2) → logits [N,10] → Softmax(axis 1) → probabilities [N,10]
 * ```
 * - Opset 13 (ONNX 1.8, IR version 7): the first opset whose Softmax normalizes one axis, as
 *   the book's softmax does; every operator used here is unchanged in meaning since, so any
 *   runtime from 2021 on loads the files.
 * - Weights are float32 initializers named as the network names them (W1, b1, gamma1, ...);
 *   a float64 network is exported as float32.
 * - Batch norm is an ONNX BatchNormalization node in inference mode with the running mean and
 *   variance and the book's ε (not folded into the Affine: the file shows the book's layers).
 *   After a convolution the book normalizes each of the C·H·W values, which ONNX's (per
 *   channel) does not: there it is (x − mean) / √(var + ε) · γ + β as Sub, Div, Mul, Add.
 * - Max pooling with padding: the book's zeros take part in the maximum, ONNX's pads do not; a
 *   Max with a constant (0 at windows that touch the padding) follows the MaxPool.
 * - Dropout at inference is a Mul by the constant (1 − ratio), the book's rule.
 * - Every intermediate value has its type and shape declared (value_info), with the batch
 *   dimension named N.
 */
import { PACKAGE_NAME, VERSION } from '../version.js';
import type { Tensor } from '../tensor/Tensor.js';
import { lowerNetwork, shapesOf, type Exportable, type InferenceOp, type NamedWeight } from './inferenceGraph.js';
import {
  ATTRIBUTE, FLOAT, encodeModelProto,
  type AttributeProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from './onnx/onnxTypes.js';

/** The ONNX operator set the exported models import. */
export const ONNX_OPSET = 13;
/** The IR version that goes with opset 13. */
export const ONNX_IR_VERSION = 7;
/** The names of the exported model's input and outputs. */
export const ONNX_NAMES = {
  /** The input, shape [N, ...the per-example input shape] (float32). */
  input: 'input',
  /** The first output: the network's scores, shape [N, classes], as `net.predict` gives them. */
  logits: 'logits',
  /** The second output: softmax of the logits over axis 1, shape [N, classes]. */
  probabilities: 'probabilities',
} as const;

/** Options of `exportOnnx` and `onnxModel`. */
export interface ExportOnnxOptions {
  /** Recorded as the model's metadata_props (architecture, data, accuracy, ...): see `modelMetadata`. */
  metadata?: Readonly<Record<string, string>>;
  /** The per-example input shape, for a Sequential that starts with a convolution. */
  inputShape?: number[];
  /** The model's description (doc_string). */
  description?: string;
}

/**
 * The bytes of an ONNX model computing `net.predict` (the logits) and softmax of it (the
 * probabilities) for a batch of any size.
 *
 * @throws {ExportError} if a layer or operation has no ONNX mapping (the message names it)
 *
 * @example
 * const bytes = exportOnnx(net, { metadata: { accuracy: '0.9655' } });
 * // in onnxruntime-web:
 * const session = await ort.InferenceSession.create(bytes);
 * const { probabilities } = await session.run({ input: new ort.Tensor('float32', pixels, [1, 784]) });
 */
export function exportOnnx(net: Exportable, options: ExportOnnxOptions = {}): Uint8Array {
  return encodeModelProto(onnxModel(net, options));
}

/** The ModelProto that `exportOnnx` encodes, as a plain object (for inspection and tests). */
export function onnxModel(net: Exportable, options: ExportOnnxOptions = {}): ModelProto {
  const graph = lowerNetwork(net, { inputShape: options.inputShape });
  const shapes = shapesOf(graph);
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const valueInfo: ValueInfoProto[] = [];
  const added = new Set<string>();
  const initializer = (w: NamedWeight | { name: string; tensor: { shape: readonly number[]; data: ArrayLike<number> } }): string => {
    if (!added.has(w.name)) {
      added.add(w.name);
      initializers.push(floatTensor(w.name, w.tensor.shape, w.tensor.data));
    }
    return w.name;
  };

  let current: string = ONNX_NAMES.input;
  let shape = graph.inputShape;
  const last = graph.ops.length - 1;
  const emit = (op: string, name: string, inputs: string[], outShape: number[], attributes: AttributeProto[] = [], output?: string): void => {
    const out = output ?? name;
    nodes.push({ name, op_type: op, input: inputs, output: [out], attribute: attributes });
    if (out !== ONNX_NAMES.logits) valueInfo.push(valueInfoOf(out, outShape));
    current = out;
    shape = outShape;
  };

  graph.ops.forEach((o: InferenceOp, i) => {
    const outShape = shapes[i];
    const output = i === last ? ONNX_NAMES.logits : undefined;
    switch (o.op) {
      case 'Gemm':
        // the book's Affine flattens its input: x.reshape(N, −1)
        if (shape.length > 1) emit('Flatten', `${o.name}_flatten`, [current], [shape.reduce((a, b) => a * b, 1)], [int('axis', 1)]);
        return emit('Gemm', o.name, [current, initializer(o.W), initializer(o.b)], outShape, [], output);
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
        return emit(o.op, o.name, [current], outShape, [], output);
      case 'BatchNormalization': {
        if (shape.length === 1) {
          return emit('BatchNormalization', o.name,
            [current, initializer(o.gamma), initializer(o.beta), initializer(o.mean), initializer(o.variance)], outShape, [float('epsilon', o.epsilon)], output);
        }
        // per C·H·W feature, which ONNX's BatchNormalization (per channel) is not: the book's
        // formula as four element-wise nodes with (C, H, W) constants, std = √(var + ε)
        const perFeature = (w: NamedWeight): string => initializer({ name: `${o.name}_${w.name}`, tensor: { shape, data: w.tensor.data } });
        const std = Float64Array.from(o.variance.tensor.data, (v) => Math.sqrt(v + o.epsilon));
        emit('Sub', `${o.name}_center`, [current, perFeature(o.mean)], outShape); //            x − mean
        emit('Div', `${o.name}_normalize`, [current, initializer({ name: `${o.name}_std`, tensor: { shape, data: std } })], outShape); // / √(var + ε)
        emit('Mul', `${o.name}_scale`, [current, perFeature(o.gamma)], outShape); //            · γ
        return emit('Add', o.name, [current, perFeature(o.beta)], outShape, [], output); //  + β
      }
      case 'Scale': {
        const factor = initializer({ name: `${o.name}_scale`, tensor: { shape: [], data: [o.factor] } });
        return emit('Mul', o.name, [current, factor], outShape, [], output);
      }
      case 'Conv': {
        const [, , fh, fw] = o.W.tensor.shape;
        return emit('Conv', o.name, [current, initializer(o.W), initializer(o.b)], outShape,
          [ints('kernel_shape', [fh, fw]), ints('strides', [o.stride, o.stride]), ints('pads', [o.pad, o.pad, o.pad, o.pad])], output);
      }
      case 'MaxPool':
      {
        const attributes = [ints('kernel_shape', o.kernel), ints('strides', [o.stride, o.stride]), ints('pads', [o.pad, o.pad, o.pad, o.pad])];
        if (o.pad === 0) return emit('MaxPool', o.name, [current], outShape, attributes, output);
        // The book pads with zeros that take part in the maximum (im2col's np.pad); ONNX's pads
        // never win a MaxPool. So: MaxPool, then Max with a constant that is 0 at each window
        // touching the padding and the lowest float32 elsewhere. (Not a Pad node of zeros before
        // the MaxPool: onnxruntime 1.30's PadFusion folds that into the MaxPool's pads, dropping
        // the zeros.)
        const mask = paddingMask(shape[1], shape[2], outShape[1], outShape[2], o.kernel, o.stride, o.pad); // shape: the input's (C, H, W)
        emit('MaxPool', `${o.name}_window`, [current], outShape, attributes);
        return emit('Max', o.name, [current, initializer({ name: `${o.name}_padding`, tensor: { shape: outShape.slice(1), data: mask } })], outShape, [], output);
      }
      case 'Flatten':
        return emit('Flatten', o.name, [current], outShape, [int('axis', 1)], output);
    }
  });
  const classes = shapes[last];
  nodes.push({ name: 'Softmax', op_type: 'Softmax', input: [ONNX_NAMES.logits], output: [ONNX_NAMES.probabilities], attribute: [int('axis', 1)] });

  return {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: PACKAGE_NAME,
    producer_version: VERSION,
    doc_string: options.description ?? `${graph.name} trained by error backpropagation (${PACKAGE_NAME}). Input: ${ONNX_NAMES.input}; outputs: ${ONNX_NAMES.logits} (the raw scores of predict) and ${ONNX_NAMES.probabilities} (their softmax).`,
    graph: {
      name: graph.name,
      node: nodes,
      initializer: initializers,
      input: [valueInfoOf(ONNX_NAMES.input, graph.inputShape, 'a batch of examples; the batch size N is free')],
      output: [
        valueInfoOf(ONNX_NAMES.logits, classes, 'class scores before softmax (predict)'),
        valueInfoOf(ONNX_NAMES.probabilities, classes, 'class probabilities, softmax over axis 1'),
      ],
      value_info: valueInfo,
    },
    metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value: String(value) })),
  };
}

/** A float32 tensor of little-endian bytes (a float64 tensor is rounded to float32). */
function floatTensor(name: string, dims: readonly number[], data: ArrayLike<number> | Tensor['data']): TensorProto {
  const values = Float32Array.from(data as ArrayLike<number>);
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return { name, dims: [...dims], data_type: FLOAT, raw_data: raw };
}

/**
 * (outH, outW): 0 where a pooling window reaches into the zero padding (the zeros' share of
 * its maximum), the lowest float32 elsewhere (no share).
 */
function paddingMask(H: number, W: number, outH: number, outW: number, kernel: readonly [number, number], stride: number, pad: number): Float32Array {
  const touches = (o: number, k: number, n: number): boolean => o * stride - pad < 0 || o * stride - pad + k > n;
  const mask = new Float32Array(outH * outW);
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) mask[oy * outW + ox] = touches(oy, kernel[0], H) || touches(ox, kernel[1], W) ? 0 : -3.4028234663852886e38;
  }
  return mask;
}

/** A float tensor value of shape (N, ...perExample). */
function valueInfoOf(name: string, perExample: readonly number[], doc?: string): ValueInfoProto {
  return {
    name,
    type: { tensor_type: { elem_type: FLOAT, shape: { dim: [{ dim_param: 'N' }, ...perExample.map((d) => ({ dim_value: d }))] } } },
    ...(doc ? { doc_string: doc } : {}),
  };
}

const int = (name: string, i: number): AttributeProto => ({ name, type: ATTRIBUTE.INT, i });
const ints = (name: string, values: readonly number[]): AttributeProto => ({ name, type: ATTRIBUTE.INTS, ints: [...values] });
const float = (name: string, f: number): AttributeProto => ({ name, type: ATTRIBUTE.FLOAT, f });
