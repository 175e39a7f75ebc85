import { createReadStream, existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { extname, join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { BUNDLED_DIGITS_FILE } from '../data/bundledDigits.js';
import { intFlag, parseFlags } from './args.js';

export const PLAYGROUND_HELP = `Usage: backprop playground [--port N] [--no-build]

Serves the playground page on http://127.0.0.1:N/ (default port 8080): the graph explorer,
training in the browser, and drawing a digit. Builds the page first (into web/dist/) when
the build tools are installed. Stop it with Ctrl-C.

  --port N     the port to listen on, 1..65535 (default 8080)
  --no-build   serve the page built before (npm run build:web) without building it again
`;

/** The folder the page is built into by scripts/build-web.mjs (the same from src/cli and dist/cli). */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));
const BUILD_SCRIPT = new URL('../../scripts/build-web.mjs', import.meta.url);
/** The wasm backend's kernels and thread worker (scripts/build-wasm.mjs), served as /generated/… when the page has no copy. */
const KERNELS_DIR = fileURLToPath(new URL('../kernels/wasm/generated/', import.meta.url));
const KERNEL_FILES = ['kernels.wasm', 'kernels-shared.wasm', 'threadWorker.js'];
const DEFAULT_PORT = 8080;

/** The content type of each file the build writes; anything else is sent as bytes. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Headers on every response. COOP + COEP make the page cross-origin isolated, so
 * SharedArrayBuffer (threaded WebAssembly) is available; the CSP keeps the page to its own
 * files, so it works offline and nothing is fetched from elsewhere.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

/** The port is taken; the message suggests the next one. */
export class PortInUseError extends Error {
  // name stays 'Error', so the CLI prints "backprop: error: port 8080 is in use ..."
  constructor(readonly port: number) {
    super(`port ${port} is already in use (another playground?); try another one: backprop playground --port ${port < 65535 ? port + 1 : 8081}`);
  }
}

export interface PlaygroundServer {
  server: Server;
  /** The page's address, e.g. http://127.0.0.1:8080/ */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves the files of `root` (the built page) on 127.0.0.1: GET and HEAD only, no directory
 * listings, nothing outside `root`; a `.gz` sibling is sent instead of a file to clients
 * that accept gzip; `/digits.bin` and `/generated/` (the wasm kernels and thread worker), unless
 * `root` has them, are the library's own files (BUNDLED_DIGITS_FILE, src/kernels/wasm/generated/).
 * Port 0 picks a free port.
 *
 * @throws PortInUseError when the port is taken.
 * @example
 * const { url, close } = await startPlaygroundServer({ root: WEB_DIST, port: 0 });
 */
export async function startPlaygroundServer(options: { root?: string; port: number }): Promise<PlaygroundServer> {
  const root = options.root ?? WEB_DIST;
  const server = createServer((req, res) => {
    serve(root, req, res).catch(() => {
      // an error after the headers went out: nothing more can be said to this client
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  // a malformed request: answer 400 and close that connection; the server goes on
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      if (e.code === 'EADDRINUSE') reject(new PortInUseError(options.port));
      else if (e.code === 'EACCES') reject(new Error(`no permission to listen on port ${options.port}; use a port above 1023: backprop playground --port ${DEFAULT_PORT}`));
      else reject(e);
    };
    server.once('error', onError);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function send(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The file under `root` that a request path names, or null: outside root, hidden, or not a file. */
async function resolveFile(root: string, pathname: string): Promise<string | null> {
  root = await realpath(root).catch(() => ''); // resolved per request: the page may be (re)built after the start
  if (!root) return null;
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return null; // a malformed %-escape
  }
  if (path.endsWith('/')) path += 'index.html';
  // no '..' (nor any other dot-file) and no NUL; the realpath check below is the second guard
  if (path.includes('\0') || path.split(/[/\\]/).some((part) => part.startsWith('.'))) return null;
  const file = join(root, path);
  try {
    // realpath: a symbolic link inside root must not lead outside it
    const real = await realpath(file);
    if (!real.startsWith(root + sep) || !(await stat(real)).isFile()) return null;
    return real;
  } catch {
    return null;
  }
}

async function serve(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'only GET and HEAD\n', { Allow: 'GET, HEAD' });
  let pathname: string;
  try {
    pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    return send(res, 400, 'bad request\n');
  }
  const acceptsGzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const file = await resolveFile(root, pathname);
  let body: string;
  let gzipped: boolean;
  if (file) {
    gzipped = acceptsGzip && existsSync(`${file}.gz`);
    body = gzipped ? `${file}.gz` : file;
  } else if (pathname === '/digits.bin' && existsSync(BUNDLED_DIGITS_FILE)) {
    // the page's digits: the package's bundled digits file, gzipped, unzipped here for a client that wants it plain
    gzipped = acceptsGzip;
    body = BUNDLED_DIGITS_FILE;
  } else if (pathname.startsWith('/generated/') && KERNEL_FILES.includes(pathname.slice(11)) && existsSync(join(KERNELS_DIR, pathname.slice(11)))) {
    // the wasm backend's files, where the library keeps them (the package ships them once, in dist/)
    gzipped = false;
    body = join(KERNELS_DIR, pathname.slice(11));
  } else {
    return send(res, 404, `not found: ${pathname}\n`);
  }
  const unzip = !gzipped && body === BUNDLED_DIGITS_FILE;
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': CONTENT_TYPES[extname(file ?? pathname)] ?? 'application/octet-stream',
    ...(unzip ? {} : { 'Content-Length': (await stat(body)).size }),
    ...(gzipped ? { 'Content-Encoding': 'gzip' } : {}),
    Vary: 'Accept-Encoding',
  });
  if (req.method === 'HEAD') return void res.end();
  await pipeline(unzip ? [createReadStream(body), createGunzip(), res] : [createReadStream(body), res]);
}

/**
 * Builds the page with scripts/build-web.mjs when that script and its tools (esbuild, tsx)
 * are here; otherwise serves the page built earlier.
 */
async function buildPage(out: (s: string) => void): Promise<void> {
  let buildWeb: (() => Promise<unknown>) | undefined;
  try {
    ({ buildWeb } = (await import(BUILD_SCRIPT.href)) as { buildWeb: () => Promise<unknown> });
  } catch (e) {
    // an installed package has neither the script nor esbuild: serve what was built
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
  }
  if (buildWeb) {
    out('building the page…\n');
    await buildWeb();
  } else if (!existsSync(join(WEB_DIST, 'index.html'))) {
    throw new Error(`the playground page is not built (${WEB_DIST} is empty) and the build tools are missing: run npm install, then npm run build:web`);
  }
}

/**
 * Starts `backprop playground`: builds the page, serves it, prints its URL. Returns the
 * running server (the command keeps the process alive until Ctrl-C).
 *
 * @throws UsageError (./errors.js) for a bad flag; PortInUseError when the port is taken.
 */
export async function startPlayground(args: string[], io: { out(s: string): void }): Promise<PlaygroundServer | null> {
  const { values } = parseFlags('playground', args, {
    port: { type: 'string' },
    'no-build': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(PLAYGROUND_HELP);
    return null;
  }
  const port = intFlag('port', values.port, DEFAULT_PORT, 1, 65535);
  // listen first, so a taken port is reported at once, before the build
  const started = await startPlaygroundServer({ root: WEB_DIST, port });
  try {
    if (values['no-build']) {
      if (!existsSync(join(WEB_DIST, 'index.html'))) throw new Error(`the playground page is not built (${WEB_DIST} has no index.html): run npm run build:web, or leave out --no-build`);
    } else {
      await buildPage(io.out);
    }
  } catch (e) {
    await started.close();
    throw e;
  }
  io.out(`playground: ${started.url}  (Ctrl-C stops it)\n`);
  return started;
}

/** `backprop playground [--port N]`, for the CLI's dispatcher. */
export async function playgroundCommand(args: string[], io: { out(s: string): void }): Promise<void> {
  await startPlayground(args, io);
}
