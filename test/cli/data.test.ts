/**
 * `backprop data` and `--data mnist|fashion-mnist`, against a server on 127.0.0.1 only: every
 * run passes --mirror with --no-default-mirrors, or fails before any request.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { DATASETS } from '../../src/data/datasets.js';
import { tempDirs } from '../helpers.js';
import { md5, sendFile, serve } from '../downloadServer.js';
import { publishedFashionMnist } from '../fashion.js';

const ROOT = new URL('../..', import.meta.url).pathname;
/** Temporary directories, removed when the file's tests end (the Fashion-MNIST ones hold 31 MB). */
const tmp = tempDirs('backprop-data-cli-');

/** Run the CLI in-process, capturing what it prints. */
async function run(argv: string[], isTTY = false): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTTY });
  return { code, out, err };
}

/** Run the CLI as a child process (`node --import tsx src/cli/run.ts ...`). */
function child(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...argv], { cwd: ROOT, env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => p.on('close', (code) => resolve({ code, out, err })));
  return { process: p, done };
}

/** Run `body` with XDG_CACHE_HOME set to `dir`, restoring it afterwards. */
async function withCache<T>(dir: string, body: () => Promise<T>): Promise<T> {
  const before = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = dir;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = before;
  }
}

function oneLine(r: { err: string }): void {
  assert.equal(r.err.trim().split('\n').length, 1, `one line: ${r.err}`);
  assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
}

describe('backprop data: usage and failures', () => {
  it('no dataset, an unknown one, or --no-default-mirrors without --mirror: exit 2, one line', async () => {
    const cases: [string[], RegExp][] = [
      [['data'], /data: which dataset\? mnist or fashion-mnist/],
      [['data', 'cifar'], /data: unknown dataset 'cifar' \(datasets: mnist, fashion-mnist\)/],
      [['data', 'mnist', 'fashion-mnist'], /one dataset at a time/],
      [['data', 'mnist', '--no-default-mirrors'], /--no-default-mirrors needs at least one --mirror URL/],
      [['data', 'mnist', '--timeout', '0'], /--timeout must be greater than 0/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err, message);
      oneLine(r);
    }
    assert.match((await run(['help', 'data'])).out, /--mirror URL[\s\S]*ossci-datasets\.s3\.amazonaws\.com/);
    assert.match((await run(['help'])).out, /\n  data  /);
  });

  it('no mirror answers (offline): one line naming the mirrors tried and the --data DIR alternative, exit 1', async () => {
    const a = await serve(() => {});
    const b = await serve(() => {});
    await a.close();
    await b.close(); // nothing listens on either port now
    const dir = tmp();
    const r = await run(['data', 'mnist', '--dir', dir, '--mirror', a.base, '--mirror', b.base, '--no-default-mirrors']);
    assert.equal(r.code, 1);
    oneLine(r);
    assert.match(r.err, new RegExp(`^backprop: DownloadError: cannot download MNIST train-images-idx3-ubyte\\.gz: tried ${a.base}train-images-idx3-ubyte\\.gz \\(connect ECONNREFUSED [^)]+\\), ${b.base}train-images-idx3-ubyte\\.gz \\(connect ECONNREFUSED [^)]+\\); or pass --data DIR`));
    assert.deepEqual(readdirSync(dir), []);
  });

  it('Ctrl-C mid-download: exit 130, one line, no file under its final name; the next run resumes the .part', async () => {
    const file = DATASETS.mnist.files[0]!;
    let sent = 0;
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': file.bytes });
      res.write(Buffer.alloc(65536, 7), () => (sent = 65536)); // ...and then it waits
    });
    const dir = tmp();
    try {
      const c = child(['data', 'mnist', '--dir', dir, '--mirror', server.base, '--no-default-mirrors']);
      const part = join(dir, `${file.name}.part`);
      const deadline = Date.now() + 30_000;
      while (!(sent > 0 && existsSync(part) && statSync(part).size === 65536) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(statSync(part).size, 65536, 'the child received the first bytes');
      c.process.kill('SIGINT');
      const r = await c.done;
      assert.equal(r.code, 130, r.err);
      oneLine(r);
      assert.equal(r.err, `backprop: interrupted; what arrived is kept in ${part}, and the next run resumes from there\n`);
      assert.deepEqual(readdirSync(dir), [`${file.name}.part`], 'nothing under a final name');
    } finally {
      await server.close();
    }

    // The next run resumes with Range; these bytes are not MNIST, so the check fails, the file is
    // fetched once more from the start (the kept part might have been the bad one), then refused.
    const notMnist = new Map([[file.name, Buffer.alloc(file.bytes!, 7)]]);
    const second = await serve((req, res) => sendFile(notMnist, req, res));
    try {
      const r = await child(['data', 'mnist', '--dir', dir, '--mirror', second.base, '--no-default-mirrors']).done;
      assert.deepEqual(second.requests.map((q) => q.range), ['bytes=65536-', undefined]);
      assert.equal(r.code, 1);
      oneLine(r);
      assert.match(r.err, new RegExp(`tried ${second.base}${file.name} \\(checksum mismatch: MD5 ${md5(notMnist.get(file.name)!)}, expected ${file.md5} \\(torchvision's MNIST resources\\)\\)`));
      assert.deepEqual(readdirSync(dir), [], 'refused: nothing kept');
    } finally {
      await second.close();
    }
  });

  it('train, eval and gradcheck --data mnist before it is downloaded: one line saying how to get it', async () => {
    await withCache(tmp(), async () => {
      for (const argv of [['train', '--data', 'mnist'], ['gradcheck', '--data', 'mnist']]) {
        const r = await run(argv);
        assert.equal(r.code, 1);
        oneLine(r);
        assert.match(r.err, /^backprop: DataError: MNIST is not downloaded yet \(.*backprop\/mnist has none of its files\): run 'backprop data mnist' once, or pass --data DIR with the four IDX files\n$/);
      }
    });
  });
});


describe('backprop data fashion-mnist from a loopback mirror of the published files', () => {
  it('downloads into $XDG_CACHE_HOME/backprop, then finds them and does nothing; train --data fashion-mnist uses them', async (t) => {
    const files = publishedFashionMnist(t);
    if (!files) return;
    const cache = tmp();
    const server = await serve((req, res) => sendFile(files, req, res));
    try {
      const args = ['data', 'fashion-mnist', '--mirror', server.base, '--no-default-mirrors'];
      const first = await child(args, { XDG_CACHE_HOME: cache }).done;
      assert.equal(first.code, 0, first.err);
      const dir = join(cache, 'backprop', 'fashion-mnist');
      for (const f of DATASETS['fashion-mnist'].files) {
        assert.match(first.out, new RegExp(`^  ${f.name}  [\\d.]+ [kM]B  MD5 and contents ok, from ${server.base}${f.name}$`, 'm'));
      }
      assert.match(first.out, new RegExp(`Fashion-MNIST: 4 files verified in ${dir} \\(4 downloaded, [\\d.]+ s\\); train on it: backprop train --data fashion-mnist\\n$`));
      assert.doesNotMatch(first.out, /\r/, 'no progress bar when not on a terminal');
      assert.deepEqual(readdirSync(dir).sort(), [...files.keys()].sort());
      for (const [name, bytes] of files) assert.equal(md5(readFileSync(join(dir, name))), md5(bytes));

      const requests = server.requests.length;
      const start = performance.now();
      const second = await child(args, { XDG_CACHE_HOME: cache }).done;
      const ms = performance.now() - start;
      assert.equal(second.code, 0, second.err);
      assert.equal(server.requests.length, requests, 'the second run asks nothing');
      assert.equal(second.out, `Fashion-MNIST is already in ${dir} (4 files, verified when downloaded); train on it: backprop train --data fashion-mnist\n`);
      t.diagnostic(`second run, a whole CLI process: ${ms.toFixed(0)} ms`);

      await withCache(cache, async () => {
        const r = await run(['train', '--data', 'fashion-mnist', '--iters', '1', '--quiet']);
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /final: train accuracy 0\.\d{4}, test accuracy 0\.\d{4} after 1 iteration /);
      });
    } finally {
      await server.close();
    }
  });

  it('on a terminal: a live progress bar, then one clean line per file; --dir DIR names the directory to train on', async (t) => {
    const files = publishedFashionMnist(t);
    if (!files) return;
    const dir = join(tmp(), 'fm');
    mkdirSync(dir);
    const server = await serve((req, res) => sendFile(files, req, res));
    try {
      const r = await run(['data', 'fashion-mnist', '--dir', dir, '--mirror', server.base, '--no-default-mirrors'], true);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /\r\[#*\.*\] train-images-idx3-ubyte\.gz  [\d.]+ [kM]B \/ 26\.4 MB  [\d.]+ [kM]B\/s\x1b\[K/);
      // What stays on the screen: each line after its last "erase line".
      const screen = r.out.split('\n').map((l) => l.split('\x1b[K').at(-1)!);
      assert.deepEqual(screen.slice(0, 4).map((l) => l.split('  ')[1]), [...files.keys()]);
      assert.match(screen.at(-2)!, new RegExp(`^Fashion-MNIST: 4 files verified in ${dir} .*backprop train --data ${dir}$`));
    } finally {
      await server.close();
    }
  });
});
