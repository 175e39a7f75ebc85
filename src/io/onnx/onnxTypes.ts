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

export interface TensorProto {
  name: string;
  dims: number[];
  data_type: number;
  /** Little-endian element bytes. */
  raw_data: Uint8Array;
}

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  ints?: number[];
}

export interface NodeProto {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute?: AttributeProto[];
  doc_string?: string;
}

/** One dimension: a size, or a name for a size given at run time (the batch, 'N'). */
export type DimensionProto = { dim_value: number } | { dim_param: string };

export interface ValueInfoProto {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: DimensionProto[] } } };
  doc_string?: string;
}

export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  value_info: ValueInfoProto[];
  doc_string?: string;
}

export interface ModelProto {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  producer_version: string;
  doc_string?: string;
  graph: GraphProto;
  metadata_props: { key: string; value: string }[];
}

interface Encoder {
  encode(message: ModelProto): { finish(): Uint8Array };
}

/** The bytes of an ONNX model file: `message` encoded by protobuf.js as onnx.proto's ModelProto. */
export function encodeModelProto(message: ModelProto): Uint8Array {
  return (onnx as unknown as { ModelProto: Encoder }).ModelProto.encode(message).finish();
}
