import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/Tensor.js';
import { Random } from '../../src/random.js';
import type { Backend } from '../../src/kernels/Backend.js';
import { SGD } from '../../src/optimizers/SGD.js';
import { Momentum } from '../../src/optimizers/Momentum.js';
import { Nesterov } from '../../src/optimizers/Nesterov.js';
import { AdaGrad } from '../../src/optimizers/AdaGrad.js';
import { RMSprop } from '../../src/optimizers/RMSprop.js';
import { Adam } from '../../src/optimizers/Adam.js';
import type { NamedTensors, Optimizer } from '../../src/optimizers/Optimizer.js';
import { OPTIMIZER_NAMES, createOptimizer, optimizerFromState } from '../../src/optimizers/createOptimizer.js';
import { allBackends } from '../kernels/backends.js';
import { assertClose, randn, snapshot } from '../helpers.js';

const backends = await allBackends();

/**
 * The book's common/optimizer.py, transcribed on plain float64 arrays, statement by statement
 * (NumPy evaluates `a * b * c` left to right, and each statement rounds once per element).
 */
type Ref = (W: number[], g: number[], s: Record<string, number[]>, t: number) => void;
const REFERENCES: Record<string, { options: Record<string, number>; slots: string[]; step: Ref }> = {
  sgd: { options: { lr: 0.1 }, slots: [], step: (W, g) => W.forEach((_, i) => (W[i] -= 0.1 * g[i])) },
  momentum: {
    options: { lr: 0.1, momentum: 0.8 },
    slots: ['v'],
    step: (W, g, { v }) => W.forEach((_, i) => {
      v[i] = 0.8 * v[i] - 0.1 * g[i];
      W[i] += v[i];
    }),
  },
  nesterov: {
    options: { lr: 0.1, momentum: 0.8 },
    slots: ['v'],
    // the book's order: params move with the old v, then v is updated
    step: (W, g, { v }) => W.forEach((_, i) => {
      W[i] += 0.8 * 0.8 * v[i];
      W[i] -= (1 + 0.8) * 0.1 * g[i];
      v[i] *= 0.8;
      v[i] -= 0.1 * g[i];
    }),
  },
  adagrad: {
    options: { lr: 0.1 },
    slots: ['h'],
    step: (W, g, { h }) => W.forEach((_, i) => {
      h[i] += g[i] * g[i];
      W[i] -= (0.1 * g[i]) / (Math.sqrt(h[i]) + 1e-7);
    }),
  },
  rmsprop: {
    options: { lr: 0.1, decayRate: 0.9 },
    slots: ['h'],
    step: (W, g, { h }) => W.forEach((_, i) => {
      h[i] *= 0.9;
      h[i] += (1 - 0.9) * g[i] * g[i];
      W[i] -= (0.1 * g[i]) / (Math.sqrt(h[i]) + 1e-7);
    }),
  },
  adam: {
    options: { lr: 0.01, beta1: 0.8, beta2: 0.99 },
    slots: ['m', 'v'],
    step: (W, g, { m, v }, t) => {
      const lrT = (0.01 * Math.sqrt(1.0 - 0.99 ** t)) / (1.0 - 0.8 ** t);
      W.forEach((_, i) => {
        m[i] += (1 - 0.8) * (g[i] - m[i]);
        v[i] += (1 - 0.99) * (g[i] ** 2 - v[i]);
        W[i] -= (lrT * m[i]) / (Math.sqrt(v[i]) + 1e-7);
      });
    },
  },
};

function f64(values: number[], shape: number[], backend: Backend): Tensor {
  return Tensor.from(values, shape, { dtype: 'float64', backend });
}

/** The book's comparison: f(x, y) = x²/20 + y², ∂f/∂x = x/10, ∂f/∂y = 2y, from (−7, 2). */
function minimize(optimizer: Optimizer, steps: number, backend: Backend): [number, number] {
  const params = { x: f64([-7], [1], backend), y: f64([2], [1], backend) };
  const grads = { x: f64([0], [1], backend), y: f64([0], [1], backend) };
  for (let i = 0; i < steps; i++) {
    grads.x.data[0] = params.x.data[0] / 10;
    grads.y.data[0] = 2 * params.y.data[0];
    optimizer.update(params, grads);
  }
  return [params.x.data[0], params.y.data[0]];
}

for (const backend of backends) {
  describe(`optimizers (backend ${backend.name})`, () => {
    for (const name of OPTIMIZER_NAMES) {
      it(`${name}: five float64 steps equal the book's update, statement by statement`, () => {
        const ref = REFERENCES[name];
        const rng = new Random(3);
        const params = { W: randn([2, 3], rng, backend), b: randn([3], rng, backend) };
        const expected = { W: snapshot(params.W), b: snapshot(params.b) };
        const slots: Record<string, Record<string, number[]>> = { W: {}, b: {} };
        for (const key of ['W', 'b'] as const) for (const s of ref.slots) slots[key][s] = new Array(params[key].size).fill(0);
        const optimizer = createOptimizer(name, ref.options);
        for (let t = 1; t <= 5; t++) {
          const grads = { W: randn([2, 3], rng, backend), b: randn([3], rng, backend) };
          for (const key of ['W', 'b'] as const) ref.step(expected[key], snapshot(grads[key]), slots[key], t);
          const gradsBefore = snapshot(grads.W);
          optimizer.update(params, grads);
          assert.deepEqual(snapshot(grads.W), gradsBefore, 'update must not modify the gradients');
          assert.deepEqual(snapshot(params.W), expected.W, `W after step ${t}`);
          assert.deepEqual(snapshot(params.b), expected.b, `b after step ${t}`);
        }
        assert.equal(optimizer.step, 5);
        const state = optimizer.getState();
        for (const s of ref.slots) assert.deepEqual(snapshot(state.slots[s].W), slots.W[s], `slot ${s} of W`);
      });

      it(`${name}: float32 parameters follow the float64 reference closely`, () => {
        const ref = REFERENCES[name];
        const rng = new Random(4);
        const W64 = randn([4, 5], rng, backend);
        const W = W64.clone({ dtype: 'float32' });
        const expected = snapshot(W);
        const slots: Record<string, number[]> = {};
        for (const s of ref.slots) slots[s] = new Array(W.size).fill(0);
        const optimizer = createOptimizer(name, ref.options);
        for (let t = 1; t <= 5; t++) {
          const g = randn([4, 5], rng, backend);
          ref.step(expected, snapshot(g), slots, t);
          optimizer.update({ W }, { W: g.clone({ dtype: 'float32' }) });
        }
        assert.ok(W.data instanceof Float32Array);
        assertClose(W.data, expected, 1e-5, `${name} float32 W`);
      });

      it(`${name}: a state round trip gives bit-identical next steps`, () => {
        const ref = REFERENCES[name];
        const rng = new Random(5);
        const params = { W: randn([3, 2], rng, backend) };
        const optimizer = createOptimizer(name, ref.options);
        for (let t = 0; t < 3; t++) optimizer.update(params, { W: randn([3, 2], rng, backend) });
        const state = optimizer.getState();
        assert.equal(state.name, name);
        assert.equal(state.step, 3);
        assert.deepEqual(Object.keys(state.slots).sort(), [...ref.slots].sort());
        // the JSON-able part survives JSON
        assert.deepEqual(JSON.parse(JSON.stringify({ ...state, slots: null })), { ...state, slots: null });
        const copy = { W: params.W.clone() };
        const resumed = optimizerFromState(state);
        assert.deepEqual(resumed.hyperparameters, optimizer.hyperparameters);
        for (let t = 0; t < 3; t++) {
          const g = randn([3, 2], rng, backend);
          optimizer.update(params, { W: g });
          resumed.update(copy, { W: g });
          assert.deepEqual(snapshot(copy.W), snapshot(params.W), `step ${t + 1} after the restore`);
        }
        // the snapshot was a copy: later updates did not change it
        if (ref.slots.length) assert.notDeepEqual(snapshot(state.slots[ref.slots[0]].W), snapshot(optimizer.getState().slots[ref.slots[0]].W));
      });
    }

    it('hand-computed first steps: SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam', () => {
      const one = (opt: Optimizer, w: number, g: number): number => {
        const params = { W: f64([w], [1], backend) };
        opt.update(params, { W: f64([g], [1], backend) });
        return params.W.data[0];
      };
      assert.equal(one(new SGD({ lr: 0.1 }), 1, 0.5), 0.95); // 1 − 0.1·0.5
      const momentum = new Momentum({ lr: 0.1, momentum: 0.9 });
      const params = { W: f64([1], [1], backend) };
      const grads = { W: f64([0.5], [1], backend) };
      momentum.update(params, grads); // v = −0.05, W = 0.95
      momentum.update(params, grads); // v = 0.9·(−0.05) − 0.05 = −0.095, W = 0.855
      assert.ok(Math.abs(params.W.data[0] - 0.855) < 1e-15);
      // Nesterov from v = 0: W + m²·0 − (1 + m)·lr·g = 1 − 1.9·0.1·0.5 = 0.905, then v = −lr·g = −0.05
      const nesterov = new Nesterov({ lr: 0.1, momentum: 0.9 });
      const nParams = { W: f64([1], [1], backend) };
      nesterov.update(nParams, { W: f64([0.5], [1], backend) });
      assert.ok(Math.abs(nParams.W.data[0] - 0.905) < 1e-15, `Nesterov step 1: W = ${nParams.W.data[0]}`);
      assert.ok(Math.abs(nesterov.getState().slots.v.W.data[0] - -0.05) < 1e-15);
      // step 2: W = 0.905 + 0.81·(−0.05) − 0.095 = 0.7695, v = 0.9·(−0.05) − 0.05 = −0.095
      nesterov.update(nParams, { W: f64([0.5], [1], backend) });
      assert.ok(Math.abs(nParams.W.data[0] - 0.7695) < 1e-15, `Nesterov step 2: W = ${nParams.W.data[0]}`);
      assert.ok(Math.abs(nesterov.getState().slots.v.W.data[0] - -0.095) < 1e-15);
      // AdaGrad: h = g², the first step is lr·g/|g| = lr
      assert.ok(Math.abs(one(new AdaGrad({ lr: 0.1 }), 1, 0.5) - 0.9) < 1e-6);
      // RMSprop: h = 0.01·g², the first step is lr·g/(0.1|g|) = 10·lr
      assert.ok(Math.abs(one(new RMSprop({ lr: 0.01 }), 1, -0.5) - 1.1) < 1e-6);
      // Adam: lr_t = lr·√(1−β2)/(1−β1), m = 0.1g, v = 0.001g²: the first step is about lr
      assert.ok(Math.abs(one(new Adam({ lr: 0.001 }), 1, 0.5) - 0.999) < 1e-8);
      assert.ok(Math.abs(one(new Adam({ lr: 0.001 }), 1, -3) - 1.001) < 1e-8);
    });

    it('Nesterov: five steps of the book\'s Nesterov.update at its defaults (lr 0.01, momentum 0.9), v included', () => {
      // common/optimizer.py, class Nesterov, on float64 lists:
      //   params[key] += self.momentum * self.momentum * self.v[key]
      //   params[key] -= (1 + self.momentum) * self.lr * grads[key]
      //   self.v[key] *= self.momentum
      //   self.v[key] -= self.lr * grads[key]
      const book = { lr: 0.01, momentum: 0.9, v: [0, 0, 0] };
      const W = [1, -2, 0.5];
      const gradients = [[0.5, -1, 2], [0.25, 0.5, -3], [-1, 1, 0.125], [2, -0.5, 1], [0.75, 0.75, -0.25]];
      const optimizer = new Nesterov();
      const params = { W: f64(W, [3], backend) };
      for (const [t, g] of gradients.entries()) {
        for (let i = 0; i < W.length; i++) {
          W[i] += book.momentum * book.momentum * book.v[i];
          W[i] -= (1 + book.momentum) * book.lr * g[i];
          book.v[i] *= book.momentum;
          book.v[i] -= book.lr * g[i];
        }
        optimizer.update(params, { W: f64(g, [3], backend) });
        assert.deepEqual(snapshot(params.W), W, `W after step ${t + 1}`);
        assert.deepEqual(snapshot(optimizer.getState().slots.v.W), book.v, `v after step ${t + 1}`);
      }
    });

    it('the book\'s defaults', () => {
      assert.deepEqual(new SGD().hyperparameters, { lr: 0.01 });
      assert.deepEqual(new Momentum().hyperparameters, { lr: 0.01, momentum: 0.9 });
      assert.deepEqual(new Nesterov().hyperparameters, { lr: 0.01, momentum: 0.9 });
      assert.deepEqual(new AdaGrad().hyperparameters, { lr: 0.01, eps: 1e-7 });
      assert.deepEqual(new RMSprop().hyperparameters, { lr: 0.01, decayRate: 0.99, eps: 1e-7 });
      assert.deepEqual(new Adam().hyperparameters, { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-7 });
      assert.equal(createOptimizer('AdaGrad').name, 'adagrad');
      assert.equal(createOptimizer('RMSprop').name, 'rmsprop');
      assert.ok(createOptimizer('SGD') instanceof SGD);
    });

    // learning rates of the book's optimizer_compare_naive.py (SGD 0.95, Momentum 0.1, AdaGrad 1.5, Adam 0.3)
    const COMPARE: [string, number][] = [['sgd', 0.95], ['momentum', 0.1], ['nesterov', 0.1], ['adagrad', 1.5], ['rmsprop', 0.1], ['adam', 0.3]];
    for (const [name, lr] of COMPARE) {
      it(`${name} (lr ${lr}) minimises f(x, y) = x²/20 + y² from (−7, 2) to within 1e-3 of (0, 0) in 200 steps`, () => {
        const [x, y] = minimize(createOptimizer(name, { lr }), 200, backend);
        assert.ok(Math.abs(x) < 1e-3 && Math.abs(y) < 1e-3, `${name} ended at (${x}, ${y})`);
        const [x30] = minimize(createOptimizer(name, { lr }), 30, backend);
        assert.ok(Math.abs(x30) < 7 && Math.abs(x30) > 0, `${name} moved toward 0 by step 30: ${x30}`);
      });
    }

    it('bad input gets clear errors', () => {
      assert.throws(() => createOptimizer('adma'), { name: 'RangeError', message: "unknown optimizer 'adma' (expected one of sgd, momentum, nesterov, adagrad, rmsprop, adam)" });
      assert.throws(() => createOptimizer('toString'), /unknown optimizer 'toString'/);
      assert.throws(() => new SGD({ lr: -0.1 }), { name: 'RangeError', message: 'SGD: lr must be a finite number > 0, got -0.1' });
      assert.throws(() => new SGD({ lr: NaN }), /SGD: lr must be a finite number > 0, got NaN/);
      assert.throws(() => new Momentum({ momentum: 1 }), /Momentum: momentum must be a number in \[0, 1\), got 1/);
      assert.throws(() => new Adam({ beta2: 1.5 }), /Adam: beta2 must be a number in \[0, 1\), got 1.5/);
      assert.throws(() => createOptimizer('adam', { learningRate: 0.1 }), { message: "Adam: unknown hyperparameter 'learningRate' (expected lr, beta1, beta2, eps)" });
      assert.throws(() => createOptimizer('rmsprop', { decay_rate: 0.9 }), /RMSprop: unknown hyperparameter 'decay_rate' \(expected lr, decayRate, eps\)/);

      const rng = new Random(1);
      const params: NamedTensors = { W1: randn([2, 3], rng, backend), b1: randn([3], rng, backend) };
      const adam = new Adam();
      assert.throws(() => adam.update(params, { W1: randn([2, 3], rng, backend) }), { name: 'RangeError', message: "Adam.update: no gradient for the parameter 'b1' (gradients given: W1)" });
      assert.throws(() => adam.update(params, { W1: randn([3, 2], rng, backend), b1: randn([3], rng, backend) }), { name: 'ShapeError', message: 'Adam.update: the gradient of W1 has shape [3,2] but W1 has shape [2,3]' });
      assert.throws(() => adam.update(params, { W1: randn([2, 3], rng, backend), b1: randn([3], rng, backend), W2: randn([1], rng, backend) }), /Adam.update: gradients for unknown parameters: W2 \(parameters: W1, b1\)/);
      assert.throws(() => adam.update(params, { W1: randn([2, 3], rng, backend), b1: Tensor.zeros([3], { backend }) }), /Adam.update: b1 is float64 but its gradient is float32/);
      assert.equal(adam.step, 0, 'a rejected update changes nothing');

      // state from another optimizer, or with bad contents
      assert.throws(() => adam.setState(new SGD().getState()), /Adam.setState: the state is for the optimizer 'sgd', not 'adam'/);
      const good = new Momentum();
      good.update({ W: randn([2], rng, backend) }, { W: randn([2], rng, backend) });
      const state = good.getState();
      assert.throws(() => new Momentum().setState({ ...state, step: -1 }), /Momentum.setState: step must be a whole number ≥ 0, got -1/);
      assert.throws(() => new Momentum().setState({ ...state, slots: { h: {} } }), /Momentum.setState: unknown slot 'h' \(Momentum keeps v\)/);
      assert.throws(() => new Momentum().setState({ ...state, hyperparameters: { lr: 0 } }), /Momentum: lr must be a finite number > 0, got 0/);
      const restored = new Momentum();
      restored.setState(state);
      assert.throws(() => restored.update({ W: randn([3], rng, backend) }, { W: randn([3], rng, backend) }), { name: 'ShapeError', message: 'Momentum: the saved slot v of W has shape [2] but W has shape [3]' });
    });

    it('a learning-rate change takes effect at the next update; a bad one is caught there', () => {
      const sgd = new SGD({ lr: 0.1 });
      const params = { W: f64([1], [1], backend) };
      sgd.hyperparameters.lr = 0.5;
      sgd.update(params, { W: f64([1], [1], backend) });
      assert.equal(params.W.data[0], 0.5);
      sgd.hyperparameters.lr = -1;
      assert.throws(() => sgd.update(params, { W: f64([1], [1], backend) }), /SGD: lr must be a finite number > 0, got -1/);
    });

    it('restored slots move to the parameters\' dtype and backend', () => {
      const rng = new Random(8);
      const W = randn([2, 2], rng, backend);
      const adam = new Adam();
      adam.update({ W }, { W: randn([2, 2], rng, backend) });
      const state = adam.getState();
      // as if loaded from a file: slots on the default backend, in float32
      state.slots.m.W = state.slots.m.W.clone({ dtype: 'float32', backend: backends[0] });
      const resumed = optimizerFromState(state);
      const W2 = W.clone();
      const g = randn([2, 2], rng, backend);
      resumed.update({ W: W2 }, { W: g });
      const m = resumed.getState().slots.m.W;
      assert.equal(m.dtype, 'float64');
      assert.equal(m.backend, backend);
    });
  });
}
