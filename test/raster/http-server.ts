/**
 * A real HTTP server for the remote-read tests: serves folders with Range support (or without),
 * logs every request, counts the requests in flight, and fails or delays the ones a hook picks.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export interface Logged {
  method: string;
  /** URL path, e.g. /corpus/byte.tif */
  path: string;
  /** The Range header, or null. */
  range: string | null;
  /** The Authorization header, or null. */
  authorization: string | null;
  /** What the server answered: a status, or 'delayed' for a response held back until the client gave up. */
  answer: number | 'delayed';
}

/** What the hook does to a request: answer with a status, hold it back, or serve it (null). */
export type Fault = { status: number; headers?: Record<string, string> } | { delayMs: number } | null;

export interface ServerOptions {
  /** URL prefix → folder, e.g. { corpus: '/path/to/files' } serves /corpus/NAME. */
  roots: Record<string, string>;
  /** Honour Range headers (206); false answers 200 with the whole file. Default true. */
  ranges?: boolean;
  /** Content-Range with an unknown total (`bytes a-b/*`), as some servers send. Default false. */
  unknownTotal?: boolean;
  /** Hold every answer back this long, so that requests overlap. Default 0. */
  latencyMs?: number;
  /** The ETag sent with each answer (none when absent). */
  etag?: (req: Logged, index: number) => string;
  /** Decides a fault for each request (after it is logged). */
  fault?: (req: Logged, index: number) => Fault;
}

export interface TestServer {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  log: Logged[];
  /** Most requests ever in flight at once. */
  maxInFlight: number;
  options: ServerOptions;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<TestServer> {
  let inFlight = 0;
  const state: TestServer = { url: '', log: [], maxInFlight: 0, options, close: async () => {} };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const entry: Logged = { method: req.method ?? 'GET', path, range: req.headers.range ?? null, authorization: req.headers.authorization ?? null, answer: 0 };
    const index = state.log.push(entry) - 1;
    const fault = state.options.fault?.(entry, index) ?? null;
    const etag = state.options.etag?.(entry, index);
    if (etag !== undefined) res.setHeader('etag', etag);
    const answer = () => serve(state.options, entry, path, req, res);
    if (fault !== null && 'status' in fault) {
      entry.answer = fault.status;
      res.writeHead(fault.status, { 'content-length': '0', ...fault.headers }).end();
    } else if (fault !== null) {
      entry.answer = 'delayed';
      const timer = setTimeout(answer, fault.delayMs);
      req.on('close', () => clearTimeout(timer));
      res.on('close', () => clearTimeout(timer));
    } else if (state.options.latencyMs) {
      setTimeout(answer, state.options.latencyMs);
    } else {
      answer();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

function serve(o: ServerOptions, entry: Logged, path: string, req: IncomingMessage, res: ServerResponse): void {
  if (res.destroyed) return;
  const [, root, ...rest] = path.split('/');
  const folder = o.roots[root ?? ''];
  const rel = normalize(rest.join('/'));
  let size = -1;
  const file = folder !== undefined && !rel.startsWith('..') ? join(folder, rel) : '';
  try {
    const st = statSync(file);
    if (st.isFile()) size = st.size;
  } catch {
    // not there
  }
  const reply = (status: number, headers: Record<string, string | number>, start?: number, end?: number) => {
    if (entry.answer === 0) entry.answer = status;
    res.writeHead(status, { 'accept-ranges': o.ranges === false ? 'none' : 'bytes', ...headers });
    if (req.method === 'HEAD' || start === undefined || end === undefined || end < start) res.end();
    else createReadStream(file, { start, end }).pipe(res);
  };
  if (size < 0) return reply(404, { 'content-length': 0 });
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (o.ranges === false || m === null || req.method === 'HEAD') return reply(200, { 'content-length': size }, 0, size - 1);
  const start = Number(m[1]);
  const end = Math.min(m[2] === '' ? size - 1 : Number(m[2]), size - 1);
  if (start >= size) return reply(416, { 'content-range': `bytes */${size}`, 'content-length': 0 });
  return reply(206, { 'content-range': `bytes ${start}-${end}/${o.unknownTotal ? '*' : size}`, 'content-length': end - start + 1 }, start, end);
}
