import type { Tensor } from '../tensor/Tensor.js';

/**
 * A layer of a network, as in the book: `forward` keeps what `backward` needs, and
 * `backward(dout)` returns the gradient of the loss with respect to the layer's input,
 * storing the gradients of its parameters (e.g. `dW`, `db`).
 *
 * The tensors a layer returns are buffers it owns and reuses on the next call with the same
 * shapes (so training allocates nothing after its first step): read or copy them before
 * calling the same layer again. No layer modifies the tensors it is given.
 */
export interface Layer {
  /** The output for input x, keeping what backward needs. */
  forward(x: Tensor): Tensor;
  /** dx = ∂L/∂x from dout = ∂L/∂out, storing the parameters' gradients. */
  backward(dout: Tensor): Tensor;
}
