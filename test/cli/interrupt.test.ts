import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { loadModel } from '../../src/io/modelFiles.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'backprop-interrupt-'));

/** Run the CLI in-process; `onOut` sees each chunk of stdout as it is written. */
async function run(argv: string[], onOut: (text: string) => void = () => {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => { out += t; onOut(t); }, err: (t) => void (err += t), isTTY: false });
  return { code, out, err };
}

/** `backprop ARGS` as a child process, as a user runs it. */
function spawnCli(args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The child's exit: its code and signal, and all of stderr. */
function exited(child: ReturnType<typeof spawnCli>): Promise<{ code: number | null; signal: string | null; err: string }> {
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, err })));
}

describe('Ctrl-C during training', () => {
  it('exits 130 with one line: the iteration and the last save, whose file holds that epoch', async () => {
    const file = join(dir, 'saved.safetensors');
    let sent = false;
    // SIGINT as the terminal sends it, right after epoch 2 is printed (it is saved just after)
    const r = await run(['train', '--iters', '3000', '--save', file], (t) => {
      if (!sent && /^epoch\s+2 /m.test(t)) {
        sent = true;
        process.emit('SIGINT');
      }
    });
    assert.equal(r.code, 130, r.err);
    const m = /^backprop: interrupted at iteration (\d+); the last save \(epoch 2\) is in (.*)\n$/.exec(r.err);
    assert.ok(m, r.err);
    assert.equal(m[2], file);
    assert.ok(Number(m[1]) >= 161 && Number(m[1]) < 3000, m[1]);
    assert.doesNotMatch(r.out, /final:/);
    const saved = loadModel(file);
    assert.equal(saved.training!.iteration, 161, 'the file holds epoch 2 (iteration 161)');
    assert.equal(process.listenerCount('SIGINT'), 0, 'Ctrl-C ends the process again afterwards');
  });

  it('without --save: "nothing was saved"', async () => {
    let sent = false;
    const r = await run(['train', '--iters', '3000'], (t) => {
      if (!sent && /^epoch\s+1 /m.test(t)) {
        sent = true;
        process.emit('SIGINT');
      }
    });
    assert.equal(r.code, 130);
    assert.match(r.err, /^backprop: interrupted at iteration \d+; nothing was saved \(--save FILE keeps every epoch\)\n$/);
  });

  it('a resumed run interrupted before its next save points at the file it resumed', async () => {
    const file = join(dir, 'resumed.safetensors');
    assert.equal((await run(['train', '--epochs', '1', '--save', file, '--quiet'])).code, 0);
    let sent = false;
    const r = await run(['train', '--resume', file, '--epochs', '30'], (t) => {
      if (!sent && t.startsWith('resuming')) {
        sent = true;
        process.emit('SIGINT');
      }
    });
    assert.equal(r.code, 130);
    assert.match(r.err, new RegExp(`^backprop: interrupted at iteration \\d+; the last save \\(epoch 1\\) is in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n$`));
  });

  it('a real SIGINT to the command: exit code 130 and the line', async () => {
    const child = spawnCli(['train', '--iters', '20000']);
    child.stdout!.on('data', (d: Buffer) => {
      if (/^epoch\s+1 /m.test(String(d))) child.kill('SIGINT');
    });
    const r = await exited(child);
    assert.equal(r.signal, null, 'not killed by the signal: the command handled it');
    assert.equal(r.code, 130, r.err);
    assert.match(r.err, /^backprop: interrupted at iteration \d+; nothing was saved/);
  });
});

describe('stdout closed (backprop train | head -2)', () => {
  it('compare-optimizers stops too', async () => {
    const plot = join(dir, 'head.svg');
    const child = spawnCli(['compare-optimizers', '--plot', plot]);
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d;
      if (text.split('\n').length > 2) child.stdout!.destroy();
    });
    const r = await exited(child);
    assert.equal(r.code, 0, r.err);
    assert.equal(existsSync(plot), false, 'it never reached the chart');
  });

  it('stops training as soon as stdout is closed', async () => {
    const file = join(dir, 'head.safetensors');
    const report = join(dir, 'head.json');
    const child = spawnCli(['train', '--iters', '20000', '--save', file, '--report', report]);
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d;
      if (text.split('\n').length > 2) child.stdout!.destroy(); // what head -2 does after its two lines
    });
    const r = await exited(child);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '', 'quietly');
    assert.equal(existsSync(report), false, 'it never reached the end');
    const saved = loadModel(file);
    assert.ok(saved.training!.iteration < 20000, `stopped at iteration ${saved.training!.iteration}`);
  });
});
