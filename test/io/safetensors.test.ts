import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor/Tensor.js';
import { ModelFileError } from '../../src/io/ModelFileError.js';
import {
  expectTensors, loadSafetensors, parseSafetensors, saveSafetensors, serializeSafetensors, swapByteOrder,
  type SafetensorsArray, type TensorLike,
} from '../../src/io/safetensorsFiles.js';

const NAME = 'model.safetensors';
const dir = mkdtempSync(join(tmpdir(), 'safetensors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The raw bytes of a typed array, as hex: equal hex means bit-identical elements. */
const hex = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

/** A file from a header (object or exact text), data bytes, and optionally a forged header length. */
function fileBytes(header: string | object, data: Uint8Array | number = 0, headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

/** Asserts parsing fails with exactly `message` (after the file name), without allocating much. */
function assertRejected(bytes: Uint8Array, message: string | RegExp): void {
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(() => parseSafetensors(bytes, NAME), (e: unknown) => {
    assert.ok(e instanceof ModelFileError, `expected a ModelFileError, got ${String(e)}`);
    if (typeof message === 'string') assert.equal(e.message, `${NAME}: ${message}`);
    else assert.match(e.message, message);
    return true;
  });
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 16 << 20, `parsing a hostile ${bytes.length}-byte file allocated ${grown} bytes`);
}

/** Float bit patterns that a lossy path would change: −0, subnormals, ±Infinity, extremes, a NaN payload. */
function specialFloat32(): Float32Array {
  const a = new Float32Array([0, -0, 1.401298464324817e-45, -1.1754942106924411e-38, Infinity, -Infinity, 3.4028234663852886e38, Math.fround(0.1), NaN]);
  new Uint32Array(a.buffer)[8] = 0x7fc00abc; // a NaN with a payload
  return a;
}
function specialFloat64(): Float64Array {
  const a = new Float64Array([0, -0, 5e-324, -2.2250738585072014e-308, Infinity, -Infinity, Number.MAX_VALUE, 0.1, NaN]);
  new BigUint64Array(a.buffer)[8] = 0x7ff8_0000_0000_0abcn;
  return a;
}

describe('safetensors round trip', () => {
  it('float32, float64, int32, int64, uint8 and more come back bit-identical, with shapes and dtypes', () => {
    const tensors: Record<string, TensorLike> = {
      f32: { shape: [3, 3], data: specialFloat32() },
      f64: { shape: [9], data: specialFloat64() },
      i32: { shape: [2, 2], data: new Int32Array([0, -1, 2 ** 31 - 1, -(2 ** 31)]) },
      i64: { shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 62n + 1n]) },
      u64: { shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
      u32: { shape: [1], data: new Uint32Array([2 ** 32 - 1]) },
      i16: { shape: [3], data: new Int16Array([-32768, 1, 32767]) },
      u16: { shape: [1], data: new Uint16Array([65535]) },
      i8: { shape: [3], data: new Int8Array([-128, 0, 127]) },
      u8: { shape: [1, 3], data: new Uint8Array([0, 128, 255]) },
      scalar: { shape: [], data: new Float64Array([2.5]) },
      empty: { shape: [0, 4], data: new Float32Array(0) },
    };
    const file = parseSafetensors(serializeSafetensors(tensors), NAME);
    assert.deepEqual(Object.keys(file.tensors).sort(), Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const got = file.tensors[name];
      assert.deepEqual(got.shape, t.shape, name);
      assert.equal(got.data.constructor, t.data.constructor, name);
      assert.equal(hex(got.data), hex(t.data), name);
    }
    assert.equal(file.tensors.f32.dtype, 'float32');
    assert.equal(file.tensors.i64.dtype, 'int64');
    assert.ok(Object.is(file.tensors.f64.data[1], -0));
  });

  it('saves Tensor objects (float32 and float64) and loads them from disk', () => {
    const W1 = Tensor.from([[1, 2, 3], [4, 5, 6]]);
    const b1 = Tensor.from([0.5, -0.25], undefined, { dtype: 'float64' });
    const path = join(dir, 'tensors.safetensors');
    saveSafetensors(path, { W1, b1 }, { note: 'two tensors' });
    const file = loadSafetensors(path);
    assert.deepEqual(file.tensors.W1, { dtype: 'float32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
    assert.deepEqual(file.tensors.b1, { dtype: 'float64', shape: [2], data: new Float64Array([0.5, -0.25]) });
    const back = Tensor.from(file.tensors.W1.data as Float32Array, file.tensors.W1.shape);
    assert.deepEqual(back.toArray(), W1.toArray());
  });

  it('metadata round trip: any string keys and values, sorted by key', () => {
    const metadata = { epochs: '17', 'η': 'learning rate 0.1 ✓', empty: '', ['__proto__']: 'x', format: 'pt' };
    const bytes = serializeSafetensors({ w: { shape: [1], data: new Float32Array([1]) } }, metadata);
    const file = parseSafetensors(bytes, NAME);
    assert.deepEqual({ ...file.metadata }, metadata);
    assert.deepEqual(Object.keys(file.metadata), Object.keys(metadata).sort());
    assert.deepEqual({ ...parseSafetensors(serializeSafetensors({}), NAME).metadata }, {});
  });

  it('names are data, never object keys with meaning: "__proto__", "constructor", non-ASCII', () => {
    // a computed key makes "__proto__" an own property, not the prototype
    const tensors = { ['__proto__']: { shape: [1], data: new Uint8Array([1]) }, constructor: { shape: [1], data: new Uint8Array([2]) }, 'Gewicht/ä€😀': { shape: [1], data: new Uint8Array([3]) } };
    const file = parseSafetensors(serializeSafetensors(tensors), NAME);
    assert.deepEqual(Object.keys(file.tensors).sort(), ['Gewicht/ä€😀', '__proto__', 'constructor']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(file.tensors, '__proto__')?.value.data, new Uint8Array([1]));
    assert.equal(Object.getPrototypeOf(file.tensors), null);
  });

  it('deterministic: the same tensors in any order give the same bytes, written by dtype then name', () => {
    const a = { shape: [2], data: new Float32Array([1, 2]) };
    const b = { shape: [1], data: new Float64Array([3]) };
    const c = { shape: [1], data: new Float32Array([4]) };
    const one = serializeSafetensors({ c, a, b }, { y: '1', x: '2' });
    const two = serializeSafetensors({ b, a, c }, { x: '2', y: '1' });
    assert.deepEqual(one, two);
    const header = new TextDecoder().decode(one.subarray(8, 8 + Number(new DataView(one.buffer).getBigUint64(0, true))));
    assert.equal(header.trimEnd(), '{"__metadata__":{"x":"2","y":"1"},"b":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"c":{"dtype":"F32","shape":[1],"data_offsets":[16,20]}}');
  });
});

describe('safetensors byte layout', () => {
  it('a hand-computed file: header length, JSON, space padding to 8, offsets, little-endian data', () => {
    const bytes = serializeSafetensors({ b: { shape: [2], data: new Float32Array([1, -2]) }, a: { shape: [1], data: new Int32Array([258]) } });
    // F32 sorts before I32, so "b" comes first even though "a" < "b".
    const json = '{"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"I32","shape":[1],"data_offsets":[8,12]}}';
    assert.equal(json.length, 108); // 54 for "b" and its comma, 53 for "a", 1 for the closing brace
    const expected = [
      112, 0, 0, 0, 0, 0, 0, 0, // N = 108 rounded up to a multiple of 8, little-endian u64
      ...Buffer.from(json + '    '), // the JSON, padded with 4 spaces
      0x00, 0x00, 0x80, 0x3f, // 1.0f
      0x00, 0x00, 0x00, 0xc0, // −2.0f
      0x02, 0x01, 0x00, 0x00, // 258 = 0x0102
    ];
    assert.equal(expected.length, 132);
    assert.deepEqual([...bytes], expected);
  });

  it('every tensor starts aligned to its element size (data section at a multiple of 8)', () => {
    const bytes = serializeSafetensors({
      u8: { shape: [3], data: new Uint8Array(3) }, f64: { shape: [2], data: new Float64Array(2) },
      i16: { shape: [1], data: new Int16Array(1) }, f32: { shape: [3], data: new Float32Array(3) },
    });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(n % 8, 0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    const size: Record<string, number> = { F64: 8, F32: 4, I16: 2, U8: 1 };
    for (const { dtype, data_offsets: [begin] } of Object.values(header)) assert.equal((8 + n + begin) % size[dtype], 0, dtype);
  });

  it('swapByteOrder reverses each element (the big-endian path)', () => {
    const b = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    swapByteOrder(b, 4);
    assert.deepEqual([...b], [4, 3, 2, 1, 8, 7, 6, 5]);
    swapByteOrder(b, 8);
    assert.deepEqual([...b], [5, 6, 7, 8, 1, 2, 3, 4]);
    swapByteOrder(b, 1);
    assert.deepEqual([...b], [5, 6, 7, 8, 1, 2, 3, 4]);
  });

  it('reads an unaligned data section (header not padded) into aligned copies', () => {
    const f64 = new Float64Array([Math.PI, -0]);
    const bytes = fileBytes({ x: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } }, new Uint8Array(f64.buffer));
    assert.notEqual((8 + JSON.stringify({ x: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } }).length) % 8, 0);
    const x = parseSafetensors(bytes, NAME).tensors.x.data;
    assert.equal(hex(x), hex(f64));
    assert.notEqual(x.buffer, bytes.buffer); // a copy, owned by the caller
  });
});

// ---------------------------------------------------------------------------------------------
// Cross-check with an independent implementation of the spec in Python (struct + json + numpy).

const python = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
const pythonMissing = python.error
  ? `python3 not found (${python.error.message})`
  : python.status !== 0 ? `python3 cannot import numpy: ${python.stderr.trim().split('\n').pop()}` : undefined;
const pythonSkip = pythonMissing !== undefined && process.env.CI !== 'true' ? `${pythonMissing}; install python3 and numpy to run it` : false;

function runPython(script: string, ...args: string[]): string {
  if (pythonMissing !== undefined) assert.fail(`on CI python3 with numpy is required: ${pythonMissing}`);
  const r = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `python failed:\n${r.stderr}`);
  return r.stdout;
}

const PY_DTYPES = `DT = {'F64': '<f8', 'F32': '<f4', 'I64': '<i8', 'U64': '<u8', 'I32': '<i4', 'U32': '<u4', 'I16': '<i2', 'U16': '<u2', 'I8': '<i1', 'U8': '<u1'}`;

/** Reads a file by the spec and prints every value as a string ('-0.0', 'NaN', '18446744073709551615'). */
const PY_READER = `
import json, math, struct, sys
import numpy as np
${PY_DTYPES}
raw = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
assert n % 8 == 0, f'header length {n} is not a multiple of 8'
text = raw[8:8 + n].decode('utf-8')
assert text == text.rstrip(' ') + ' ' * (len(text) - len(text.rstrip(' ')))
header = json.loads(text)
metadata = header.pop('__metadata__', {})
data = raw[8 + n:]
def s(x):
    x = x.item()
    if isinstance(x, float):
        return 'NaN' if math.isnan(x) else 'Infinity' if x == math.inf else '-Infinity' if x == -math.inf else repr(x)
    return str(x)
out, pos = {}, 0
for name, e in sorted(header.items(), key=lambda kv: kv[1]['data_offsets']):
    begin, end = e['data_offsets']
    assert begin == pos, f'{name} begins at {begin}, expected {pos}'
    arr = np.frombuffer(data[begin:end], dtype=DT[e['dtype']]).reshape(e['shape'])
    assert (8 + n + begin) % arr.itemsize == 0, f'{name} is not aligned'
    out[name] = {'dtype': e['dtype'], 'shape': list(arr.shape), 'values': [s(x) for x in arr.reshape(-1)]}
    pos = end
assert pos == len(data), 'data section not covered'
print(json.dumps({'metadata': metadata, 'tensors': out}))
`;

/** Writes a file by the spec, in its own tensor order, with ", " / ": " separators and an unaligned data section. */
const PY_WRITER = `
import json, struct, sys
import numpy as np
tensors = {
    'weights': np.arange(12, dtype='<f4').reshape(3, 4) / np.float32(7),
    'bias': np.array([-0.0, 5e-324, np.inf, -np.inf, 1.5], dtype='<f8'),
    'labels': np.array([7, -2, 2**31 - 1], dtype='<i4'),
    'steps': np.array([2**62, -1], dtype='<i8'),
    'pixels': np.arange(256, dtype='<u1').reshape(16, 16),
    'empty': np.zeros((0, 3), dtype='<f4'),
    'scale': np.array(3.25, dtype='<f8'),
}
CODE = {'float64': 'F64', 'float32': 'F32', 'int64': 'I64', 'int32': 'I32', 'uint8': 'U8'}
header, chunks, pos = {'__metadata__': {'format': 'np', 'by': 'python'}}, [], 0
for name, arr in tensors.items():
    b = arr.tobytes()
    header[name] = {'dtype': CODE[arr.dtype.name], 'shape': list(arr.shape), 'data_offsets': [pos, pos + len(b)]}
    chunks.append(b)
    pos += len(b)
text = json.dumps(header).encode('utf-8')
text += b' ' * ((3 - len(text)) % 8)  # pad so the data section is NOT aligned: the reader must copy
open(sys.argv[1], 'wb').write(struct.pack('<Q', len(text)) + text + b''.join(chunks))
print(json.dumps({name: {'shape': list(a.shape), 'hex': a.tobytes().hex()} for name, a in tensors.items()}))
`;

describe('safetensors against an independent Python reader and writer', () => {
  it('TS writes, Python (struct + json + numpy) reads the same values', { skip: pythonSkip }, () => {
    const tensors: Record<string, TensorLike> = {
      W1: { shape: [3, 3], data: specialFloat32() },
      b1: { shape: [9], data: specialFloat64() },
      labels: { shape: [2, 2], data: new Int32Array([0, -1, 2 ** 31 - 1, -(2 ** 31)]) },
      steps: { shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 62n + 1n]) },
      big: { shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
      pixels: { shape: [3], data: new Uint8Array([0, 128, 255]) },
      none: { shape: [0], data: new Float32Array(0) },
      'π': { shape: [], data: new Float64Array([Math.PI]) },
    };
    const path = join(dir, 'from-ts.safetensors');
    saveSafetensors(path, tensors, { epochs: '3', 'clé': 'välue' });
    const py = JSON.parse(runPython(PY_READER, path)) as { metadata: object; tensors: Record<string, { dtype: string; shape: number[]; values: string[] }> };
    assert.deepEqual(py.metadata, { epochs: '3', 'clé': 'välue' });
    assert.deepEqual(Object.keys(py.tensors).sort(), Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const got = py.tensors[name];
      assert.deepEqual(got.shape, t.shape, name);
      const bigints = t.data instanceof BigInt64Array || t.data instanceof BigUint64Array;
      const expected = Array.from(t.data as ArrayLike<number | bigint>);
      got.values.forEach((v, i) => assert.ok(Object.is(bigints ? BigInt(v) : Number(v), expected[i]), `${name}[${i}]: python read ${v}, TS wrote ${expected[i]}`));
      assert.equal(got.values.length, expected.length, name);
    }
  });

  it('Python writes (its own order, unaligned data), TS reads bit-identical values', { skip: pythonSkip }, () => {
    const path = join(dir, 'from-python.safetensors');
    const expected = JSON.parse(runPython(PY_WRITER, path)) as Record<string, { shape: number[]; hex: string }>;
    const file = loadSafetensors(path);
    assert.deepEqual({ ...file.metadata }, { format: 'np', by: 'python' });
    assert.deepEqual(Object.keys(file.tensors), Object.keys(expected)); // file order = Python's order
    for (const [name, { shape, hex: bytes }] of Object.entries(expected)) {
      assert.deepEqual(file.tensors[name].shape, shape, name);
      assert.equal(hex(file.tensors[name].data), bytes, name);
    }
    const weights = file.tensors.weights;
    assert.equal(weights.dtype, 'float32');
    Array.from(weights.data as Float32Array).forEach((v, i) => assert.equal(v, Math.fround(i / 7)));
    assert.deepEqual([...file.tensors.steps.data as BigInt64Array], [2n ** 62n, -1n]);
    assert.ok(Object.is(file.tensors.bias.data[0], -0));
    assert.deepEqual(file.tensors.scale, { dtype: 'float64', shape: [], data: new Float64Array([3.25]) });
  });
});

// ---------------------------------------------------------------------------------------------

describe('hostile safetensors files: a ModelFileError naming the file and field, no large allocation', () => {
  const W = (entry: object): object => ({ W: entry });
  const f32 = (shape: unknown, offsets: unknown): object => W({ dtype: 'F32', shape, data_offsets: offsets });

  it('too short for the header length', () => {
    assertRejected(new Uint8Array(5), 'file is 5 bytes, too short for safetensors (the header length alone takes 8)');
    assertRejected(new Uint8Array(0), 'file is 0 bytes, too short for safetensors (the header length alone takes 8)');
  });

  it('header length past the end of the file, or absurd (2^53, 2^64 − 1)', () => {
    assertRejected(fileBytes('{}', 0, 1000n), 'header length 1000 is past the end of the file (file is 10 bytes)');
    assertRejected(fileBytes('{}', 0, 3n), 'header length 3 is past the end of the file (file is 10 bytes)');
    assertRejected(fileBytes('{}', 0, 2n ** 53n), 'header length 9007199254740992 is past the end of the file (file is 10 bytes)');
    assertRejected(fileBytes('{}', 0, 2n ** 64n - 1n), 'header length 18446744073709551615 is past the end of the file (file is 10 bytes)');
  });

  it('header not UTF-8, not JSON, or not a JSON object', () => {
    const raw = new Uint8Array([...fileBytes('{"')].concat(0xff, 0x22, 0x3a, 0x31, 0x7d)); // {"<ff>":1}
    new DataView(raw.buffer).setBigUint64(0, BigInt(raw.length - 8), true);
    assertRejected(raw, 'header (bytes 8 to 15) is not valid UTF-8');
    assertRejected(fileBytes('{"W": {'), /^model\.safetensors: header is not valid JSON \(.+\)$/);
    assertRejected(fileBytes(''), /^model\.safetensors: header is not valid JSON \(.+\)$/);
    assertRejected(fileBytes('\uFEFF{}'), /^model\.safetensors: header is not valid JSON \(.+\)$/); // a byte-order mark
    assertRejected(fileBytes('[1, 2]'), 'header is an array, not a JSON object');
    assertRejected(fileBytes('"W"'), 'header is a string ("W"), not a JSON object');
    assertRejected(fileBytes('null'), 'header is null, not a JSON object');
  });

  it('an entry that is not an object, has unknown or missing fields', () => {
    assertRejected(fileBytes({ W: 5 }), 'tensor "W" is a number (5), not an object with dtype, shape and data_offsets');
    assertRejected(fileBytes(W({ dtype: 'F32', shape: [0], data_offsets: [0, 0], offset: 3 })), 'tensor "W": unknown field "offset" (a tensor has only dtype, shape and data_offsets)');
    assertRejected(fileBytes(W({ dtype: 'F32', shape: [0] })), 'tensor "W": missing data_offsets');
  });

  it('unknown or unsupported dtype', () => {
    const supported = '(supported: U64, I64, F64, F32, U32, I32, U16, I16, I8, U8)';
    assertRejected(fileBytes(W({ dtype: 'F17', shape: [0], data_offsets: [0, 0] })), `tensor "W": dtype "F17" is not supported ${supported}`);
    assertRejected(fileBytes(W({ dtype: 'F16', shape: [1], data_offsets: [0, 2] }), 2), `tensor "W": dtype "F16" is not supported ${supported}`);
    assertRejected(fileBytes(W({ dtype: 32, shape: [0], data_offsets: [0, 0] })), `tensor "W": dtype 32 is not supported ${supported}`);
  });

  it('shape with negative, fractional, non-number or unsafe entries', () => {
    assertRejected(fileBytes(f32([2, -1], [0, 0])), 'tensor "W": shape [2,-1]: dimension 1 (-1) is not a whole number ≥ 0');
    assertRejected(fileBytes(f32([2.5], [0, 10])), 'tensor "W": shape [2.5]: dimension 0 (2.5) is not a whole number ≥ 0');
    assertRejected(fileBytes(f32(['3'], [0, 12])), 'tensor "W": shape ["3"]: dimension 0 ("3") is not a whole number ≥ 0');
    assertRejected(fileBytes('{"W":{"dtype":"F32","shape":[1e300],"data_offsets":[0,0]}}'), 'tensor "W": shape [1e+300]: dimension 0 (1e+300) is not a whole number ≥ 0');
    assertRejected(fileBytes(f32(3, [0, 12])), 'tensor "W": shape 3 is not a list');
  });
  it('fields nested too deep or too long to show are cut short in the message (JSON.stringify overflowed the stack)', () => {
    const deep = '['.repeat(20000) + ']'.repeat(20000);
    assertRejected(fileBytes(`{"W":{"dtype":"F32","shape":${deep},"data_offsets":[0,0]}}`), 'tensor "W": shape an array nested too deep to show: dimension 0 (an array nested too deep to show) is not a whole number ≥ 0');
    assertRejected(fileBytes(`{"W":{"dtype":${deep},"shape":[],"data_offsets":[0,4]}}`), /^model\.safetensors: tensor "W": dtype an array nested too deep to show is not supported/);
    assertRejected(fileBytes(f32([0], Array(1e5).fill(0))), `tensor "W": data_offsets [${Array(38).fill(0).join(',')},... is not a pair [begin, end] of whole numbers ≥ 0`);
  });

  it('element count overflow ([2^31, 2^31, 2^31]) and huge counts in a small file', () => {
    const d = 2 ** 31;
    assertRejected(fileBytes(f32([d, d, d], [0, 8]), 8), `tensor "W": data_offsets [0, 8] hold 8 bytes but shape [${d},${d},${d}] of F32 needs ${2n ** 95n}`);
    // 2^40 elements whose offsets agree: rejected by the file size, not by a failed allocation
    assertRejected(fileBytes(W({ dtype: 'U8', shape: [2 ** 20, 2 ** 20], data_offsets: [0, 2 ** 40] }), 16),
      'tensor "W": data_offsets [0, 1099511627776] reach past the end of the data section (16 bytes; is the file truncated?)');
  });

  it('data_offsets malformed, reversed, or outside the data section', () => {
    const notPair = (o: string): string => `tensor "W": data_offsets ${o} is not a pair [begin, end] of whole numbers ≥ 0`;
    assertRejected(fileBytes(f32([1], [4])), notPair('[4]'));
    assertRejected(fileBytes(f32([1], [0, 4, 8]), 4), notPair('[0,4,8]'));
    assertRejected(fileBytes(f32([1], [-4, 0])), notPair('[-4,0]'));
    assertRejected(fileBytes(f32([1], [0, 2 ** 53])), notPair('[0,9007199254740992]'));
    assertRejected(fileBytes(f32([1], 'all')), notPair('"all"'));
    assertRejected(fileBytes(f32([1], [8, 4]), 8), 'tensor "W": data_offsets [8, 4] end before they begin');
    assertRejected(fileBytes(f32([1], [8, 12]), 8), 'tensor "W": data_offsets [8, 12] reach past the end of the data section (8 bytes; is the file truncated?)');
  });

  it('offsets whose size disagrees with shape × dtype size', () => {
    assertRejected(fileBytes(f32([784, 50], [0, 100]), 100), 'tensor "W": data_offsets [0, 100] hold 100 bytes but shape [784,50] of F32 needs 156800');
    assertRejected(fileBytes(W({ dtype: 'F64', shape: [2], data_offsets: [0, 8] }), 8), 'tensor "W": data_offsets [0, 8] hold 8 bytes but shape [2] of F64 needs 16');
  });

  it('overlapping tensors, gaps, and bytes before the first tensor', () => {
    const two = (a: number[], b: number[], n: number): Uint8Array =>
      fileBytes({ A: { dtype: 'U8', shape: [a[1] - a[0]], data_offsets: a }, B: { dtype: 'U8', shape: [b[1] - b[0]], data_offsets: b } }, n);
    assertRejected(two([0, 8], [4, 12], 12), 'tensors "A" [0, 8] and "B" [4, 12] overlap in the data section');
    assertRejected(two([0, 8], [0, 8], 8), 'tensors "A" [0, 8] and "B" [0, 8] overlap in the data section');
    assertRejected(two([0, 4], [8, 12], 12), 'bytes 4 to 8 of the data section, between tensors "A" and "B", belong to no tensor');
    assertRejected(two([4, 8], [8, 12], 12), 'bytes 0 to 4 of the data section, before tensor "A", belong to no tensor');
    // zero-size tensors at a boundary take no room and are fine
    assert.equal(Object.keys(parseSafetensors(two([0, 8], [8, 8], 8), NAME).tensors).length, 2);
  });

  it('metadata that is not an object of strings', () => {
    assertRejected(fileBytes({ __metadata__: { epochs: 5 } }), '__metadata__: "epochs" is a number (5), but metadata values must be strings');
    assertRejected(fileBytes({ __metadata__: { a: null } }), '__metadata__: "a" is null, but metadata values must be strings');
    assertRejected(fileBytes({ __metadata__: ['x'] }), '__metadata__ is an array, not an object of strings');
  });

  it('duplicate keys (which JSON.parse would silently merge)', () => {
    const e = '{"dtype":"U8","shape":[1],"data_offsets":[0,1]}';
    assertRejected(fileBytes(`{"W":${e},"W":${e}}`, 1), 'tensor "W" appears twice in the header');
    assertRejected(fileBytes(`{"W":${e}, "\\u0057" : ${e}}`, 1), 'tensor "W" appears twice in the header');
    assertRejected(fileBytes('{"W":{"dtype":"F32","dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1), 'tensor "W": key "dtype" appears twice');
    assertRejected(fileBytes('{"__metadata__":{"a":"1","a":"2"}}'), '__metadata__: key "a" appears twice');
    // a repeated string that is a value, or an escaped quote inside a key, is not a duplicate
    const ok = fileBytes('{"__metadata__":{"a":"a","b\\"":"a"},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1);
    assert.deepEqual({ ...parseSafetensors(ok, NAME).metadata }, { a: 'a', 'b"': 'a' });
  });

  it('a truncated data section and extra trailing bytes', () => {
    const good = serializeSafetensors({ W: { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } });
    assertRejected(good.subarray(0, good.length - 3), 'tensor "W": data_offsets [0, 16] reach past the end of the data section (13 bytes; is the file truncated?)');
    const longer = new Uint8Array([...good, 0, 0, 0, 0]);
    assertRejected(longer, 'the data section is 20 bytes but its tensors cover only 16: 4 extra bytes at the end');
    assertRejected(fileBytes('{}', 3), 'the data section is 3 bytes but its tensors cover only 0: 3 extra bytes at the end');
  });

  it('valid: an empty file ({}), whitespace around the JSON, a subarray of a larger buffer', () => {
    assert.deepEqual({ ...parseSafetensors(fileBytes('{}'), NAME).tensors }, {});
    const spaced = fileBytes('\n { "W" : { "shape" : [1], "dtype" : "I8", "data_offsets" : [0, 1] } }\t  ', new Uint8Array([255]));
    assert.deepEqual(parseSafetensors(spaced, NAME).tensors.W.data, new Int8Array([-1]));
    const bigger = new Uint8Array(spaced.length + 3);
    bigger.set(spaced, 3);
    assert.deepEqual(parseSafetensors(bigger.subarray(3), NAME).tensors.W.data, new Int8Array([-1]));
    // a Node Buffer at an offset in a shared pool (where Buffer#slice would be a view, not a copy)
    const buffer = Buffer.concat([Buffer.alloc(5), spaced]).subarray(5);
    const W = parseSafetensors(buffer, NAME).tensors.W.data;
    buffer.fill(0);
    assert.deepEqual(W, new Int8Array([-1]));
  });
});

describe('serializeSafetensors refuses what it cannot write faithfully', () => {
  const rejects = (tensors: Record<string, unknown>, message: string, metadata?: Record<string, unknown>): void =>
    assert.throws(() => serializeSafetensors(tensors as Record<string, TensorLike>, metadata as Record<string, string>),
      (e: unknown) => e instanceof ModelFileError && e.message === `serializeSafetensors: ${message}`);

  it('shapes that do not fit the data, dtypes that disagree with the array, other arrays, reserved names', () => {
    rejects({ W: { shape: [2, 3], data: new Float32Array(5) } }, 'tensor "W": shape [2,3] holds 6 elements but data has 5');
    rejects({ W: { shape: [-1], data: new Float32Array(1) } }, 'tensor "W": shape [-1] is not a list of whole numbers ≥ 0');
    rejects({ W: { dtype: 'float32', shape: [1], data: new Float64Array(1) } }, 'tensor "W": dtype is float32 but data is a Float64Array');
    rejects({ W: { shape: [1], data: new Uint8ClampedArray(1) } }, 'tensor "W": data is a Uint8ClampedArray, not one of BigUint64Array, BigInt64Array, Float64Array, Float32Array, Uint32Array, Int32Array, Uint16Array, Int16Array, Int8Array, Uint8Array');
    rejects({ W: { shape: [1], data: [1] } }, 'tensor "W": data is an array, not one of BigUint64Array, BigInt64Array, Float64Array, Float32Array, Uint32Array, Int32Array, Uint16Array, Int16Array, Int8Array, Uint8Array');
    rejects({ __metadata__: { shape: [1], data: new Uint8Array(1) } }, '"__metadata__" is reserved for metadata and cannot name a tensor');
    rejects({}, 'metadata "epochs" is a number (5), but metadata values must be strings', { epochs: 5 });
  });
});

describe('saveSafetensors and loadSafetensors on disk', () => {
  const good = { W: { shape: [2], data: new Float32Array([1, 2]) } };

  it('a failed save leaves no temporary file and the previous file intact', () => {
    const sub = join(dir, 'atomic');
    mkdirSync(sub);
    const path = join(sub, NAME);
    saveSafetensors(path, good, { version: '1' });
    const before = readFileSync(path);

    const throwing = { W: { shape: [2], get data(): SafetensorsArray { throw new Error('the backend lost its memory'); } } };
    assert.throws(() => saveSafetensors(path, throwing), /the backend lost its memory/);
    assert.throws(() => saveSafetensors(path, { W: { shape: [3], data: new Float32Array(2) } }),
      { name: 'ModelFileError', message: `cannot save ${path}: tensor "W": shape [3] holds 3 elements but data has 2` });

    // the rename itself fails: the target is a non-empty directory
    const blocked = join(sub, 'blocked.safetensors');
    mkdirSync(blocked);
    writeFileSync(join(blocked, 'keep'), 'x');
    assert.throws(() => saveSafetensors(blocked, good), (e: unknown) => e instanceof ModelFileError && e.message.startsWith(`cannot save ${blocked}: `));

    assert.deepEqual(readFileSync(path), before);
    assert.deepEqual(readdirSync(sub).sort(), ['blocked.safetensors', NAME]);
    assert.deepEqual({ ...loadSafetensors(path).metadata }, { version: '1' });
  });

  it('a missing directory: a clear error and nothing written', () => {
    const missing = join(dir, 'no-such-dir', NAME);
    assert.throws(() => saveSafetensors(missing, good),
      { name: 'ModelFileError', message: `cannot save ${missing}: directory ${join(dir, 'no-such-dir')} does not exist` });
    assert.ok(!readdirSync(dir).includes('no-such-dir'));
  });

  it('loading a missing file or a directory names it', () => {
    const missing = join(dir, 'missing.safetensors');
    assert.throws(() => loadSafetensors(missing), { name: 'ModelFileError', message: `cannot read ${missing}: no such file` });
    assert.throws(() => loadSafetensors(dir), { name: 'ModelFileError', message: `cannot read ${dir}: it is a directory` });
  });

  it('a corrupt file on disk is reported with its path', () => {
    const path = join(dir, 'corrupt.safetensors');
    writeFileSync(path, 'not a model');
    assert.throws(() => loadSafetensors(path), { name: 'ModelFileError', message: /^\S+corrupt\.safetensors: header length \d+ is past the end of the file \(file is 11 bytes\)$/ });
  });
});

describe('expectTensors: a loaded file against an architecture', () => {
  const file = parseSafetensors(serializeSafetensors({
    W1: { shape: [784, 100], data: new Float32Array(78400) },
    b1: { shape: [100], data: new Float32Array(100) },
    W3: { shape: [2], data: new Float64Array(2) },
  }), NAME);

  it('passes when names, shapes and dtypes match', () => {
    expectTensors(file, { W1: { shape: [784, 100], dtype: 'float32' }, b1: { shape: [100] }, W3: { shape: [2], dtype: 'float64' } }, NAME);
  });

  it('reports every missing, unexpected and mismatched tensor by name', () => {
    assert.throws(() => expectTensors(file, { W1: { shape: [784, 50] }, b1: { shape: [100], dtype: 'float64' }, W2: { shape: [50, 10] } }, NAME), {
      name: 'ModelFileError',
      message: 'model.safetensors: tensor "W1" has shape [784,100] but the architecture needs [784,50]; ' +
        'tensor "b1" is float32 but the architecture needs float64; ' +
        'missing tensor "W2" (the architecture needs shape [50,10]); ' +
        'unexpected tensor "W3" (shape [2]), not part of the architecture',
    });
    assert.throws(() => expectTensors(file, { W1: { shape: [784, 100, 1] }, b1: { shape: [100] }, W3: { shape: [2] } }, NAME),
      { message: 'model.safetensors: tensor "W1" has shape [784,100] but the architecture needs [784,100,1]' });
    assert.throws(() => expectTensors(file, { W1: { shape: [784, 100] }, b1: { shape: [100] }, W3: { shape: [2] }, toString: { shape: [1] } }, NAME),
      { message: 'model.safetensors: missing tensor "toString" (the architecture needs shape [1])' });
  });
});
