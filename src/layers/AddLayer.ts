/**
 * An add node of a computational graph, on plain numbers (the book's `AddLayer`).
 *
 * Forward: out = x + y. Backward: dout passes on unchanged to both inputs.
 *
 * @example
 * const add = new AddLayer();
 * add.forward(200, 450);           // 650
 * const [dx, dy] = add.backward(1.1); // [1.1, 1.1]
 */
export class AddLayer {
  /** out = x + y. */
  forward(x: number, y: number): number {
    return x + y;
  }

  /** [dx, dy] = [dout, dout]. */
  backward(dout: number): [dx: number, dy: number] {
    return [dout * 1, dout * 1]; // ∂(x+y)/∂x = ∂(x+y)/∂y = 1
  }
}
