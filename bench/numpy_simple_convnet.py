#!/usr/bin/env python3
"""The book's SimpleConvNet (Deep Learning from Scratch, ch. 7) trained by Adam in NumPy: the reference of bench/conv.ts.

Written after the book's ch07/simple_convnet.py, common/layers.py (Convolution, Pooling, Relu,
Affine, SoftmaxWithLoss), common/util.py (im2col, col2im) and common/optimizer.py (Adam), run as
ch07/train_convnet.py runs it: 1x28x28 images in float32 (load_mnist(flatten=False)), class
labels (not one-hot), conv 30 filters 5x5 stride 1 pad 0 -> ReLU -> max pool 2x2 stride 2 ->
Affine 4320x100 -> ReLU -> Affine 100x10 -> SoftmaxWithLoss, Adam lr 0.001, batch 100.
The weights are float64 (np.random.randn), so im2col's col and everything after it is float64.

One step = gather the batch, gradient (forward with loss, backward through every layer), Adam
update. Like src/train/train.ts it keeps the loss of the gradient's own forward pass and skips
the second forward pass the book's Trainer.train_step makes only to print the loss.

The data, the initial weights and the batch indices come from the files bench/conv.ts writes.

Variants:
  f64-book  float64 weights, the book's code as is (Conv1.backward also computes dx by col2im, which nobody uses)
  f32-book  the same code with float32 weights and buffers
  f32       float32, Conv1's unused input gradient skipped: the same work as src/nets/SimpleConvNet.ts
  jax       JAX on CPU, jax.jit of the same step (float32, same work; gather inside the jitted step)

Threads: set OPENBLAS_NUM_THREADS before starting this script. It serves steps: after a line
{"ready": true, ...} on stdout, each line 'VARIANT COUNT' on stdin runs COUNT more steps of that
variant and is answered by one JSON line {"ms": [...], "losses": [...]}; 'quit' (or EOF) ends it.

Usage: python3 numpy_simple_convnet.py --manifest DIR/manifest.json --variants f64-book,f32,jax
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The book's Relu, Affine and SoftmaxWithLoss (common/layers.py), as the two-layer reference has them.
from numpy_two_layer import Affine, Relu, SoftmaxWithLoss, machine_info  # noqa: E402


# ---------------------------------------------------------------- common/util.py
def im2col(input_data, filter_h, filter_w, stride=1, pad=0, dtype=np.float64):
    """(N, C, H, W) -> (N*out_h*out_w, C*filter_h*filter_w); the book allocates col with np.zeros (float64)."""
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)], 'constant')
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w), dtype=dtype)
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            col[:, :, y, x, :, :] = img[:, :, y:y_max:stride, x:x_max:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """The adjoint of im2col: each window's values added back to where they came from."""
    N, C, H, W = input_shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1), dtype=col.dtype)
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]
    return img[:, :, pad:H + pad, pad:W + pad]


# ---------------------------------------------------------------- common/layers.py
class Convolution:
    def __init__(self, W, b, stride=1, pad=0, skip_input_grad=False):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad
        self.skip_input_grad = skip_input_grad
        self.x = self.col = self.col_W = self.dW = self.db = None

    def forward(self, x):
        FN, C, FH, FW = self.W.shape
        N, C, H, W = x.shape
        out_h = 1 + int((H + 2 * self.pad - FH) / self.stride)
        out_w = 1 + int((W + 2 * self.pad - FW) / self.stride)
        col = im2col(x, FH, FW, self.stride, self.pad, dtype=self.W.dtype)
        col_W = self.W.reshape(FN, -1).T
        out = np.dot(col, col_W) + self.b
        out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)
        self.x, self.col, self.col_W = x, col, col_W
        return out

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout).transpose(1, 0).reshape(FN, C, FH, FW)
        if self.skip_input_grad:  # what src/nets/SimpleConvNet.ts does for its first layer
            return None
        dcol = np.dot(dout, self.col_W.T)
        return col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)


class Pooling:
    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad
        self.x = self.arg_max = None

    def forward(self, x):
        N, C, H, W = x.shape
        out_h = int(1 + (H - self.pool_h) / self.stride)
        out_w = int(1 + (W - self.pool_w) / self.stride)
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad, dtype=x.dtype)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1).reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)
        self.x, self.arg_max = x, arg_max
        return out

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size), dtype=dout.dtype)
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dmax = dmax.reshape(dout.shape + (pool_size,))
        dcol = dmax.reshape(dmax.shape[0] * dmax.shape[1] * dmax.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


# ---------------------------------------------------------------- common/optimizer.py
class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter = 0
        self.m = self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m = {k: np.zeros_like(v) for k, v in params.items()}
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


# ---------------------------------------------------------------- ch07/simple_convnet.py
PARAM_NAMES = ('W1', 'b1', 'W2', 'b2', 'W3', 'b3')


class SimpleConvNet:
    """The book's net, with the initial weights given (bench/conv.ts draws them) instead of drawn here."""

    def __init__(self, init, dtype, skip_input_grad=False):
        self.params = {k: init[k].astype(dtype) for k in PARAM_NAMES}
        p = self.params
        self.layers = [
            Convolution(p['W1'], p['b1'], 1, 0, skip_input_grad),
            Relu(),
            Pooling(2, 2, stride=2),
            Affine(p['W2'], p['b2']),
            Relu(),
            Affine(p['W3'], p['b3']),
        ]
        self.last_layer = SoftmaxWithLoss()

    def loss(self, x, t):
        for layer in self.layers:
            x = layer.forward(x)
        return self.last_layer.forward(x, t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        conv, a1, a2 = self.layers[0], self.layers[3], self.layers[5]
        return {'W1': conv.dW, 'b1': conv.db, 'W2': a1.dW, 'b2': a1.db, 'W3': a2.dW, 'b3': a2.db}


# ---------------------------------------------------------------- the bench
VARIANTS = {'f64-book': (np.float64, False), 'f32-book': (np.float32, False), 'f32': (np.float32, True)}


def load(manifest):
    """Training images as float32 (N, 1, 28, 28) / 255, labels, initial weights (float64) and batch indices."""
    d = os.path.dirname(os.path.abspath(manifest['path']))

    def arr(name, dtype, shape):
        return np.fromfile(os.path.join(d, name), dtype=dtype).reshape(shape)

    c, h, w = manifest['inputDim']
    n = manifest['trainCount']
    # load_mnist(normalize=True, flatten=False): astype(float32), then /= 255
    x_train = arr('train-images.u8', np.uint8, (n, c, h, w)).astype(np.float32)
    x_train /= 255.0
    init = {k: arr(f'{k}.f64', np.float64, tuple(manifest['shapes'][k])) for k in PARAM_NAMES}
    return {
        'x_train': x_train,
        't_train': arr('train-labels.u8', np.uint8, (n,)).astype(np.int64),
        'init': init,
        'batches': arr('batches.i32', np.int32, (manifest['iters'], manifest['batchSize'])),
    }


def book_stepper(name, data, manifest):
    """The book's Trainer.train_step (without its second forward pass): returns step(i) -> the batch loss."""
    dtype, skip = VARIANTS[name]
    net = SimpleConvNet(data['init'], dtype, skip)
    optimizer = Adam(lr=manifest['lr'])
    x_train, t_train, batches = data['x_train'], data['t_train'], data['batches']

    def step(i):
        batch_mask = batches[i]
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        grads = net.gradient(x_batch, t_batch)
        optimizer.update(net.params, grads)
        return float(net.last_layer.loss)

    return step


def jax_stepper(data, manifest):
    """jax.jit of the same step (float32): gather, forward, jax.value_and_grad, the book's Adam."""
    import jax
    import jax.numpy as jnp

    x_train, t_train = jnp.asarray(data['x_train']), jnp.asarray(data['t_train'].astype(np.int32))
    params = tuple(jnp.asarray(data['init'][k], jnp.float32) for k in PARAM_NAMES)
    lr, beta1, beta2 = manifest['lr'], 0.9, 0.999

    @jax.custom_vjp
    def softmax_with_loss(a, t):
        y = jax.nn.softmax(a, axis=1)
        return -jnp.sum(jnp.log(y[jnp.arange(a.shape[0]), t] + 1e-7)) / a.shape[0]

    def softmax_with_loss_fwd(a, t):
        y = jax.nn.softmax(a, axis=1)
        return -jnp.sum(jnp.log(y[jnp.arange(a.shape[0]), t] + 1e-7)) / a.shape[0], (y, t)

    def softmax_with_loss_bwd(res, g):
        y, t = res  # SoftmaxWithLoss.backward: (y - t) / batch_size, as the book (not the derivative of log(y + 1e-7))
        return g * (y - jax.nn.one_hot(t, y.shape[1], dtype=y.dtype)) / y.shape[0], None

    softmax_with_loss.defvjp(softmax_with_loss_fwd, softmax_with_loss_bwd)

    def loss_of(params, x, t):
        W1, b1, W2, b2, W3, b3 = params
        n = x.shape[0]
        a = jax.lax.conv_general_dilated(x, W1, (1, 1), 'VALID', dimension_numbers=('NCHW', 'OIHW', 'NCHW'))
        # ReLU as the book's mask (x <= 0 -> 0, gradient 0 there too); jnp.maximum(a, 0) would pass half
        # the gradient where a == 0, which blank image regions give exactly while b1 is still 0
        a = a + b1[None, :, None, None]
        a = jnp.where(a > 0, a, 0)
        N, C, H, W = a.shape
        a = a.reshape(N, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))  # 2x2 max pool, stride 2
        a = a.reshape(n, -1) @ W2 + b2
        a = jnp.where(a > 0, a, 0)
        return softmax_with_loss(a @ W3 + b3, t)

    @jax.jit
    def step(params, m, v, lr_t, idx):
        x, t = x_train[idx], t_train[idx]  # x_batch = x_train[batch_mask]
        loss, grads = jax.value_and_grad(loss_of)(params, x, t)
        m = tuple(mi + (1 - beta1) * (g - mi) for mi, g in zip(m, grads))
        v = tuple(vi + (1 - beta2) * (g * g - vi) for vi, g in zip(v, grads))
        params = tuple(p - lr_t * mi / (jnp.sqrt(vi) + 1e-7) for p, mi, vi in zip(params, m, v))
        return params, m, v, loss

    state = {'p': params, 'm': tuple(jnp.zeros_like(p) for p in params), 'v': tuple(jnp.zeros_like(p) for p in params)}
    batches = jnp.asarray(data['batches'])

    def one(i):
        it = i + 1  # lr_t in float64, as the book's Adam computes it (1 - beta2**it in float32 loses 5 digits)
        lr_t = lr * np.sqrt(1.0 - beta2 ** it) / (1.0 - beta1 ** it)
        state['p'], state['m'], state['v'], loss = step(state['p'], state['m'], state['v'], jnp.float32(lr_t), batches[i])
        return float(loss)  # waits for the step, as the others do when they read their loss

    return one, {'jax': jax.__version__, 'devices': [str(d) for d in jax.devices()]}


def serve(names, data, manifest):
    """Builds every variant's net, then for each line 'VARIANT COUNT' on stdin runs COUNT more steps
    of it and answers with one JSON line: each step's ms and loss. bench/conv.ts alternates them
    with its own rows in short runs, so a change of machine load hits all alike."""
    steppers, extra = {}, {}
    for name in names:
        if name == 'jax':
            steppers[name], info = jax_stepper(data, manifest)
            extra.update(info)
        else:
            steppers[name] = book_stepper(name, data, manifest)
    done = {name: 0 for name in names}
    print(json.dumps({'ready': True, 'info': machine_info(), **extra}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == 'quit':
            break
        name, count = words[0], int(words[1])
        ms, losses = [], []
        for _ in range(count):
            t0 = time.perf_counter()
            losses.append(steppers[name](done[name]))
            ms.append((time.perf_counter() - t0) * 1000)
            done[name] += 1
        print(json.dumps({'ms': ms, 'losses': losses}), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--manifest', required=True)
    p.add_argument('--variants', default='f64-book')
    args = p.parse_args()
    with open(args.manifest) as f:
        manifest = json.load(f)
    manifest['path'] = args.manifest
    names = [v for v in args.variants.split(',') if v]
    for name in names:
        if name != 'jax' and name not in VARIANTS:
            sys.exit(f'numpy_simple_convnet.py: unknown variant {name!r} (choose from {", ".join([*VARIANTS, "jax"])})')
    serve(names, load(manifest), manifest)


if __name__ == '__main__':
    main()
