import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/Tensor.js';
import { ShapeError } from '../../src/tensor/ShapeError.js';
import { Random } from '../../src/random.js';
import { AutogradError, F, Linear, Model, Parameter, Variable, noGrad, type VariableLike } from '../../src/autograd/index.js';
import { SGD } from '../../src/optimizers/SGD.js';
import { Adam } from '../../src/optimizers/Adam.js';
import { assertClose, randn } from '../helpers.js';

const f64 = { dtype: 'float64' } as const;
const value = (v: Variable | null): number => {
  assert.ok(v, 'expected a gradient');
  return v.data.data[0];
};

describe('Variable', () => {
  it('wraps a Tensor, a number or nested arrays, with name and dtype', () => {
    const t = Tensor.from([1, 2]);
    assert.equal(new Variable(t).data, t);
    assert.deepEqual(new Variable(3).shape, []);
    const v = new Variable([[1, 2, 3]], { name: 'x', dtype: 'float64' });
    assert.deepEqual([v.shape, v.name, v.dtype, v.grad], [[1, 3], 'x', 'float64', null]);
    assert.equal(new Variable(t, f64).dtype, 'float64');
  });

  it('every op accepts Variables, Tensors, numbers and nested arrays: F.add(x, 1), F.mul(2, x), F.pow(x, 3)', () => {
    const x = new Variable([1, 2], f64);
    assert.deepEqual(F.add(x, 1).data.toArray(), [2, 3]);
    assert.deepEqual(F.mul(2, x).data.toArray(), [2, 4]);
    assert.deepEqual(F.pow(x, 3).data.toArray(), [1, 8]);
    assert.deepEqual(F.sub([[10], [20]], x).data.toArray(), [[9, 8], [19, 18]]);
    assert.deepEqual(F.add(x, Tensor.from([1, 1], undefined, f64)).data.toArray(), [2, 3]);
    assert.equal(F.mul(2, x).dtype, 'float64', 'a number takes the Variable\'s dtype');
  });

  it('forward values, computed by hand: broadcasting, sum over axes, max, transpose, getItem, softmax', () => {
    const a = new Variable([[1, 2, 3], [4, 5, 6]], f64);
    assert.deepEqual(F.add(a, [10, 20, 30]).data.toArray(), [[11, 22, 33], [14, 25, 36]]);
    assert.deepEqual(F.mul(a, [[2], [3]]).data.toArray(), [[2, 4, 6], [12, 15, 18]]);
    assert.deepEqual(F.sum(a, 0).data.toArray(), [5, 7, 9]);
    assert.deepEqual(F.sum(a, 1, true).data.toArray(), [[6], [15]]);
    assert.equal(F.sum(a).data.data[0], 21);
    assert.deepEqual(F.mean(a, 1).data.toArray(), [2, 5]);
    assert.deepEqual(F.max(a, 0).data.toArray(), [4, 5, 6]);
    assert.deepEqual(a.T.data.toArray(), [[1, 4], [2, 5], [3, 6]]);
    assert.deepEqual(F.getItem(a, 1).data.toArray(), [4, 5, 6]);
    assert.deepEqual(F.getItem(a, [1, 1, 0]).data.toArray(), [[4, 5, 6], [4, 5, 6], [1, 2, 3]]);
    assert.deepEqual(F.getItem(a, { step: -1 }).data.toArray(), [[4, 5, 6], [1, 2, 3]]);
    assert.deepEqual(F.sumTo(a, [1, 3]).data.toArray(), [[5, 7, 9]]);
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)], s = e[0] + e[1] + e[2];
    assertClose(F.softmax(a).data.data.slice(0, 3), e.map((v) => v / s), 1e-15, 'softmax');
    assertClose(F.logSoftmax(a).data.data.slice(0, 3), e.map((v) => Math.log(v / s)), 1e-15, 'logSoftmax');
    const t = new Variable([[1, 2], [3, 4]], f64);
    assert.equal(F.meanSquaredError(t, [[0, 0], [0, 0]]).data.data[0], (1 + 4 + 9 + 16) / 2);
  });
});

describe('backward', () => {
  it('accumulates: x·x gives 2x, and x + x gives 2', () => {
    const x = new Variable(3, f64);
    F.mul(x, x).backward();
    assert.equal(value(x.grad), 6);
    const y = new Variable(3, f64);
    F.add(y, y).backward();
    assert.equal(value(y.grad), 2);
  });

  it('runs in topological order: a reused subgraph counts once per use (DeZero step 16: y = (x²)² + (x²)², dy/dx = 64 at 2)', () => {
    const x = new Variable(2, f64);
    const a = F.pow(x, 2);
    const y = F.add(F.pow(a, 2), F.pow(a, 2));
    y.backward();
    assert.equal(value(y), 32);
    assert.equal(value(x.grad), 64); // 16x³
  });

  it('a second backward adds to the leaves\' gradients until cleargrad', () => {
    const x = new Variable(3, f64);
    F.mul(x, 2).backward();
    F.mul(x, 2).backward();
    assert.equal(value(x.grad), 4);
    x.cleargrad();
    assert.equal(x.grad, null);
    F.mul(x, 2).backward();
    assert.equal(value(x.grad), 2);
  });

  it('frees intermediate gradients unless retainGrad', () => {
    const x = new Variable(2, f64);
    const a = F.exp(x), b = F.mul(a, 3);
    b.backward();
    assert.equal(a.grad, null);
    assert.equal(b.grad, null);
    assert.ok(x.grad);
    const a2 = F.exp(x), b2 = F.mul(a2, 3);
    b2.backward({ retainGrad: true });
    assert.equal(value(a2.grad), 3);
    assert.equal(value(b2.grad), 1);
  });

  it('noGrad runs without recording: no creator, nothing to backpropagate', () => {
    const x = new Variable([1, 2], f64);
    const y = noGrad(() => F.sum(F.mul(x, x)));
    assert.equal(y.creator, null);
    assert.equal(y.requiresGrad, false);
    y.backward();
    assert.equal(x.grad, null);
    assert.ok(F.mul(x, x).creator, 'recording is back on afterwards');
  });

  it('constants (Tensors, numbers) get no gradient and are not differentiated', () => {
    const W = new Variable([[1], [2]], f64);
    const x = Tensor.from([[3, 4]], undefined, f64);
    const y = F.matmul(x, W);
    y.backward();
    assert.deepEqual(W.grad!.data.toArray(), [[3], [4]]);
    assert.equal(F.matmul(x, x.reshape([2, 1])).requiresGrad, false);
  });

  it('says so when the output is not a scalar and has no gradient', () => {
    const y = F.mul(new Variable([[1, 2, 3], [4, 5, 6]]), 2);
    assert.throws(() => y.backward(), (e: Error) => e instanceof AutogradError &&
      /backward: the output has shape \(2, 3\), not a scalar, and no gradient; reduce it first \(y\.sum\(\)\.backward\(\)\) or set y\.grad/.test(e.message));
    y.grad = new Variable([[1, 1, 1], [1, 1, 1]]);
    y.backward();
  });

  it('shape errors name the op, both shapes and the broadcasting rule', () => {
    const a = new Variable([[1, 2, 3], [4, 5, 6]]), b = new Variable([1, 2]);
    assert.throws(() => F.add(a, b), (e: Error) => e instanceof ShapeError &&
      e.message === 'add: shapes [2,3] and [2] do not broadcast: aligned from the right, axis −1 has 3 and 2 (NumPy\'s rule: each pair of dimensions must be equal or one of them 1)');
    assert.throws(() => F.mul(new Variable(Tensor.zeros([4, 1, 3])), new Variable(Tensor.zeros([2, 5, 3]))), /^ShapeError: mul: shapes \[4,1,3\] and \[2,5,3\] do not broadcast: aligned from the right, axis −3 has 4 and 2/);
    assert.throws(() => F.matmul(a, a), /matmul: inner dimensions differ: op\(A\) is 2×3, op\(B\) is 2×3/);
    assert.throws(() => F.broadcastTo(a, [3, 3]), /broadcastTo: shapes \[2,3\] and \[3,3\] do not broadcast/);
    assert.throws(() => F.sum(a, 2), /sum: axis 2 is out of range for 2-D input/);
    assert.throws(() => F.linear(a, Tensor.zeros([2, 2])), /linear: x · W needs x \(N, D\) and W \(D, M\), got x \[2,3\] and W \[2,2\]/);
  });

  it('an op without createGraph support says which op', () => {
    const x = new Variable(Tensor.zeros([1, 1, 2, 2], f64));
    const y = F.sum(F.pooling(x, 2, 2, 2));
    assert.throws(() => y.backward({ createGraph: true }), (e: Error) => e instanceof AutogradError &&
      e.message === 'backward: pooling does not support createGraph (its backward runs on tensors only, so it cannot be differentiated again)');
  });
});

describe('higher-order derivatives (backward with createGraph)', () => {
  it('the first three derivatives of tanh at 0.5', () => {
    const x = new Variable(0.5, f64);
    const t = Math.tanh(0.5);
    const expected = [1 - t * t, -2 * t * (1 - t * t), (1 - t * t) * (6 * t * t - 2)]; // d/dx tanh = 1 − t², then −2t(1 − t²), then (1 − t²)(6t² − 2)
    let y = F.tanh(x);
    for (const want of expected) {
      x.cleargrad();
      y.backward({ createGraph: true });
      y = x.grad!;
      assert.ok(Math.abs(value(y) - want) < 1e-14, `${value(y)} vs ${want}`);
    }
  });

  it('Newton\'s method on x⁴ − 2x² from x = 2 converges to 1 (DeZero step 33)', () => {
    const x = new Variable(2, f64);
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      seen.push(value(x));
      const y = F.sub(F.pow(x, 4), F.mul(2, F.pow(x, 2)));
      x.cleargrad();
      y.backward({ createGraph: true });
      const gx = x.grad!;
      x.cleargrad();
      gx.backward();
      const gx2 = x.grad!;
      x.data.data[0] -= value(gx) / value(gx2); // x ← x − f'(x)/f''(x)
    }
    // the book's printout: 2, 1.4545454545454546, 1.1510467893775467, 1.0253259289766978, 1.0009084519430513, 1.0000012353089454, 1.000000000002289, 1
    assertClose(seen.slice(0, 8), [2, 1.4545454545454546, 1.1510467893775467, 1.0253259289766978, 1.0009084519430513, 1.0000012353089454, 1.000000000002289, 1], 1e-15, 'Newton iterates');
    assert.equal(value(x), 1);
  });

  it('the gradient of ‖∇ₓf‖² for a small MLP matches finite differences', () => {
    const rng = new Random(3);
    const W1 = new Variable(randn([3, 4], rng)), b1 = new Variable(randn([4], rng)), W2 = new Variable(randn([4, 2], rng));
    const xData = randn([2, 3], rng);
    const f = (x: Variable): Variable => F.sum(F.sigmoid(F.matmul(F.tanh(F.linear(x, W1, b1)), W2)));
    const gradNormSq = (x: Variable, createGraph: boolean): Variable => {
      x.cleargrad();
      f(x).backward({ createGraph });
      return F.sum(F.pow(x.grad!, 2));
    };
    const x = new Variable(xData.clone());
    const g = gradNormSq(x, true);
    x.cleargrad();
    W1.cleargrad();
    g.backward();
    const analytic = { x: Float64Array.from(x.grad!.data.data), W1: Float64Array.from(W1.grad!.data.data) };
    const numeric = (target: Tensor): Float64Array => Float64Array.from({ length: target.size }, (_, i) => {
      const v = target.data[i], h = 1e-5;
      const at = (d: number): number => {
        target.data[i] = v + d;
        const r = value(gradNormSq(new Variable(x.data), false));
        target.data[i] = v;
        return r;
      };
      return (at(h) - at(-h)) / (2 * h);
    });
    assertClose(analytic.x, numeric(x.data), 1e-7, '∂‖∇f‖²/∂x');
    assertClose(analytic.W1, numeric(W1.data), 1e-7, '∂‖∇f‖²/∂W1');
  });
});

class Mlp extends Model {
  fc1 = new Linear(3, 5, { names: ['W1', 'b1'], dtype: 'float64', rng: new Random(1) });
  fc2 = new Linear(5, 2, { names: ['W2', 'b2'], dtype: 'float64', rng: new Random(2) });
  extra = new Linear(2, 2, { dtype: 'float64', nobias: true });
  forward(x: VariableLike): Variable {
    return this.extra.forward(this.fc2.forward(F.relu(this.fc1.forward(x))));
  }
}

describe('Model, Linear and the optimizers', () => {
  it('params() names the parameters: the book\'s W1, b1 … where given, else the field path', () => {
    const net = new Mlp();
    assert.deepEqual(Object.keys(net.params()), ['W1', 'b1', 'W2', 'b2', 'extra.W']);
    assert.ok(Object.values(net.params()).every((p) => p instanceof Parameter));
    assert.deepEqual(net.params().W1.shape, [3, 5]);
  });

  it('SGD and Adam update the parameters in place from gradTensors(), and the loss falls', () => {
    for (const optimizer of [new SGD({ lr: 0.1 }), new Adam({ lr: 0.01 })]) {
      const net = new Mlp();
      const rng = new Random(4);
      const x = randn([8, 3], rng);
      const t = Array.from({ length: 8 }, (_, i) => i % 2);
      const losses: number[] = [];
      for (let step = 0; step < 30; step++) {
        net.cleargrads();
        const loss = F.softmaxCrossEntropy(net.forward(x), t);
        loss.backward();
        losses.push(value(loss));
        const before = net.params().W1.data.data[0];
        optimizer.update(net.paramTensors(), net.gradTensors());
        if (step === 0) assert.notEqual(net.params().W1.data.data[0], before);
      }
      assert.ok(losses[29] < losses[0] * 0.9, `${optimizer.name}: ${losses[0]} → ${losses[29]}`);
    }
  });

  it('cleargrads gives the last step\'s intermediate results back; using one again says how to keep it', () => {
    const net = new Mlp();
    const x = randn([4, 3], new Random(5));
    const h = F.relu(net.fc1.forward(x)); // an intermediate result, kept by the caller
    const loss = F.sum(net.fc2.forward(h));
    loss.backward();
    net.cleargrads();
    assert.equal(h.released, true);
    assert.equal(loss.released, false, 'the loss stays readable');
    assert.ok(Number.isFinite(loss.data.data[0]));
    assert.throws(() => F.mul(h, 2), (e: Error) => e instanceof AutogradError &&
      /^mul: an input of shape \[4,5\] is an intermediate result of a step whose memory cleargrad\(\) or Model\.cleargrads\(\) handed on; to keep a value for later steps, copy it before cleargrads: new Variable\(v\.data\.clone\(\)\)$/.test(e.message));
  });

  it('gradTensors() names a parameter that got no gradient', () => {
    const net = new Mlp();
    assert.throws(() => net.gradTensors(), /Model\.gradTensors: parameter 'W1' has no gradient/);
  });
});
