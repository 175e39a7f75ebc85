/**
 * Test helpers for exported ONNX files: onnxruntime-web (its WebAssembly backend, in Node) and
 * our own structural checks of the graph, reading the file back with protobuf.js's reflection
 * from ONNX's own onnx.proto (independent of the static encoder the exporter uses).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import protobuf from 'protobufjs';
import * as ort from 'onnxruntime-web';

/**
 * onnxruntime-web, set to load its .wasm from its own npm package (no network, no CDN): the
 * `wasmPaths` prefix is the file URL of node_modules/onnxruntime-web/dist/. One thread.
 */
export function onnxRuntime(): typeof ort {
  const dist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  ort.env.wasm.wasmPaths = pathToFileURL(`${dist}/`).href;
  ort.env.wasm.numThreads = 1;
  return ort;
}

const PROTO = fileURLToPath(new URL('../../src/io/onnx/onnx.proto', import.meta.url));
let ModelProto: protobuf.Type | null = null;

/** A decoded ModelProto as plain objects (int64 as numbers, bytes as Uint8Array). */
export interface DecodedModel {
  ir_version: number;
  producer_name: string;
  producer_version: string;
  opset_import: { domain?: string; version: number }[];
  metadata_props?: { key: string; value: string }[];
  graph: {
    name: string;
    node: { name: string; op_type: string; input: string[]; output: string[]; attribute?: { name: string; f?: number; i?: number; ints?: number[] }[] }[];
    initializer: { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }[];
    input: ValueInfo[];
    output: ValueInfo[];
    value_info?: ValueInfo[];
  };
}
interface ValueInfo {
  name: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: number; dim_param?: string }[] } } };
}

/** Reads an .onnx file's bytes with protobuf.js's reflection of onnx.proto. */
export function decodeOnnx(bytes: Uint8Array): DecodedModel {
  ModelProto ??= new protobuf.Root().loadSync(PROTO, { keepCase: true }).lookupType('onnx.ModelProto');
  const message = ModelProto.decode(bytes);
  return ModelProto.toObject(message, { longs: Number, arrays: true, defaults: false }) as DecodedModel;
}

/**
 * The checks of a valid graph that the official Python checker would make for these models:
 * every node input is the graph input, an initializer or an earlier node's output (so the
 * nodes are in topological order); every value has its float type and shape declared; no
 * initializer is unused or misnamed; names are unique; each initializer's bytes fit its dims.
 */
export function checkOnnxGraph(model: DecodedModel): void {
  const g = model.graph;
  const declared = new Map<string, ValueInfo>();
  for (const v of [...g.input, ...g.output, ...(g.value_info ?? [])]) {
    assert.ok(!declared.has(v.name), `value ${v.name} declared twice`);
    const t = v.type?.tensor_type;
    assert.equal(t?.elem_type, 1, `${v.name}: element type FLOAT`);
    const dims = t?.shape?.dim ?? [];
    assert.ok(dims.length >= 2, `${v.name}: shape declared`);
    assert.equal(dims[0].dim_param, 'N', `${v.name}: dynamic batch dimension N`);
    for (const d of dims.slice(1)) assert.ok(Number.isInteger(d.dim_value) && d.dim_value! > 0, `${v.name}: dimension sizes`);
    declared.set(v.name, v);
  }
  const initializers = new Map(g.initializer.map((t) => [t.name, t]));
  assert.equal(initializers.size, g.initializer.length, 'initializer names are unique');
  for (const t of g.initializer) {
    assert.equal(t.data_type, 1, `${t.name}: float32`);
    assert.equal(t.raw_data.length, 4 * (t.dims ?? []).reduce((a, b) => a * b, 1), `${t.name}: raw_data fits dims ${t.dims}`);
    assert.ok(!declared.has(t.name), `${t.name} is not also a graph input or value`);
  }
  const available = new Set([...g.input.map((v) => v.name), ...initializers.keys()]);
  const used = new Set<string>();
  const nodeNames = new Set<string>();
  for (const n of g.node) {
    assert.ok(!nodeNames.has(n.name), `node name ${n.name} is unique`);
    nodeNames.add(n.name);
    for (const input of n.input) {
      assert.ok(available.has(input), `node ${n.name} (${n.op_type}): input ${input} is produced earlier or is an initializer or input`);
      used.add(input);
    }
    for (const output of n.output) {
      assert.ok(!available.has(output), `node ${n.name}: output ${output} is produced once`);
      assert.ok(declared.has(output), `node ${n.name}: output ${output} has its type and shape declared`);
      available.add(output);
    }
  }
  for (const name of initializers.keys()) assert.ok(used.has(name), `initializer ${name} is used`);
  for (const v of g.output) assert.ok(available.has(v.name), `graph output ${v.name} is produced`);
  for (const v of g.value_info ?? []) assert.ok(available.has(v.name), `value_info ${v.name} belongs to a node output`);
}
