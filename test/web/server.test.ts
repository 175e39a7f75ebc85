import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BUNDLED_DIGITS_FILE } from '../../src/data/bundledDigits.js';
import { PortInUseError, type PlaygroundServer, playgroundCommand, startPlaygroundServer } from '../../src/cli/playground.js';
import { UsageError } from '../../src/cli/errors.js';

/** Sends raw bytes (a request URL that fetch would normalise) and returns the raw response. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text)); // the server closes after answering
    let data = '';
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}
const statusOf = (raw: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);

/** A port that is listening (so taken) until closed. */
async function occupyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe('playground server', () => {
  let dir: string;
  let site: string;
  let pg: PlaygroundServer;
  const digits = new Uint8Array(1000).map((_, i) => i % 7);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'backprop-server-'));
    site = join(dir, 'site');
    mkdirSync(join(site, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'secret.txt'), 'TOP SECRET');
    writeFileSync(join(site, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(site, 'main.js'), 'console.log(1)');
    writeFileSync(join(site, 'style.css'), 'body{}');
    writeFileSync(join(site, 'main.js.map'), '{}');
    writeFileSync(join(site, 'data.xyz'), 'x');
    writeFileSync(join(site, '.hidden'), 'hidden');
    writeFileSync(join(site, 'digits.bin'), digits);
    writeFileSync(join(site, 'digits.bin.gz'), gzipSync(digits));
    writeFileSync(join(site, 'sub', 'a.txt'), 'a');
    symlinkSync(join(dir, 'secret.txt'), join(site, 'link.txt'));
    pg = await startPlaygroundServer({ root: site, port: 0 });
  });
  after(async () => {
    await pg.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html for / with COOP same-origin and COEP require-corp', async () => {
    const res = await fetch(pg.url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.equal(res.headers.get('cross-origin-resource-policy'), 'same-origin');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(await res.text(), '<!doctype html><title>t</title>');
    assert.match(pg.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it("lets the page compile WebAssembly (the wasm backend): script-src 'self' 'wasm-unsafe-eval'", async () => {
    // without it, default-src 'self' makes Chromium refuse WebAssembly.compile on the page and in its workers
    const csp = (await fetch(pg.url)).headers.get('content-security-policy') ?? '';
    assert.match(csp, /(^|;)\s*script-src 'self' 'wasm-unsafe-eval'\s*(;|$)/, csp);
    assert.doesNotMatch(csp, /'unsafe-eval'|'unsafe-inline'/, 'WebAssembly only, not eval');
  });

  it('sends each file with its content type', async () => {
    const expected: [string, string][] = [
      ['/index.html', 'text/html; charset=utf-8'], ['/main.js', 'text/javascript; charset=utf-8'],
      ['/style.css', 'text/css; charset=utf-8'], ['/main.js.map', 'application/json; charset=utf-8'],
      ['/data.xyz', 'application/octet-stream'], ['/sub/a.txt', 'text/plain; charset=utf-8'],
    ];
    for (const [path, type] of expected) {
      const res = await fetch(new URL(path, pg.url));
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), type, path);
      assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp', path);
      await res.arrayBuffer();
    }
  });

  it('sends the .gz sibling with Content-Encoding gzip only to clients that accept it', async () => {
    const plain = await rawRequest(pg.port, 'GET /digits.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(statusOf(plain), 200);
    assert.doesNotMatch(plain, /content-encoding/i);
    assert.match(plain, /content-type: application\/octet-stream/i);
    assert.match(plain, new RegExp(`content-length: ${digits.length}`, 'i'));

    const res = await fetch(new URL('/digits.bin', pg.url), { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(res.headers.get('content-encoding'), 'gzip');
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), digits); // fetch decompresses
  });

  it('serves /digits.bin and /generated/ from the library\'s own files when the page has none: the digits gzipped, or unzipped for a client without gzip', async () => {
    const page = mkdtempSync(join(tmpdir(), 'backprop-nodigits-'));
    writeFileSync(join(page, 'index.html'), '<!doctype html>');
    const server = await startPlaygroundServer({ root: page, port: 0 });
    try {
      const expected = new Uint8Array(gunzipSync(readFileSync(BUNDLED_DIGITS_FILE)));
      const zipped = await fetch(new URL('/digits.bin', server.url), { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(zipped.headers.get('content-encoding'), 'gzip');
      assert.deepEqual(new Uint8Array(await zipped.arrayBuffer()), expected);
      const plain = await rawRequest(server.port, 'GET /digits.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(statusOf(plain), 200);
      assert.doesNotMatch(plain, /content-encoding/i);
      assert.ok(plain.length > expected.length, 'the whole file, unzipped');
      const wasm = await fetch(new URL('/generated/kernels-shared.wasm', server.url));
      assert.equal(wasm.headers.get('content-type'), 'application/wasm');
      assert.ok(Buffer.from(await wasm.arrayBuffer()).equals(readFileSync(new URL('../../src/kernels/wasm/generated/kernels-shared.wasm', import.meta.url))));
      assert.equal((await fetch(new URL('/generated/other.js', server.url))).status, 404);
    } finally {
      await server.close();
      rmSync(page, { recursive: true, force: true });
    }
  });

  it('answers 404 (with the same headers) for unknown paths, folders and dot-files', async () => {
    for (const path of ['/nope.html', '/sub', '/sub/', '/.hidden', '/index.html/x', '/%E0%A4%A']) {
      const res = await fetch(new URL(path, pg.url));
      assert.equal(res.status, 404, path);
      assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin', path);
      await res.text();
    }
  });

  it('refuses directory traversal: nothing outside the build folder is sent', async () => {
    const paths = [
      '/../secret.txt', '/../../package.json', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt',
      '/sub/../../secret.txt', '/sub/..%2f..%2fsecret.txt', '/..\\secret.txt', '/%5c..%5csecret.txt', '//etc/passwd',
      '/link.txt', `/${'../'.repeat(8)}etc/passwd`, '/index.html%00.js',
    ];
    for (const path of paths) {
      const raw = await rawRequest(pg.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.equal(statusOf(raw), 404, `${path}: ${raw.split('\r\n')[0]}`);
      assert.doesNotMatch(raw, /TOP SECRET|root:/, path);
    }
  });

  it('HEAD sends headers only; other methods get 405', async () => {
    const head = await fetch(new URL('/main.js', pg.url), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '14');
    assert.equal(await head.text(), '');
    const post = await fetch(new URL('/main.js', pg.url), { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  it('survives malformed requests and goes on serving', async () => {
    for (const junk of ['HELLO\r\n\r\n', 'GET\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', '\x00\x01\x02\r\n\r\n', `GET /${'a'.repeat(20000)} HTTP/1.1\r\nHost: x\r\n\r\n`]) {
      const raw = await rawRequest(pg.port, junk);
      assert.ok(raw === '' || statusOf(raw) >= 400, JSON.stringify(raw.slice(0, 60)));
    }
    const absolute = await rawRequest(pg.port, 'GET http://evil.example/index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(statusOf(absolute), 200); // absolute-form: only the path counts
    assert.equal((await fetch(pg.url)).status, 200);
  });

  it('a taken port gives a one-line message suggesting another port', async () => {
    const busy = await occupyPort();
    try {
      await assert.rejects(startPlaygroundServer({ root: site, port: busy.port }), (e: Error) => {
        assert.ok(e instanceof PortInUseError);
        assert.equal(e.message, `port ${busy.port} is already in use (another playground?); try another one: backprop playground --port ${busy.port + 1}`);
        return true;
      });
      // the command reports it before building anything
      const out: string[] = [];
      await assert.rejects(playgroundCommand(['--port', String(busy.port)], { out: (s) => out.push(s) }), PortInUseError);
      assert.deepEqual(out, []);
    } finally {
      busy.server.close();
    }
  });

  it('playground --port is checked: a whole number in 1..65535', async () => {
    const io = { out: () => {} };
    for (const [args, message] of [
      [['--port', '0'], '--port must be between 1 and 65535, got 0'],
      [['--port', '65536'], '--port must be between 1 and 65535, got 65536'],
      [['--port', 'http'], "--port must be a whole number, got 'http'"],
      [['--port', '80.5'], "--port must be a whole number, got '80.5'"],
    ] as const) {
      await assert.rejects(playgroundCommand([...args], io), (e: Error) => e instanceof UsageError && e.message === message, args.join(' '));
    }
    await assert.rejects(playgroundCommand(['--prot', '8080'], io), (e: Error) => e instanceof UsageError && /unknown flag '--prot'/.test(e.message));
    const help: string[] = [];
    await playgroundCommand(['--help'], { out: (s) => help.push(s) });
    assert.match(help.join(''), /^Usage: backprop playground \[--port N\]/);
  });
});
