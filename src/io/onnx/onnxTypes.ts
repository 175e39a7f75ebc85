/**
 * The fields of ONNX's messages (onnx.proto, ONNX 1.23.1) that the exporter writes, typed, and
 * the encoder protobuf.js generated from onnx.proto (onnxProto.ts) behind one typed function.
 * Field names are onnx.proto's own (snake_case); int64 fields are numbers.
 */
import { onnx } from './onnxProto.js';

/** TensorProto.DataType.FLOAT. */
export const FLOAT = 1;
/** AttributeProto.AttributeType values used here. */
export const ATTRIBUTE = { FLOAT: 1, INT: 2, INTS: 7 } as const;

/** A constant tensor (here: an initializer holding a weight). */
export interface TensorProto {
  /** The name nodes refer to it by (W1, b1, ...). */
  name: string;
  /** The size of each dimension. */
  dims: number[];
  /** The element type, a TensorProto.DataType value (`FLOAT`, 1). */
  data_type: number;
  /** Little-endian element bytes. */
  raw_data: Uint8Array;
}

/** A named setting of a node (axis, epsilon, strides, ...). */
export interface AttributeProto {
  /** The attribute's name in the operator's definition. */
  name: string;
  /** Which field holds the value: an AttributeProto.AttributeType value (`ATTRIBUTE`: FLOAT 1, INT 2, INTS 7). */
  type: number;
  /** The value of a FLOAT attribute. */
  f?: number;
  /** The value of an INT attribute. */
  i?: number;
  /** The value of an INTS attribute. */
  ints?: number[];
}

/** One operator call in the graph. */
export interface NodeProto {
  /** The node's name (the book's layer name: Affine1, ...). */
  name: string;
  /** The ONNX operator: 'Gemm', 'Relu', 'Conv', ... */
  op_type: string;
  /** The names of the values (or initializers) it reads, in the operator's order. */
  input: string[];
  /** The names of the values it writes. */
  output: string[];
  /** The operator's settings. */
  attribute?: AttributeProto[];
  /** A description. */
  doc_string?: string;
}

/** One dimension: a size, or a name for a size given at run time (the batch, 'N'). */
export type DimensionProto =
  | {
    /** A fixed size. */
    dim_value: number;
  }
  | {
    /** The name of a size given at run time. */
    dim_param: string;
  };

/** The declared type and shape of a named value: an input, an output or an intermediate. */
export interface ValueInfoProto {
  /** The value's name. */
  name: string;
  /** The value's type: a tensor. */
  type: {
    /** The tensor's element type and shape. */
    tensor_type: {
      /** The element type, a TensorProto.DataType value (`FLOAT`, 1). */
      elem_type: number;
      /** The tensor's shape. */
      shape: {
        /** The dimensions in order, the batch (N) first. */
        dim: DimensionProto[];
      };
    };
  };
  /** A description. */
  doc_string?: string;
}

/** The computation: nodes in topological order, the weights, the inputs and outputs. */
export interface GraphProto {
  /** The network's class (TwoLayerNet, ...). */
  name: string;
  /** The operator calls, each after the nodes whose outputs it reads. */
  node: NodeProto[];
  /** The weights, as constant tensors. */
  initializer: TensorProto[];
  /** The graph's inputs (one: {@link ONNX_NAMES}.input). */
  input: ValueInfoProto[];
  /** The graph's outputs (the logits and the probabilities). */
  output: ValueInfoProto[];
  /** The type and shape of every intermediate value. */
  value_info: ValueInfoProto[];
  /** A description. */
  doc_string?: string;
}

/** An ONNX model file as a plain object: the fields of onnx.proto's ModelProto the exporter writes. */
export interface ModelProto {
  /** The ONNX IR version ({@link ONNX_IR_VERSION}). */
  ir_version: number;
  /** The operator sets used: the default domain '' at {@link ONNX_OPSET}. */
  opset_import: {
    /** The operator set's domain ('' for the standard ONNX operators). */
    domain: string;
    /** The operator set's version. */
    version: number;
  }[];
  /** The package that wrote the model. */
  producer_name: string;
  /** Its version. */
  producer_version: string;
  /** The model's description. */
  doc_string?: string;
  /** The computation. */
  graph: GraphProto;
  /** Key-value metadata (training metadata: see `modelMetadata`). */
  metadata_props: {
    /** The entry's name. */
    key: string;
    /** The entry's value. */
    value: string;
  }[];
}

interface Encoder {
  encode(message: ModelProto): { finish(): Uint8Array };
}

/** The bytes of an ONNX model file: `message` encoded by protobuf.js as onnx.proto's ModelProto. */
export function encodeModelProto(message: ModelProto): Uint8Array {
  return (onnx as unknown as { ModelProto: Encoder }).ModelProto.encode(message).finish();
}
