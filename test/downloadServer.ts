/**
 * For the download tests: an HTTP server on 127.0.0.1 (never anything else), and small gzipped
 * IDX datasets made here with their checksums.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { DatasetSpec } from '../src/data/datasets.js';

/** A request the server saw: its path and Range header. */
export interface SeenRequest {
  path: string;
  range: string | undefined;
}

/** A running loopback server. */
export interface Loopback {
  /** `http://127.0.0.1:PORT/` */
  base: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => void;

/** Start a server on 127.0.0.1 at a free port; `close` also ends connections left hanging (stalls). */
export async function serve(handler: Handler): Promise<Loopback> {
  const requests: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const seen = { path: req.url ?? '', range: req.headers.range };
    requests.push(seen);
    handler(req, res, seen);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Serve `files` (by base name, under any path prefix) as a static server does: 200 with
 * Content-Length, or 206 for `Range: bytes=N-`; 404 for anything else.
 */
export function sendFile(files: Map<string, Buffer>, req: IncomingMessage, res: ServerResponse): void {
  const name = (req.url ?? '').split('/').pop() ?? '';
  const body = files.get(name);
  if (body === undefined) {
    res.writeHead(404, 'Not Found').end();
    return;
  }
  const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? NaN);
  if (Number.isInteger(from)) {
    if (from >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    res.writeHead(206, { 'content-length': body.length - from, 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` });
    res.end(body.subarray(from));
    return;
  }
  res.writeHead(200, { 'content-length': body.length }).end(body);
}

/** An IDX file of unsigned bytes: magic 00 00 08 n, the sizes big-endian, then the data. */
export function idxBytes(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

/** MD5 in lower-case hex. */
export function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

/**
 * A small MNIST-style dataset: `trainCount` and `testCount` images of 28×28 with random-ish
 * pixels (so they do not compress much and a body takes several chunks), labels `i % 10`, all
 * gzipped, with a spec whose checksums and sizes are those of these files.
 */
export function tinyDataset(trainCount = 40, testCount = 10): { spec: DatasetSpec; files: Map<string, Buffer> } {
  const files = new Map<string, Buffer>();
  let state = 12345;
  const pixels = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24);
  const labels = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i % 10);
  const add = (name: string, dims: number[], data: Uint8Array): void => void files.set(name, gzipSync(idxBytes(dims, data)));
  add('train-images-idx3-ubyte.gz', [trainCount, 28, 28], pixels(trainCount * 784));
  add('train-labels-idx1-ubyte.gz', [trainCount], labels(trainCount));
  add('t10k-images-idx3-ubyte.gz', [testCount, 28, 28], pixels(testCount * 784));
  add('t10k-labels-idx1-ubyte.gz', [testCount], labels(testCount));
  const entry = (name: string, kind: 'images' | 'labels', count: number) => ({ name, kind, count, md5: md5(files.get(name)!), bytes: files.get(name)!.length });
  const spec: DatasetSpec = {
    title: 'tiny',
    mirrors: [],
    files: [
      entry('train-images-idx3-ubyte.gz', 'images', trainCount),
      entry('train-labels-idx1-ubyte.gz', 'labels', trainCount),
      entry('t10k-images-idx3-ubyte.gz', 'images', testCount),
      entry('t10k-labels-idx1-ubyte.gz', 'labels', testCount),
    ],
    rows: 28,
    cols: 28,
    classes: 10,
    checksumSource: 'the test',
  };
  return { spec, files };
}
