/**
 * The safetensors model file format, as PyTorch and Hugging Face tools read and write it:
 *
 * ```
 * bytes 0..8        N: the header length, unsigned 64-bit little-endian
 * bytes 8..8+N      the header: a UTF-8 JSON object, padded at the end with spaces
 *                   { "__metadata__": { "epochs": "17" },          (optional, string → string)
 *                     "W1": { "dtype": "F32", "shape": [784, 50], "data_offsets": [0, 156800] }, ... }
 * bytes 8+N..end    the data section: each tensor's elements, row-major and little-endian,
 *                   packed without gaps and covering the whole section; data_offsets
 *                   [begin, end) count from the start of this section
 * ```
 *
 * A model file may come from anywhere, so the reader trusts nothing: every length, offset and
 * shape is checked against the file's size (with BigInt, so no product overflows) before any
 * tensor memory is allocated, and every failure is a {@link ModelFileError} naming the file and
 * the field. The writer is deterministic: the same tensors and metadata give the same bytes.
 *
 * Bytes in, bytes out: no file system here (browsers too); safetensorsFiles.ts adds the files.
 */
import { fmtShape } from '../tensor/ShapeError.js';
import { ModelFileError } from './ModelFileError.js';

/** Element types this module reads and writes, named as `Tensor` names them. */
export type SafetensorsDType =
  | 'float64' | 'float32' | 'int64' | 'uint64' | 'int32' | 'uint32' | 'int16' | 'uint16' | 'int8' | 'uint8';

/** The typed array that holds each {@link SafetensorsDType}. */
export type SafetensorsArray =
  | Float64Array | Float32Array | BigInt64Array | BigUint64Array
  | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

/** What can be saved: a `Tensor`, or any shape plus typed array (labels, counters, ...). */
export interface TensorLike {
  /** Checked against the array type if given; otherwise taken from it (Int32Array → int32). */
  readonly dtype?: SafetensorsDType;
  /** The size of each dimension; their product is `data.length` (`[]` for a scalar). */
  readonly shape: readonly number[];
  /** The elements, row-major. */
  readonly data: SafetensorsArray;
}

/** One tensor read from a file. `data` is a fresh copy, aligned, owned by the caller. */
export interface SafetensorsTensor {
  /** The element type, from the header's dtype code (F32 → float32). */
  dtype: SafetensorsDType;
  /** The size of each dimension, as the header gives it. */
  shape: number[];
  /** The elements, row-major, in the typed array of `dtype`. */
  data: SafetensorsArray;
}

/**
 * A parsed file. Both records have no prototype, so a tensor may be named anything (even
 * `__proto__`); tensors appear in the order of their data in the file.
 */
export interface SafetensorsFile {
  /** Every tensor in the file, by its name in the header. */
  tensors: Record<string, SafetensorsTensor>;
  /** The header's `__metadata__` (string → string); empty if the file has none. */
  metadata: Record<string, string>;
}

/** The shape (and optionally dtype) an architecture needs for each of its tensors. */
export type ExpectedTensors = Readonly<Record<string, { readonly shape: readonly number[]; readonly dtype?: SafetensorsDType }>>;

interface DTypeInfo {
  /** As written in the header: 'F32'. */
  readonly code: string;
  readonly name: SafetensorsDType;
  readonly array: { new (buffer: ArrayBuffer, byteOffset: number, length: number): SafetensorsArray; readonly BYTES_PER_ELEMENT: number; readonly name: string };
}

/**
 * Supported dtypes in writing order: the reference writer's (largest element first), which
 * keeps every tensor aligned to its element size, as the header is padded to 8 bytes.
 */
const DTYPES: readonly DTypeInfo[] = [
  { code: 'U64', name: 'uint64', array: BigUint64Array },
  { code: 'I64', name: 'int64', array: BigInt64Array },
  { code: 'F64', name: 'float64', array: Float64Array },
  { code: 'F32', name: 'float32', array: Float32Array },
  { code: 'U32', name: 'uint32', array: Uint32Array },
  { code: 'I32', name: 'int32', array: Int32Array },
  { code: 'U16', name: 'uint16', array: Uint16Array },
  { code: 'I16', name: 'int16', array: Int16Array },
  { code: 'I8', name: 'int8', array: Int8Array },
  { code: 'U8', name: 'uint8', array: Uint8Array },
];

const METADATA = '__metadata__';
const FIELDS = ['dtype', 'shape', 'data_offsets'];
/** The reference reader refuses longer headers too; ours are a few hundred bytes. */
const MAX_HEADER_LENGTH = 100_000_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** `"W1"`: a name quoted and escaped, as it appears in messages. */
const q = (s: string): string => JSON.stringify(s);

/**
 * A value from a file as JSON, for a message: cut to 80 characters, since a hostile header may
 * hold megabytes there, or arrays nested too deep for JSON.stringify.
 * @internal shared with modelFile.ts
 */
export function briefJson(x: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(x) ?? String(x);
  } catch {
    text = `${Array.isArray(x) ? 'an array' : 'an object'} nested too deep to show`;
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * The bytes of a safetensors file holding `tensors` and `metadata`.
 *
 * Tensors are written in the reference writer's order: by dtype (64-bit first), then by name
 * (UTF-16 code-unit order), whatever order the record lists them in; metadata keys are sorted.
 * The header is padded with spaces to a multiple of 8 bytes. Data is copied byte for byte
 * (little-endian; swapped on a big-endian machine), so every float bit pattern (−0,
 * subnormals, ±Infinity, NaN payloads) survives.
 *
 * @throws {ModelFileError} if a name is `__metadata__`, a shape does not fit its data, a
 *   dtype disagrees with its array, or a metadata value is not a string
 *
 * @example
 * const bytes = serializeSafetensors({ W1: net.params.W1, labels: { shape: [3], data: new Int32Array([7, 2, 1]) } },
 *   { epochs: '17' });
 */
export function serializeSafetensors(tensors: Readonly<Record<string, TensorLike>>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  return encode(tensors, metadata, 'serializeSafetensors');
}

/** serializeSafetensors, with errors starting `what:` (safetensors.ts: `cannot save FILE:`). @internal */
export function encode(tensors: Readonly<Record<string, TensorLike>>, metadata: Readonly<Record<string, string>> | undefined, what: string): Uint8Array {
  const bad = (msg: string): ModelFileError => new ModelFileError(`${what}: ${msg}`);
  const items = Object.keys(tensors).map((name) => {
    if (name === METADATA) throw bad(`${q(METADATA)} is reserved for metadata and cannot name a tensor`);
    const { dtype, shape, data } = tensors[name];
    const info = DTYPES.find((d) => data instanceof d.array);
    if (!info) {
      throw bad(`tensor ${q(name)}: data is ${describe(data)}, not one of ${DTYPES.map((d) => d.array.name).join(', ')}`);
    }
    if (dtype !== undefined && dtype !== info.name) throw bad(`tensor ${q(name)}: dtype is ${dtype} but data is a ${info.array.name}`);
    if (!Array.isArray(shape) || !shape.every(isCount)) throw bad(`tensor ${q(name)}: shape ${JSON.stringify(shape)} is not a list of whole numbers ≥ 0`);
    if (elementCount(shape) !== BigInt(data.length)) {
      throw bad(`tensor ${q(name)}: shape ${fmtShape(shape)} holds ${elementCount(shape)} elements but data has ${data.length}`);
    }
    return { name, info, shape: [...shape], bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  });
  items.sort((a, b) => DTYPES.indexOf(a.info) - DTYPES.indexOf(b.info) || compare(a.name, b.name));

  // Null prototypes, so that a tensor or metadata key "__proto__" is an ordinary key.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    const meta: Record<string, string> = Object.create(null);
    for (const key of Object.keys(metadata).sort(compare)) {
      if (typeof metadata[key] !== 'string') throw bad(`metadata ${q(key)} is ${describe(metadata[key])}, but metadata values must be strings`);
      meta[key] = metadata[key];
    }
    header[METADATA] = meta;
  }
  let dataLength = 0;
  for (const { name, info, shape, bytes } of items) {
    header[name] = { dtype: info.code, shape, data_offsets: [dataLength, dataLength + bytes.length] };
    dataLength += bytes.length;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + dataLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength); // pad with spaces
  let pos = 8 + headerLength;
  for (const { info, bytes } of items) {
    out.set(bytes, pos);
    if (!LITTLE_ENDIAN) swapByteOrder(out.subarray(pos, pos + bytes.length), info.array.BYTES_PER_ELEMENT);
    pos += bytes.length;
  }
  return out;
}

/**
 * Reads the bytes of a safetensors file, checking everything before allocating any tensor:
 * the header length against the file size; the header as UTF-8 JSON holding one object, with
 * no key twice; each tensor's dtype, shape and data_offsets (exactly these fields); that the
 * offsets hold exactly shape × dtype size bytes; and that the tensors tile the data section
 * without overlap, gap or trailing bytes. Metadata values must be strings.
 *
 * The data is copied into fresh typed arrays (the data section need not be aligned, and the
 * copies do not keep `bytes` alive), swapping byte order on a big-endian machine.
 *
 * @param name the file name, for messages
 * @throws {ModelFileError} naming `name` and the field at fault
 *
 * @example
 * const { tensors, metadata } = parseSafetensors(readFileSync('model.safetensors'), 'model.safetensors');
 * tensors.W1.shape; // [784, 50]
 */
export function parseSafetensors(bytes: Uint8Array, name: string): SafetensorsFile {
  const bad = (msg: string): ModelFileError => new ModelFileError(`${name}: ${msg}`);
  if (bytes.length < 8) throw bad(`file is ${bytes.length} bytes, too short for safetensors (the header length alone takes 8)`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) throw bad(`header length ${n} is past the end of the file (file is ${bytes.length} bytes)`);
  if (n > MAX_HEADER_LENGTH) throw bad(`header length ${n} is over the limit of ${MAX_HEADER_LENGTH} bytes`);
  const dataStart = 8 + Number(n);
  const dataLength = bytes.length - dataStart;

  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, where JSON.parse refuses it
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    throw bad(`header (bytes 8 to ${dataStart}) is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw bad(`header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) throw bad(`header is ${describe(header)}, not a JSON object`);

  const metadata: Record<string, string> = Object.create(null);
  const entries: { name: string; info: DTypeInfo; shape: number[]; begin: number; end: number }[] = [];
  for (const [key, value] of Object.entries(header)) {
    if (key === METADATA) {
      if (!isPlainObject(value)) throw bad(`${METADATA} is ${describe(value)}, not an object of strings`);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw bad(`${METADATA}: ${q(k)} is ${describe(v)}, but metadata values must be strings`);
        metadata[k] = v;
      }
      continue;
    }
    const where = `tensor ${q(key)}`;
    if (!isPlainObject(value)) throw bad(`${where} is ${describe(value)}, not an object with dtype, shape and data_offsets`);
    const unknown = Object.keys(value).find((f) => !FIELDS.includes(f));
    if (unknown !== undefined) throw bad(`${where}: unknown field ${q(unknown)} (a tensor has only dtype, shape and data_offsets)`);
    const missing = FIELDS.find((f) => !(f in value));
    if (missing !== undefined) throw bad(`${where}: missing ${missing}`);
    const { dtype, shape, data_offsets: offsets } = value;
    const info = DTYPES.find((d) => d.code === dtype);
    if (!info) throw bad(`${where}: dtype ${briefJson(dtype)} is not supported (supported: ${DTYPES.map((d) => d.code).join(', ')})`);
    if (!Array.isArray(shape)) throw bad(`${where}: shape ${briefJson(shape)} is not a list`);
    const badDim = shape.findIndex((d) => !isCount(d));
    if (badDim >= 0) throw bad(`${where}: shape ${briefJson(shape)}: dimension ${badDim} (${briefJson(shape[badDim])}) is not a whole number ≥ 0`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      throw bad(`${where}: data_offsets ${briefJson(offsets)} is not a pair [begin, end] of whole numbers ≥ 0`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end) throw bad(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    const needed = elementCount(shape) * BigInt(info.array.BYTES_PER_ELEMENT);
    if (BigInt(end - begin) !== needed) {
      throw bad(`${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but shape ${fmtShape(shape)} of ${info.code} needs ${needed}`);
    }
    if (end > dataLength) {
      throw bad(`${where}: data_offsets [${begin}, ${end}] reach past the end of the data section (${dataLength} bytes; is the file truncated?)`);
    }
    entries.push({ name: key, info, shape, begin, end });
  }

  // Checked after the entries, so a key found twice sits in the header or in a valid entry.
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) throw bad(duplicate);

  // The tensors must tile the data section: sorted by offset, each begins where the last ended.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  entries.forEach((e, i) => {
    const prev = entries[i - 1];
    if (e.begin < covered) {
      throw bad(`tensors ${q(prev.name)} [${prev.begin}, ${prev.end}] and ${q(e.name)} [${e.begin}, ${e.end}] overlap in the data section`);
    }
    if (e.begin > covered) {
      throw bad(prev
        ? `bytes ${covered} to ${e.begin} of the data section, between tensors ${q(prev.name)} and ${q(e.name)}, belong to no tensor`
        : `bytes 0 to ${e.begin} of the data section, before tensor ${q(e.name)}, belong to no tensor`);
    }
    covered = e.end;
  });
  if (covered !== dataLength) {
    throw bad(`the data section is ${dataLength} bytes but its tensors cover only ${covered}: ${dataLength - covered} extra bytes at the end`);
  }

  // Everything checked: now allocate.
  const tensors: Record<string, SafetensorsTensor> = Object.create(null);
  for (const { name: key, info, shape, begin, end } of entries) {
    // A copy at offset 0 of its own buffer (not bytes.slice: on a Buffer, slice is a view).
    const raw = new Uint8Array(end - begin);
    raw.set(bytes.subarray(dataStart + begin, dataStart + end));
    if (!LITTLE_ENDIAN) swapByteOrder(raw, info.array.BYTES_PER_ELEMENT);
    tensors[key] = { dtype: info.name, shape, data: new info.array(raw.buffer, 0, (end - begin) / info.array.BYTES_PER_ELEMENT) };
  }
  return { tensors, metadata };
}

/**
 * Checks that a loaded file holds exactly the tensors an architecture needs, with the right
 * shapes (and dtypes, where given), reporting every missing, unexpected and mismatched tensor
 * by name in one error.
 *
 * @throws {ModelFileError} e.g. `model.safetensors: tensor "W1" has shape [784,100] but the architecture needs [784,50]`
 *
 * @example
 * expectTensors(loadSafetensors(path), { W1: { shape: [784, 50], dtype: 'float32' }, b1: { shape: [50] } }, path);
 */
export function expectTensors(file: SafetensorsFile, expected: ExpectedTensors, fileName: string): void {
  const problems: string[] = [];
  for (const [name, want] of Object.entries(expected)) {
    const got = Object.hasOwn(file.tensors, name) ? file.tensors[name] : undefined;
    if (!got) {
      problems.push(`missing tensor ${q(name)} (the architecture needs shape ${fmtShape(want.shape)})`);
      continue;
    }
    if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
      problems.push(`tensor ${q(name)} has shape ${fmtShape(got.shape)} but the architecture needs ${fmtShape(want.shape)}`);
    }
    if (want.dtype !== undefined && got.dtype !== want.dtype) {
      problems.push(`tensor ${q(name)} is ${got.dtype} but the architecture needs ${want.dtype}`);
    }
  }
  for (const name of Object.keys(file.tensors)) {
    if (!Object.hasOwn(expected, name)) problems.push(`unexpected tensor ${q(name)} (shape ${fmtShape(file.tensors[name].shape)}), not part of the architecture`);
  }
  if (problems.length > 0) throw new ModelFileError(`${fileName}: ${problems.join('; ')}`);
}

/**
 * Reverses the bytes of each `size`-byte element in place: little-endian ↔ big-endian.
 * @internal exported for tests; only a big-endian machine needs it.
 */
export function swapByteOrder(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) [bytes[a], bytes[b]] = [bytes[b], bytes[a]];
  }
}

/**
 * The first key that appears twice in one object of `text` (valid JSON), described for a
 * message; JSON.parse itself silently keeps the last. Keys are compared after unescaping.
 */
function findDuplicateKey(text: string): string | undefined {
  const open: { keys: Set<string> | null; owner: string | undefined }[] = []; // null: an array
  let lastKey: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') open.push({ keys: c === '{' ? new Set() : null, owner: lastKey });
    else if (c === '}' || c === ']') open.pop();
    else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const s = JSON.parse(text.slice(i, j + 1)) as string;
      i = j;
      while (' \t\r\n'.includes(text[j + 1])) j++;
      const top = open[open.length - 1];
      if (text[j + 1] !== ':' || !top.keys) continue; // a value, not a key
      if (top.keys.has(s)) {
        return open.length === 1 ? `tensor ${q(s)} appears twice in the header` : `${top.owner === METADATA ? METADATA : `tensor ${q(top.owner ?? '')}`}: key ${q(s)} appears twice`;
      }
      top.keys.add(s);
      lastKey = s;
    }
  }
  return undefined;
}

/** Π shape, exactly. */
function elementCount(shape: readonly number[]): bigint {
  return shape.reduce((n, d) => n * BigInt(d), 1n);
}

function isCount(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** 'a number (5)', 'an array', 'null', ... for messages about a value of the wrong kind. */
function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return 'an array';
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name}`;
  if (typeof x === 'object') return 'an object';
  return `a ${typeof x} (${typeof x === 'string' ? q(x) : String(x)})`;
}
