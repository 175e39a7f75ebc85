/**
 * A multiply node of a computational graph, on plain numbers (the book's `MulLayer`).
 *
 * Forward: out = x · y. Backward: each input receives dout times the *other* input,
 * dx = dout · y and dy = dout · x.
 *
 * @example
 * const mul = new MulLayer();
 * mul.forward(100, 2);            // 200
 * const [dx, dy] = mul.backward(1.1); // [2.2, 110]
 */
export class MulLayer {
  /** The first input of the last forward pass. */
  x: number | null = null;
  /** The second input of the last forward pass. */
  y: number | null = null;

  /** out = x · y, keeping x and y. */
  forward(x: number, y: number): number {
    this.x = x;
    this.y = y;
    return x * y;
  }

  /** [dx, dy] = [dout · y, dout · x]. */
  backward(dout: number): [dx: number, dy: number] {
    if (this.x === null || this.y === null) {
      throw new Error('MulLayer: backward called before forward');
    }
    return [dout * this.y, dout * this.x]; // dx = dout·y, dy = dout·x
  }
}
