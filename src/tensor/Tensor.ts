import type { Backend, DType, FloatArray, Storage } from '../kernels/Backend.js';
import { getBackend } from '../kernels/registry.js';
import { ShapeError, fmtShape } from './ShapeError.js';

/** Where and how a new tensor is stored. */
export interface TensorOptions {
  /** 'float32' (default) or 'float64' (gradient checks, exact book reproductions). */
  dtype?: DType;
  /** The backend that owns the storage; the current default backend if omitted. */
  backend?: Backend;
}

/** Nested number arrays, as `Tensor.from([[1, 2], [3, 4]])` takes them. */
export type NestedArray = number | NestedArray[];

/**
 * A shape plus one contiguous row-major array of floats, owned by a backend.
 *
 * @example
 * ```ts
 * import { Tensor, ops } from 'backprop-ts';
 *
 * const x = Tensor.from([[1, 2, 3], [4, 5, 6]]);       // float32; Tensor.from(values, { dtype: 'float64' })
 * const W = Tensor.from([1, 0, 0, 1, 1, 1], [3, 2]);   // a flat list and a shape
 * console.log(x.shape, x.get(1, 2), ops.matmul(x, W).toArray());   // [2, 3] 6 [[4, 5], [10, 11]]
 * ```
 */
export class Tensor {
  /** The dimensions, outermost first (frozen). */
  readonly shape: readonly number[];
  /** Number of elements: the product of the shape. */
  readonly size: number;

  /**
   * Wrap storage a backend allocated (use Tensor.from or Tensor.zeros to make a tensor).
   * @param shape The dimensions; their product must equal storage.length.
   * @param storage The elements, owned by `backend`.
   * @param backend The backend that allocated `storage` and runs the operations on it.
   */
  constructor(shape: readonly number[], readonly storage: Storage, readonly backend: Backend) {
    const size = shapeSize(shape);
    if (size !== storage.length) {
      throw new ShapeError(`Tensor: shape ${fmtShape(shape)} holds ${size} elements but the storage has ${storage.length}`);
    }
    this.shape = Object.freeze([...shape]);
    this.size = size;
  }

  /** The elements, row-major. Always read it afresh: a backend's memory may move. */
  get data(): FloatArray {
    return this.storage.data;
  }

  /** 'float32' or 'float64'. */
  get dtype(): DType {
    return this.storage.dtype;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** A zero-filled tensor. */
  static zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
    const backend = options.backend ?? getBackend();
    return new Tensor(shape, backend.alloc(shapeSize(shape), options.dtype ?? 'float32'), backend);
  }

  /**
   * A tensor whose elements are unspecified (whatever its backend's memory held): only for an
   * output that is written in full before anything reads it, as the operations' results are.
   */
  static empty(shape: readonly number[], options: TensorOptions = {}): Tensor {
    const backend = options.backend ?? getBackend();
    const length = shapeSize(shape);
    const dtype = options.dtype ?? 'float32';
    return new Tensor(shape, backend.allocUninitialized?.(length, dtype) ?? backend.alloc(length, dtype), backend);
  }

  /**
   * A tensor from nested arrays (shape inferred), or from a flat list and a shape.
   *
   * @example
   * Tensor.from([[1, 2], [3, 4]]);                  // shape [2, 2], float32
   * Tensor.from([1, 2, 3], { dtype: 'float64' });   // shape [3], float64
   * Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]);        // a flat list and a shape
   * Tensor.from([1, 2, 3, 4], [2, 2], { dtype: 'float64' });
   */
  static from(values: NestedArray | ArrayLike<number>, options?: TensorOptions): Tensor;
  static from(values: NestedArray | ArrayLike<number>, shape?: readonly number[], options?: TensorOptions): Tensor;
  static from(values: NestedArray | ArrayLike<number>, shapeOrOptions?: readonly number[] | TensorOptions, options: TensorOptions = {}): Tensor {
    let shape: readonly number[] | undefined;
    if (shapeOrOptions === undefined || Array.isArray(shapeOrOptions)) shape = shapeOrOptions as readonly number[] | undefined;
    else if (typeof shapeOrOptions === 'object' && shapeOrOptions !== null && !ArrayBuffer.isView(shapeOrOptions)) options = shapeOrOptions as TensorOptions;
    else throw new TypeError(`Tensor.from: the second argument must be a shape (an array of dimensions) or options ({ dtype, backend }), got ${describe(shapeOrOptions)}`);
    const isView = ArrayBuffer.isView(values);
    const flat: ArrayLike<number> = isView
      ? (values as ArrayLike<number>)
      : typeof values === 'number' ? [values] : ((values as unknown[]).flat(Infinity) as number[]);
    shape ??= isView ? [flat.length] : inferShape(values as NestedArray);
    const t = Tensor.zeros(shape, options);
    if (flat.length !== t.size) {
      throw new ShapeError(`Tensor.from: ${flat.length} values do not fill shape ${fmtShape(shape)} (${t.size} elements)`);
    }
    t.data.set(flat);
    return t;
  }

  /** The same elements seen with another shape (one dimension may be −1); shares storage. */
  reshape(shape: readonly number[]): Tensor {
    const known = shape.filter((d) => d !== -1);
    const missing = shape.length - known.length;
    const knownSize = shapeSize(known);
    if (missing > 1 || (missing === 1 && (knownSize === 0 || this.size % knownSize !== 0))) {
      throw new ShapeError(`reshape: cannot view ${fmtShape(this.shape)} as ${fmtShape(shape)}`);
    }
    const full = shape.map((d) => (d === -1 ? this.size / knownSize : d));
    if (shapeSize(full) !== this.size) {
      throw new ShapeError(`reshape: cannot view ${fmtShape(this.shape)} (${this.size} elements) as ${fmtShape(shape)}`);
    }
    return new Tensor(full, this.storage, this.backend);
  }

  /** Rows start..end (exclusive) of the first axis, sharing this tensor's storage (no copy). */
  rows(start: number, end: number): Tensor {
    const count = this.shape[0] ?? 0;
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= count)) {
      throw new RangeError(`Tensor.rows: ${start}..${end} is not a range of rows of shape ${fmtShape(this.shape)}`);
    }
    if (start === 0 && end === count) return this;
    const rowSize = count === 0 ? 0 : this.size / count;
    return new Tensor([end - start, ...this.shape.slice(1)], new RowsStorage(this.storage, start * rowSize, (end - start) * rowSize), this.backend);
  }

  /** A copy with its own storage, optionally in another dtype. */
  clone(options: TensorOptions = {}): Tensor {
    const t = Tensor.zeros(this.shape, { dtype: options.dtype ?? this.dtype, backend: options.backend ?? this.backend });
    t.data.set(this.data);
    return t;
  }

  /** The element at the given indices. */
  get(...index: number[]): number {
    return this.data[this.offset(index)];
  }

  /** Write one element. */
  set(value: number, ...index: number[]): void {
    this.data[this.offset(index)] = value;
  }

  /** Nested arrays, for printing and tests. */
  toArray(): NestedArray {
    const data = this.data;
    const build = (dim: number, off: number): NestedArray => {
      if (dim === this.shape.length) return data[off];
      const stride = shapeSize(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, off + i * stride));
    };
    return build(0, 0);
  }

  /** `Tensor([2,3], float32) [[…]]`: shape, dtype and elements. */
  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}) ${JSON.stringify(this.toArray())}`;
  }

  private offset(index: number[]): number {
    if (index.length !== this.shape.length) {
      throw new ShapeError(`Tensor.get: ${index.length} indices for shape ${fmtShape(this.shape)}`);
    }
    let off = 0;
    for (let d = 0; d < index.length; d++) {
      if (!(index[d] >= 0 && index[d] < this.shape[d])) {
        throw new RangeError(`Tensor: index ${index[d]} out of range for dimension ${d} of shape ${fmtShape(this.shape)}`);
      }
      off = off * this.shape[d] + index[d];
    }
    return off;
  }
}

/** Holds a row view's parent storage (see RowsStorage.data). */
const PARENT = Symbol('parent storage');

/** A run of another storage's elements (Tensor.rows); its view is re-made from the parent's each time, as that may move. */
class RowsStorage implements Storage {
  constructor(private readonly parent: Storage, private readonly offset: number, readonly length: number) {}

  /** The rows' elements; the view keeps the parent storage reachable, so a backend cannot free or reuse it while the view lives. */
  get data(): FloatArray {
    const view = this.parent.data.subarray(this.offset, this.offset + this.length);
    Object.defineProperty(view, PARENT, { value: this.parent });
    return view;
  }

  get dtype(): DType {
    return this.parent.dtype;
  }
}

/** Product of the dimensions; validates each is a non-negative integer. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid shape ${fmtShape(shape)}: dimensions must be whole numbers ≥ 0`);
    n *= d;
  }
  return n;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value === 'string' ? `'${value}'` : typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function inferShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let v: NestedArray = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}
