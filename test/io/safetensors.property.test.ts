/**
 * Property-based tests of the safetensors reader: files from the project's writer and from an
 * independent writer in this test (any key order, data order, padding) read back bit for bit;
 * mutated files (bytes, header length, JSON fields, huge shapes and offsets) give the right
 * tensors or a ModelFileError naming the file, without allocating more than the file holds.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ModelFileError } from '../../src/io/ModelFileError.js';
import { parseSafetensors, serializeSafetensors, type SafetensorsArray, type TensorLike } from '../../src/io/safetensors.js';
import { applyMutation, assertAllocatedAtMost, check, concat, deepArb, expandDeep, measureAllocations, mutationArb, sometimes, type Mutation } from '../property.js';

const NAME = 'runs/model.safetensors';

/** Each dtype code with its typed array, as the format defines them (independent of the reader). */
const CODES = {
  F64: Float64Array, F32: Float32Array, I64: BigInt64Array, U64: BigUint64Array, I32: Int32Array, U32: Uint32Array,
  I16: Int16Array, U16: Uint16Array, I8: Int8Array, U8: Uint8Array,
} as const;
type Code = keyof typeof CODES;
const DTYPE_NAMES: Record<Code, string> = {
  F64: 'float64', F32: 'float32', I64: 'int64', U64: 'uint64', I32: 'int32', U32: 'uint32', I16: 'int16', U16: 'uint16', I8: 'int8', U8: 'uint8',
};

interface GenTensor {
  code: Code;
  shape: number[];
  /** The elements' little-endian bytes (any bit pattern: NaN payloads, −0, subnormals). */
  bytes: Uint8Array;
}

/** A tensor name: short strings of any characters, JSON's special ones and `__proto__` included. */
const nameArb = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'grapheme', maxLength: 4 }),
  fc.constantFrom('W1', 'b1', '__proto__', 'constructor', 'buffers/mean', 'a"b', 'a\\b', '\u0000', '\ud800'),
).filter((n) => n !== '__metadata__');

const tensorArb: fc.Arbitrary<GenTensor> = fc
  .record({ code: fc.constantFrom(...(Object.keys(CODES) as Code[])), shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }) })
  .chain(({ code, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1) * CODES[code].BYTES_PER_ELEMENT;
    return fc.record({ code: fc.constant(code), shape: fc.constant(shape), bytes: fc.uint8Array({ minLength: size, maxLength: size }) });
  });

const fileArb = (minTensors = 0) => fc.record({
  tensors: fc.uniqueArray(fc.tuple(nameArb, tensorArb), { minLength: minTensors, maxLength: 5, selector: ([n]) => n }),
  metadata: fc.option(fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 8 }), { maxKeys: 3, noNullPrototype: true })),
});

/**
 * The test's own safetensors writer: header keys in the order given, tensor data in the order
 * `dataOrder` gives, the header padded with `pad` spaces, metadata first or last.
 */
function writeIndependently(tensors: [string, GenTensor][], metadata: Record<string, string> | null, dataOrder: number[], pad: number, metadataLast: boolean): Uint8Array {
  const offsets = new Map<number, [number, number]>();
  let pos = 0;
  for (const i of dataOrder) {
    offsets.set(i, [pos, pos + tensors[i][1].bytes.length]);
    pos += tensors[i][1].bytes.length;
  }
  const parts = tensors.map(([name, t], i) => `${JSON.stringify(name)}:{"dtype":"${t.code}","shape":${JSON.stringify(t.shape)},"data_offsets":${JSON.stringify(offsets.get(i))}}`);
  if (metadata !== null) {
    const meta = `"__metadata__":${JSON.stringify(metadata)}`;
    if (metadataLast) parts.push(meta);
    else parts.unshift(meta);
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}${' '.repeat(pad)}`);
  const head = new Uint8Array(8);
  new DataView(head.buffer).setBigUint64(0, BigInt(json.length), true);
  return concat(head, json, ...dataOrder.map((i) => tensors[i][1].bytes));
}

/** The typed array of a generated tensor, as the project's writer takes it. */
function asArray(t: GenTensor): SafetensorsArray {
  const copy = t.bytes.slice();
  return new CODES[t.code](copy.buffer, 0, copy.length / CODES[t.code].BYTES_PER_ELEMENT) as SafetensorsArray;
}

const bytesOf = (a: ArrayBufferView): number[] => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

/** The parsed file holds exactly the generated tensors and metadata. */
function assertSame(parsed: ReturnType<typeof parseSafetensors>, tensors: [string, GenTensor][], metadata: Record<string, string> | null): void {
  assert.deepEqual(Object.keys(parsed.tensors).sort(), tensors.map(([n]) => n).sort());
  for (const [name, t] of tensors) {
    const got = parsed.tensors[name];
    assert.equal(got.dtype, DTYPE_NAMES[t.code], name);
    assert.deepEqual(got.shape, t.shape, name);
    assert.deepEqual(bytesOf(got.data), Array.from(t.bytes), name);
  }
  assert.deepEqual({ ...parsed.metadata }, metadata ?? {});
}

/** Edits of the JSON header that a corrupt or hostile file might carry. */
const headerEditArb = fc.record({
  tensor: fc.nat(),
  field: fc.constantFrom('dtype', 'shape', 'data_offsets', 'extra', 'delete', 'whole'),
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(2 ** 32, 2 ** 53, 2 ** 53 + 2, 1e300, -1, 1.5, '3', [2 ** 31, 2 ** 31], [0, 2 ** 53], [3, 1], [0, 0], ['F32'], 'F16', 'BF16'),
    fc.array(fc.oneof(fc.nat(), fc.constantFrom(2 ** 31, 2 ** 40, 2 ** 53 - 1, 0)), { maxLength: 4 }),
    deepArb,
    fc.array(deepArb, { minLength: 1, maxLength: 2 }),
  ),
  headerLength: sometimes(fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(0n, 1n, 2n ** 63n, 100_000_001n)), 8),
});

/** A valid file with JSON edits of its header and then byte mutations. */
function brokenFile(tensors: [string, GenTensor][], metadata: Record<string, string> | null, edits: { tensor: number; field: string; value: unknown; headerLength: bigint | null }[], mutations: Mutation[]): Uint8Array {
  const good = serializeSafetensors(Object.fromEntries(tensors.map(([n, t]) => [n, { shape: t.shape, data: asArray(t) } as TensorLike])), metadata ?? undefined);
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + n))) as Record<string, Record<string, unknown>>;
  let headerLength: bigint | null = null;
  for (const e of edits) {
    const keys = Object.keys(header);
    if (e.headerLength !== null) headerLength = e.headerLength;
    if (keys.length === 0) continue;
    const key = keys[e.tensor % keys.length];
    if (e.field === 'whole') header[key] = e.value as Record<string, unknown>;
    else if (e.field === 'delete') delete header[key];
    else if (typeof header[key] === 'object' && header[key] !== null) header[key][e.field] = e.value;
  }
  const json = new TextEncoder().encode(expandDeep(JSON.stringify(header)));
  const head = new Uint8Array(8);
  new DataView(head.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  let file = concat(head, json, good.subarray(8 + n));
  for (const m of mutations) file = applyMutation(file, m);
  return file;
}

/** A parse that succeeded gave tensors consistent with the bytes: sizes and dtypes agree. */
function assertConsistent(parsed: ReturnType<typeof parseSafetensors>, file: Uint8Array): void {
  let total = 0;
  for (const [name, t] of Object.entries(parsed.tensors)) {
    const elements = t.shape.reduce((a, b) => a * b, 1);
    assert.equal(t.data.length, elements, `${name}: data length matches its shape`);
    assert.ok(Object.values(DTYPE_NAMES).includes(t.dtype), name);
    total += t.data.byteLength;
  }
  assert.ok(total <= file.length, 'the tensors hold no more bytes than the file');
  for (const v of Object.values(parsed.metadata)) assert.equal(typeof v, 'string');
}

describe('safetensors reader, property-based', () => {
  it('reads back what the project writes, bit for bit', () => {
    check('safetensors round trip', 600, fc.property(fileArb(), ({ tensors, metadata }) => {
      const bytes = serializeSafetensors(Object.fromEntries(tensors.map(([n, t]) => [n, { shape: t.shape, data: asArray(t) }])), metadata ?? undefined);
      assertSame(parseSafetensors(bytes, NAME), tensors, metadata && Object.keys(metadata).length ? metadata : null);
    }));
  });

  it('reads what an independent writer writes: any key order, data order and padding', () => {
    const arb = fileArb().chain(({ tensors, metadata }) => fc.record({
      tensors: fc.constant(tensors),
      metadata: fc.constant(metadata),
      dataOrder: fc.shuffledSubarray(tensors.map((_, i) => i), { minLength: tensors.length, maxLength: tensors.length }),
      pad: fc.integer({ min: 0, max: 9 }),
      metadataLast: fc.boolean(),
    }));
    check('safetensors independent writer', 600, fc.property(arb, ({ tensors, metadata, dataOrder, pad, metadataLast }) => {
      assertSame(parseSafetensors(writeIndependently(tensors, metadata, dataOrder, pad, metadataLast), NAME), tensors, metadata);
    }));
  });

  it('a mutated file gives consistent tensors or a ModelFileError naming the file, allocating nothing much', () => {
    const arb = fc.record({
      file: fileArb(1),
      edits: fc.array(headerEditArb, { maxLength: 2 }),
      mutations: fc.array(mutationArb, { maxLength: 2 }),
    });
    check('safetensors mutations', 2400, fc.property(arb, ({ file: { tensors, metadata }, edits, mutations }) => {
      const file = brokenFile(tensors, metadata, edits, mutations);
      const outcome = measureAllocations(() => parseSafetensors(file, NAME));
      if (outcome.result) assertConsistent(outcome.result, file);
      else {
        assert.ok(outcome.error instanceof ModelFileError, `expected a ModelFileError, got ${String(outcome.error)}`);
        assert.ok(outcome.error.message.startsWith(`${NAME}: `), outcome.error.message);
      }
      assertAllocatedAtMost(outcome, 4 * file.length + 65536, `${file.length}-byte file`);
    }));
  });
});
