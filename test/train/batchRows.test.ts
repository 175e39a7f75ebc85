import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/Tensor.js';
import { BatchRows } from '../../src/train/BatchRows.js';
import { allBackends } from '../kernels/backends.js';

const backends = await allBackends();

for (const backend of backends) {
  describe(`BatchRows (backend ${backend.name})`, () => {
    it('gathers now or a step ahead, the two tensors taking turns, the rows as picked by hand', () => {
      const [rows, cols] = [500, 37];
      const x = Tensor.from(Array.from({ length: rows * cols }, (_, i) => (i % 101) / 7), [rows, cols], { backend });
      const picked = (index: Int32Array) => Array.from({ length: index.length * cols }, (_, i) => x.data[index[Math.floor(i / cols)] * cols + (i % cols)]);
      const batch = (k: number) => Int32Array.from({ length: 120 }, (_, i) => (i * 53 + k * 17) % rows);
      const b = new BatchRows(x);
      assert.equal(b.pending, false);
      const first = b.gather(batch(0));
      assert.deepEqual(Array.from(first.data), picked(batch(0)));
      const seen = [first];
      for (let k = 1; k <= 4; k++) {
        b.ahead(batch(k));
        assert.equal(b.pending, true);
        const rowsK = b.take();
        assert.equal(b.pending, false);
        assert.deepEqual(Array.from(rowsK.data), picked(batch(k)), `batch ${k}`);
        assert.notEqual(rowsK, seen[k - 1], 'the next batch goes into the other tensor');
        seen.push(rowsK);
      }
      assert.equal(seen[3], seen[1], 'two tensors take turns');
      assert.equal(b.gather(batch(9)), seen[4], 'gather writes the current tensor');
      assert.deepEqual(Array.from(seen[4].data), picked(batch(9)));
    });
  });
}
