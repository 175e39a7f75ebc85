/**
 * Smoke test of the benchmark (not part of `npm test`): `npm run bench -- --quick` on this
 * project's backends, NumPy, the SimpleConvNet section and the bundled digits' rows runs to the end, prints its tables and writes its JSON, and every
 * implementation does the same work (same accuracies after the same batches). No timing is
 * asserted. Run: node --import tsx --test bench/bench.smoke.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('./run.ts', import.meta.url));

test('bench --quick runs, reports and agrees across implementations', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  try {
    const out = join(dir, 'results.json');
    const r = spawnSync(process.execPath, ['--import', 'tsx', RUN, '--quick', '--only', 'wasm,numpy,conv,digits', '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const fashion = existsSync('/usr/share/datasets/fashion-mnist'); // the digits' own section only beside Fashion-MNIST rows
    for (const heading of ['## Training step and accuracy pass', '## Matrix products', '## Targets', '## SimpleConvNet training step', '## wasm backend memory', ...(fashion ? ['## The same on the bundled MNIST digits'] : [])]) {
      assert.ok(r.stdout.includes(heading), `missing "${heading}" in:\n${r.stdout}`);
    }
    type Trained = { id: string; stepMs?: number; testAccuracy?: number; iterations?: number };
    const json = JSON.parse(readFileSync(out, 'utf8')) as {
      results: Trained[];
      digits: Trained[] | null;
      skipped: string[];
      conv: { results: { id: string; stepMs: number; losses: number[]; maxLossDiff?: number }[] } | null;
    };
    assert.ok(json.results.length > 0, `no results; skipped: ${json.skipped.join('; ')}`);
    if (fashion) assert.ok((json.digits ?? []).some((x) => x.id === 'wasm-1t') && json.digits!.some((x) => x.id.startsWith('numpy')), 'the digits\' rows: wasm and NumPy');
    for (const rows of [json.results, json.digits ?? []]) {
      const trained = rows.filter((x) => x.testAccuracy !== undefined);
      for (const x of trained) {
        assert.ok(x.stepMs! > 0, `${x.id}: no step time`);
        assert.equal(x.iterations, trained[0].iterations, `${x.id}: different iteration count`);
        // Same weights, same batches: float32 and float64 runs end at (nearly) the same accuracy.
        assert.ok(Math.abs(x.testAccuracy! - trained[0].testAccuracy!) < 0.01, `${x.id}: test accuracy ${x.testAccuracy} vs ${trained[0].testAccuracy}`);
      }
    }
    // SimpleConvNet: our rows ran; every row took the same steps; float32 and float64 losses agree with the book's code's.
    const conv = json.conv?.results ?? [];
    assert.ok(conv.some((x) => x.id === 'conv-wasm-1t'), `no SimpleConvNet wasm row: ${conv.map((x) => x.id).join(', ')}`);
    for (const x of conv) {
      assert.ok(x.stepMs > 0, `${x.id}: no step time`);
      assert.equal(x.losses.length, conv[0].losses.length, `${x.id}: different step count`);
      if (x.maxLossDiff !== undefined) assert.ok(x.maxLossDiff < 1e-4, `${x.id}: losses differ from the book's code's by ${x.maxLossDiff}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
