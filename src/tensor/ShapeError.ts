/** Tensors of incompatible shapes met; the message names the operation or layer and both shapes. */
export class ShapeError extends Error {
  /** 'ShapeError', so printed messages and stack traces name the class. */
  override name = 'ShapeError';
}

/** `[100,784]` — how shapes appear in error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
