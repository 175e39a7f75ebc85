import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { writeFileAtomic } from '../../src/io/atomicWrite.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'backprop-outputs-'));
writeFileSync(join(dir, 'a-file'), 'not a folder');

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false });
  return { code, out, err };
}

/** Every output flag of every command, with the arguments that would otherwise start long work. */
const OUTPUTS: [flag: string, before: string[]][] = [
  ['save', ['train']],
  ['report', ['train']],
  ['plot', ['train']],
  ['plot', ['compare-optimizers']],
  ['svg', ['graph', 'apple']],
  ['dot', ['graph', 'two-layer-net']],
];

describe('output paths are checked before any work, in the user\'s own words', () => {
  const bad: [what: string, path: string, reason: (path: string) => string][] = [
    ['a missing folder', join(dir, 'missing', 'out.x'), () => `the folder ${join(dir, 'missing')} does not exist`],
    ['a folder', dir, (p) => `${p} is a folder`],
    ['a file where a folder should be', join(dir, 'a-file', 'out.x'), () => `${join(dir, 'a-file')} is not a folder`],
  ];
  for (const [flag, before] of OUTPUTS) {
    for (const [what, path, reason] of bad) {
      it(`${before[0]} --${flag} into ${what}`, async () => {
        const r = await run(...before, `--${flag}`, path);
        assert.equal(r.code, 2, r.err);
        assert.equal(r.err, `backprop: UsageError: --${flag} ${path}: ${reason(path)}\n`);
        assert.equal(r.out, '', 'nothing started: no data, net or graph lines');
      });
    }
  }

  it('an unwritable folder (as an unprivileged user: root may write anywhere)', () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(dir, 0o755);
    chmodSync(locked, 0o555);
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}; // nobody
    for (const [flag, before] of OUTPUTS) {
      const path = join(locked, 'out.x');
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...before, `--${flag}`, path], { cwd: root, encoding: 'utf8', ...asUser });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr, `backprop: UsageError: --${flag} ${path}: permission denied in the folder ${locked}\n`);
      assert.equal(r.stdout, '');
    }
    assert.deepEqual(readdirSync(locked), []);
  });

  it('train --resume FILE without --save writes back to FILE: its folder is checked too', () => {
    const locked = join(dir, 'locked-resume');
    mkdirSync(locked);
    writeFileSync(join(locked, 'run.safetensors'), 'x');
    chmodSync(locked, 0o555);
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const file = join(locked, 'run.safetensors');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', 'train', '--resume', file], { cwd: root, encoding: 'utf8', ...asUser });
    assert.equal(r.stderr, `backprop: UsageError: --resume ${file}: permission denied in the folder ${locked}\n`);
    assert.equal(r.status, 2);
  });

  it('a good path passes and the check leaves nothing behind', async () => {
    const out = join(dir, 'fine');
    mkdirSync(out);
    const r = await run('graph', 'apple', '--svg', join(out, 'apple.svg'));
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(readdirSync(out), ['apple.svg']);
  });
});

describe('writeFileAtomic names the file it was asked to write, never its temporary file', () => {
  it('a folder that went missing', () => {
    const path = join(dir, 'gone', 'x.json');
    assert.throws(() => writeFileAtomic(path, '{}'), (e: Error & { code?: string }) => {
      assert.equal(e.message, `cannot write ${path}: the folder ${join(dir, 'gone')} does not exist`);
      assert.equal(e.code, 'ENOENT');
      return true;
    });
  });

  it('a path that is a folder', () => {
    assert.throws(() => writeFileAtomic(dir, 'x'), (e: Error) => !e.message.includes('.tmp-') && e.message.startsWith(`cannot write ${dir}: `));
  });
});
