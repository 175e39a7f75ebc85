/**
 * downloadDataset against a server on 127.0.0.1 serving small IDX files made here, with their
 * checksums injected; and the real Fashion-MNIST files, as published, against the table.
 * No traffic leaves the machine: every call names its loopback mirrors.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DATASETS, type DatasetSpec } from '../../src/data/datasets.js';
import { defaultCacheDir, DownloadError, downloadDataset, missingDatasetFiles, type DownloadProgress } from '../../src/data/download.js';
import { loadIdxDataset } from '../../src/data/idxFiles.js';
import { tempDirs } from '../helpers.js';
import { md5, sendFile, serve, tinyDataset, type Loopback } from '../downloadServer.js';
import { publishedFashionMnist } from '../fashion.js';

/** Temporary directories, removed when the file's tests end (the Fashion-MNIST ones hold 31 MB). */
const tmp = tempDirs('backprop-download-');

/** Run `body` with a loopback server, closing it afterwards. */
async function withServer<T>(handler: Parameters<typeof serve>[0], body: (s: Loopback) => Promise<T>): Promise<T> {
  const server = await serve(handler);
  try {
    return await body(server);
  } finally {
    await server.close();
  }
}

/** The files in `dir`, sorted. */
const listing = (dir: string): string[] => readdirSync(dir).sort();
const FOUR = ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'];

/** `spec` with one file's entry changed. */
function withFile(spec: DatasetSpec, name: string, change: Partial<DatasetSpec['files'][number]>): DatasetSpec {
  return { ...spec, files: spec.files.map((f) => (f.name === name ? { ...f, ...change } : f)) };
}

describe('downloadDataset (loopback server, injected checksums)', () => {
  it('a good download: four files in place, byte for byte, reported as they go; nothing else left', async () => {
    const { spec, files } = tinyDataset(300, 10);
    const dir = join(tmp(), 'new', 'tiny'); // created as needed
    const events: DownloadProgress[] = [];
    let base = '';
    await withServer((req, res) => sendFile(files, req, res), async (s) => {
      base = s.base;
      const out = await downloadDataset(spec, { dir, mirrors: [s.base], onProgress: (p) => events.push(p) });
      assert.equal(out, dir);
      assert.equal(s.requests.length, 4);
      assert.ok(s.requests.every((r) => r.range === undefined), 'fresh downloads ask for no Range');
    });
    assert.deepEqual(listing(dir), FOUR);
    for (const [name, bytes] of files) assert.deepEqual(readFileSync(join(dir, name)), bytes, name);
    const ds = loadIdxDataset(dir);
    assert.equal(ds.train.count, 300);
    assert.equal(ds.test.count, 10);
    for (const name of files.keys()) {
      const mine = events.filter((e) => e.file === name);
      assert.equal(mine[0]!.phase, 'download');
      assert.equal(mine.at(-2)!.phase, 'verify');
      assert.deepEqual(mine.at(-1), { file: name, phase: 'done', url: `${base}${name}`, received: files.get(name)!.length, total: files.get(name)!.length, failures: [] });
    }
    const trainImages = events.filter((e) => e.file === 'train-images-idx3-ubyte.gz' && e.phase === 'download');
    assert.ok(trainImages.length > 2, 'progress reported while the bytes arrive');
    assert.ok(trainImages.every((e, i) => i === 0 || e.received >= trainImages[i - 1]!.received), 'received only grows');
  });

  it('a 404 on the first mirror, then success on the second; the failed mirror is tried last for the other files', async () => {
    const { spec, files } = tinyDataset();
    const dir = tmp();
    const done: DownloadProgress[] = [];
    await withServer((req, res) => (req.url!.startsWith('/gone/') ? res.writeHead(404, 'Not Found').end() : sendFile(files, req, res)), async (s) => {
      await downloadDataset(spec, { dir, mirrors: [`${s.base}gone`, `${s.base}ok/`], onProgress: (p) => p.phase === 'done' && done.push(p) });
      assert.equal(s.requests.filter((r) => r.path.startsWith('/gone/')).length, 1, 'the broken mirror is asked once, not per file');
      assert.equal(done[0]!.url, `${s.base}ok/train-images-idx3-ubyte.gz`);
      assert.deepEqual(done[0]!.failures, [{ url: `${s.base}gone/train-images-idx3-ubyte.gz`, reason: 'HTTP 404 Not Found' }]);
    });
    assert.deepEqual(listing(dir), FOUR);
  });

  it('a body cut short is resumed with a Range request from where it stopped', async () => {
    const { spec, files } = tinyDataset();
    const name = 'train-images-idx3-ubyte.gz';
    const whole = files.get(name)!;
    const cut = Math.floor(whole.length / 3);
    let cutOnce = false;
    const dir = tmp();
    await withServer((req, res) => {
      if (req.url!.endsWith(name) && !cutOnce) {
        cutOnce = true;
        // The connection closes a third of the way through the file.
        req.socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${whole.length}\r\n\r\n`), whole.subarray(0, cut)]));
        return;
      }
      sendFile(files, req, res);
    }, async (s) => {
      await downloadDataset(spec, { dir, mirrors: [s.base] });
      const mine = s.requests.filter((r) => r.path.endsWith(name));
      assert.equal(mine.length, 2);
      assert.equal(mine[1]!.range, `bytes=${cut}-`);
    });
    assert.deepEqual(readFileSync(join(dir, name)), whole);
    assert.deepEqual(listing(dir), FOUR);
  });

  it('a .part left by an interrupted run is resumed with Range; a server ignoring Range sends it all again', async () => {
    const { spec, files } = tinyDataset();
    const name = 'train-images-idx3-ubyte.gz';
    const whole = files.get(name)!;
    for (const honoursRange of [true, false]) {
      const dir = tmp();
      writeFileSync(join(dir, `${name}.part`), whole.subarray(0, 1000));
      await withServer((req, res) => {
        if (!honoursRange) delete req.headers.range;
        sendFile(files, req, res);
      }, async (s) => {
        await downloadDataset(spec, { dir, mirrors: [s.base] });
        assert.equal(s.requests.find((r) => r.path.endsWith(name))!.range, 'bytes=1000-');
      });
      assert.deepEqual(readFileSync(join(dir, name)), whole, `honours Range: ${honoursRange}`);
      assert.deepEqual(listing(dir), FOUR);
    }
  });

  it('a wrong checksum is refused and nothing is kept (neither the file nor its .part)', async () => {
    const { spec, files } = tinyDataset();
    const name = 't10k-labels-idx1-ubyte.gz';
    const wrong = withFile(spec, name, { md5: '0123456789abcdef0123456789abcdef' });
    const dir = tmp();
    await withServer((req, res) => sendFile(files, req, res), async (s) => {
      await assert.rejects(downloadDataset(wrong, { dir, mirrors: [s.base] }), (e: Error) => {
        assert.ok(e instanceof DownloadError);
        assert.equal(e.message, `cannot download tiny ${name}: tried ${s.base}${name} (checksum mismatch: MD5 ${md5(files.get(name)!)}, expected 0123456789abcdef0123456789abcdef (the test))`);
        return true;
      });
    });
    assert.ok(!existsSync(join(dir, name)) && !existsSync(join(dir, `${name}.part`)));
    assert.deepEqual(listing(dir), FOUR.filter((f) => f !== name), 'the good files stay');
  });

  it('right checksum but wrong contents (count, label range) is refused by the IDX check, nothing kept', async () => {
    const { spec, files } = tinyDataset();
    const labels = 'train-labels-idx1-ubyte.gz';
    // A label file whose label 7 is 12, with its checksum injected: only the contents check can catch it.
    const raw = gunzipSync(files.get(labels)!);
    raw[8 + 7] = 12;
    const bad = gzipSync(raw);
    const badFiles = new Map(files).set(labels, bad);
    const cases: [string, DatasetSpec, RegExp][] = [
      ['train-images-idx3-ubyte.gz', withFile(spec, 'train-images-idx3-ubyte.gz', { count: 41 }), /train-images-idx3-ubyte\.gz \(holds an IDX array of 40×28×28, expected images of 41×28×28\)/],
      [labels, withFile(spec, labels, { md5: md5(bad), bytes: bad.length }), /train-labels-idx1-ubyte\.gz \(label 7 is 12, expected 0 to 9\)/],
    ];
    for (const [name, wrongSpec, message] of cases) {
      const dir = tmp();
      await withServer((req, res) => sendFile(badFiles, req, res), async (s) => {
        await assert.rejects(downloadDataset(wrongSpec, { dir, mirrors: [s.base] }), message);
      });
      assert.ok(!existsSync(join(dir, name)) && !existsSync(join(dir, `${name}.part`)), `${name}: nothing kept`);
    }
  });

  it('a server that stalls (before or during the body) is given up after the timeout, named in the message', async () => {
    const { spec, files } = tinyDataset();
    for (const when of ['before headers', 'mid-body'] as const) {
      const dir = tmp();
      await withServer((req, res) => {
        if (when === 'mid-body') {
          res.writeHead(200, { 'content-length': files.get('train-images-idx3-ubyte.gz')!.length });
          res.write(files.get('train-images-idx3-ubyte.gz')!.subarray(0, 500));
        }
        // ...and then nothing more
      }, async (s) => {
        const start = performance.now();
        await assert.rejects(downloadDataset(spec, { dir, mirrors: [s.base], timeoutMs: 300 }), (e: Error) => {
          assert.match(e.message, /^cannot download tiny train-images-idx3-ubyte\.gz: tried http:\/\/127\.0\.0\.1:\d+\/train-images-idx3-ubyte\.gz \(no data for 0\.3 s \(the stall timeout: timeoutMs, or --timeout SECONDS on the command line\)\)/);
          return true;
        });
        assert.ok(performance.now() - start < 20_000, 'gave up rather than hanging');
      });
      const part = join(dir, 'train-images-idx3-ubyte.gz.part');
      if (when === 'mid-body') assert.equal(statSync(part).size, 500, 'what arrived is kept for a resume');
      assert.ok(!existsSync(join(dir, 'train-images-idx3-ubyte.gz')));
    }
  });

  it('an already complete directory: no request at all, each file reported as cached', async () => {
    const { spec, files } = tinyDataset();
    const dir = tmp();
    await withServer((req, res) => sendFile(files, req, res), async (s) => {
      await downloadDataset(spec, { dir, mirrors: [s.base] });
      const before = s.requests.length;
      const events: DownloadProgress[] = [];
      assert.equal(await downloadDataset(spec, { dir, mirrors: [s.base], onProgress: (p) => events.push(p) }), dir);
      assert.equal(s.requests.length, before, 'no request');
      assert.deepEqual(events.map((e) => [e.file, e.phase]), spec.files.map((f) => [f.name, 'cached']));
    });
  });

  it('a file of the wrong size under its name is downloaded again and replaced', async () => {
    const { spec, files } = tinyDataset();
    const dir = tmp();
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), 'not this');
    await withServer((req, res) => sendFile(files, req, res), async (s) => {
      await downloadDataset(spec, { dir, mirrors: [s.base] });
    });
    assert.deepEqual(readFileSync(join(dir, 'train-labels-idx1-ubyte.gz')), files.get('train-labels-idx1-ubyte.gz'));
  });

  it('two downloads into one directory at once: each file is fetched once, the other waits and finds it', async () => {
    const { spec, files } = tinyDataset(300, 10);
    const dir = tmp();
    const phases: string[][] = [[], []];
    await withServer((req, res) => void setTimeout(() => sendFile(files, req, res), 100), async (s) => {
      const both = await Promise.all([0, 1].map((i) => downloadDataset(spec, { dir, mirrors: [s.base], onProgress: (p) => phases[i]!.push(`${p.file} ${p.phase}`) })));
      assert.deepEqual(both, [dir, dir]);
      assert.deepEqual(s.requests.map((r) => r.path).sort(), [...files.keys()].map((n) => `/${n}`).sort(), 'each file once');
    });
    assert.deepEqual(listing(dir), FOUR, 'no .part or .lock left');
    const waited = phases.flat().filter((p) => p.endsWith(' wait')).length;
    assert.ok(waited >= 1, `one of them waited: ${phases.flat().join(', ')}`);
    for (const name of files.keys()) {
      const ends = phases.map((ph) => ph.filter((p) => p.startsWith(`${name} `)).at(-1));
      assert.deepEqual(ends.map((e) => e!.split(' ')[1]).sort(), ['cached', 'done'], name);
    }
  });

  it('a lock left by a process that is gone is taken over', async () => {
    const { spec, files } = tinyDataset();
    const dir = tmp();
    const gone = spawnSync(process.execPath, ['-e', '']).pid!; // exited: its pid runs nothing now
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz.lock'), `${gone}\n`);
    await withServer((req, res) => sendFile(files, req, res), async (s) => {
      await downloadDataset(spec, { dir, mirrors: [s.base] });
    });
    assert.deepEqual(listing(dir), FOUR);
  });

  it('aborting (the signal): the promise rejects with its reason, the .part stays, no file under its name', async () => {
    const { spec, files } = tinyDataset();
    const dir = tmp();
    const controller = new AbortController();
    await withServer((req, res) => {
      res.writeHead(200, { 'content-length': files.get('train-images-idx3-ubyte.gz')!.length });
      res.write(files.get('train-images-idx3-ubyte.gz')!.subarray(0, 700), () => setTimeout(() => controller.abort(new Error('stop')), 50));
    }, async (s) => {
      await assert.rejects(downloadDataset(spec, { dir, mirrors: [s.base], signal: controller.signal }), /^Error: stop$/);
    });
    assert.deepEqual(listing(dir), ['train-images-idx3-ubyte.gz.part']);
    assert.equal(statSync(join(dir, 'train-images-idx3-ubyte.gz.part')).size, 700);
  });

  it('refuses a mirror that is not http(s), an unknown dataset, and a refused connection names its reason', async () => {
    const { spec } = tinyDataset();
    await assert.rejects(downloadDataset(spec, { dir: tmp(), mirrors: ['ftp://127.0.0.1/x/'] }), /mirror 'ftp:\/\/127\.0\.0\.1\/x\/' is not an http:\/\/ or https:\/\/ URL/);
    await assert.rejects(downloadDataset('cifar' as 'mnist', { dir: tmp(), mirrors: ['http://127.0.0.1/'] }), /unknown dataset 'cifar' \(datasets: mnist, fashion-mnist\)/);
    const closed = await serve(() => {});
    await closed.close(); // nothing listens on its port now
    const dir = tmp();
    await assert.rejects(downloadDataset(spec, { dir, mirrors: [closed.base] }), /ECONNREFUSED 127\.0\.0\.1/);
    assert.deepEqual(listing(dir), [], 'not even an empty .part');
  });

  it('the cache: $XDG_CACHE_HOME/backprop when absolute, else ~/.cache/backprop', () => {
    assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' }), '/x/cache/backprop');
    assert.match(defaultCacheDir({ XDG_CACHE_HOME: 'relative' }), /\/\.cache\/backprop$/);
    assert.match(defaultCacheDir({}), /\/\.cache\/backprop$/);
    assert.deepEqual(missingDatasetFiles('mnist', tmp()), DATASETS.mnist.files.map((f) => f.name));
  });
});


describe('the real Fashion-MNIST files against the table in src/data/datasets.ts', () => {
  it('the files as published (rebuilt from the Debian package) have exactly the MD5s and sizes of the table', (t) => {
    const files = publishedFashionMnist(t);
    if (!files) return;
    for (const f of DATASETS['fashion-mnist'].files) {
      assert.equal(md5(files.get(f.name)!), f.md5, f.name);
      assert.equal(files.get(f.name)!.length, f.bytes, f.name);
    }
  });

  it("downloadDataset('fashion-mnist') from a loopback mirror of them: verified, 60,000 + 10,000 images of 28×28", async (t) => {
    const files = publishedFashionMnist(t);
    if (!files) return;
    const dir = tmp();
    await withServer((req, res) => sendFile(files, req, res), async (s) => {
      assert.equal(await downloadDataset('fashion-mnist', { dir, mirrors: [s.base] }), dir);
    });
    const ds = loadIdxDataset(dir);
    assert.deepEqual([ds.train.count, ds.test.count, ds.train.rows, ds.train.cols], [60000, 10000, 28, 28]);
    assert.deepEqual(listing(dir), FOUR);
  });
});
