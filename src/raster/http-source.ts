/**
 * A ByteSource over an HTTP(S) URL, read with range requests: a GeoTIFF on S3, GCS, Azure or
 * any web server, read a block at a time without downloading the file.
 *
 * - Reads asked for in the same turn of the event loop are sorted and neighbouring ranges (closer
 *   than `coalesceGap`) are fetched as one request, so reading a row of blocks costs one request.
 * - At most `concurrency` requests are in flight per URL; the rest wait.
 * - 5xx (but 501/505), 408, 429, dropped connections and requests that get no data for
 *   `timeoutMs` are retried with exponential backoff (Retry-After honoured); 401/403/404 and other
 *   4xx fail at once with one line naming the URL.
 * - The size comes from the Content-Range of the first request (which reads the header's first
 *   `headerBytes`), or from a HEAD when the server does not say.
 * - A server that ignores Range (answers 200 with the whole file) is handled for files up to
 *   `maxWholeBytes`, read once and kept in memory; larger files are refused with the reason.
 */
import { AbortedError, InputError, UsageError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import { HEADER_CHUNK } from './tiff.js';

export interface HttpOptions {
  /** Requests in flight at once per opened URL. Default 8. */
  concurrency?: number;
  /** A request that receives nothing for this long (headers or body) is abandoned and retried, in ms. Default 30000. */
  timeoutMs?: number;
  /** Retries after the first attempt, for 5xx/408/429, dropped connections and timeouts. Default 5. */
  retries?: number;
  /** Delay before the first retry, doubled for each next one (with jitter), in ms. Default 500. */
  retryDelayMs?: number;
  /** Longest delay between two attempts, in ms (a server's Retry-After included). Default 10000. */
  maxRetryDelayMs?: number;
  /** Bytes the first request reads (the TIFF header and usually every IFD of a COG): the header parser's chunk, 65536. */
  headerBytes?: number;
  /** Ranges at most this many bytes apart are fetched together (the gap is read and dropped). Default 16384. */
  coalesceGap?: number;
  /** Coalesced ranges are cut to requests of at most this many bytes. Default 16 MiB. */
  maxRequestBytes?: number;
  /**
   * From a server that ignores Range, files up to this many bytes are read whole and kept in
   * memory (by each opened source); larger ones are refused. Default 32 MiB.
   */
  maxWholeBytes?: number;
  /** Extra request headers (e.g. Authorization). Default none. */
  headers?: Readonly<Record<string, string>>;
}

export const DEFAULT_HTTP_OPTIONS: Required<HttpOptions> = {
  concurrency: 8,
  timeoutMs: 30_000,
  retries: 5,
  retryDelayMs: 500,
  maxRetryDelayMs: 10_000,
  headerBytes: HEADER_CHUNK,
  coalesceGap: 16_384,
  maxRequestBytes: 16 * 1024 * 1024,
  maxWholeBytes: 32 * 1024 * 1024,
  headers: {},
};

/** Counters of one source's traffic (for tests and benchmarks). */
export interface HttpStats {
  /** Requests sent (retries included). */
  requests: number;
  /** Attempts that failed and were retried. */
  retries: number;
  /** Body bytes received. */
  bytes: number;
}

/** True for an `http://` or `https://` URL. */
export function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

const SECRET_PARAM = /sig|signature|token|credential|secret|password|auth|key/i;

/**
 * The URL as messages show it: without user:password and with the values of query parameters
 * that look like secrets (a pre-signed URL's signature, a SAS token) replaced by REDACTED.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  let changed = false;
  if (u.username !== '' || u.password !== '') {
    u.username = '';
    u.password = '';
    changed = true;
  }
  for (const [k, v] of [...u.searchParams]) {
    if (SECRET_PARAM.test(k) && v !== '') {
      u.searchParams.set(k, 'REDACTED');
      changed = true;
    }
  }
  return changed ? u.toString() : url;
}

function resolveHttpOptions(options: HttpOptions = {}): Required<HttpOptions> {
  const o = { ...DEFAULT_HTTP_OPTIONS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<HttpOptions>;
  const positive = ['concurrency', 'timeoutMs', 'headerBytes', 'maxRequestBytes'] as const;
  const nonNegative = ['retries', 'retryDelayMs', 'maxRetryDelayMs', 'coalesceGap', 'maxWholeBytes'] as const;
  for (const k of positive) if (!(Number.isInteger(o[k]) && o[k] > 0)) throw new UsageError(`http option ${k} must be a positive integer, got ${o[k]}`);
  for (const k of nonNegative) if (!(Number.isInteger(o[k]) && o[k] >= 0)) throw new UsageError(`http option ${k} must be an integer >= 0, got ${o[k]}`);
  return o;
}

/** A failed attempt worth another try. */
class Retryable extends Error {
  constructor(
    message: string,
    readonly fix: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

interface Target {
  /** The URL fetched (user:password moved to an Authorization header). */
  url: string;
  /** The URL as messages show it. */
  name: string;
  headers: Record<string, string>;
}

function target(url: string, o: Required<HttpOptions>): Target {
  const name = redactUrl(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw new InputError(`${name}: not a valid URL; give http(s)://host/path`, { file: name, cause: err });
  }
  const headers: Record<string, string> = { 'accept-encoding': 'identity', ...lowerKeys(o.headers) };
  if (u.username !== '' || u.password !== '') {
    headers.authorization ??= `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  return { url: u.toString(), name, headers };
}

function lowerKeys(h: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

interface Answer {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/**
 * One request. 200 and 206 bodies are read (a 200 body only up to `max200` bytes, else an
 * InputError from `tooBig`); any other status comes back with an empty body. Network errors and
 * timeouts throw Retryable.
 */
async function attempt(
  t: Target, method: 'GET' | 'HEAD', range: [number, number] | null, o: Required<HttpOptions>, stats: HttpStats,
  signal: AbortSignal | null, max200: number, tooBig: (length: number | null) => InputError,
): Promise<Answer> {
  if (signal?.aborted) throw new AbortedError(`${t.name}: aborted`);
  const ac = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, o.timeoutMs);
  };
  const onClose = () => ac.abort();
  signal?.addEventListener('abort', onClose);
  const headers = { ...t.headers, ...(range ? { range: `bytes=${range[0]}-${range[1] - 1}` } : {}) };
  stats.requests++;
  arm();
  try {
    const res = await fetch(t.url, { method, headers, signal: ac.signal, redirect: 'follow' });
    const declared = Number(res.headers.get('content-length') ?? NaN);
    const length = Number.isSafeInteger(declared) && declared >= 0 ? declared : null;
    if (method === 'HEAD' || (res.status !== 200 && res.status !== 206)) {
      await res.body?.cancel().catch(() => undefined);
      return { status: res.status, headers: res.headers, body: new Uint8Array(0) };
    }
    const encoding = res.headers.get('content-encoding');
    if (encoding !== null && encoding.toLowerCase() !== 'identity') {
      await res.body?.cancel().catch(() => undefined);
      throw new InputError(`${t.name}: the server sent the bytes ${encoding}-encoded although tilecast asked for them as they are (Accept-Encoding: identity); serve the file without content encoding`, { file: t.name });
    }
    const limit = res.status === 200 ? max200 : range ? range[1] - range[0] : Infinity;
    if (length !== null && length > limit) {
      await res.body?.cancel().catch(() => undefined);
      if (res.status === 200) throw tooBig(length);
      throw new InputError(`${t.name}: the server answered a request for ${limit} bytes with ${length}; it does not handle range requests correctly: download the file and give its path`, { file: t.name });
    }
    const body = await readBody(res, length, limit, arm, () => {
      if (res.status === 200) throw tooBig(null);
      throw new InputError(`${t.name}: the server answered a request for ${limit} bytes with more; it does not handle range requests correctly: download the file and give its path`, { file: t.name });
    });
    stats.bytes += body.length;
    if (length !== null && body.length !== length) throw new Retryable(`the response ended after ${body.length} of ${length} bytes`, 'check the network and try again');
    return { status: res.status, headers: res.headers, body };
  } catch (err) {
    if (err instanceof InputError || err instanceof Retryable) throw err;
    if (signal?.aborted) throw new AbortedError(`${t.name}: aborted while a request was in flight`, { cause: err });
    if (timedOut) throw new Retryable(`no data for ${o.timeoutMs / 1000} s`, 'the server or the network is too slow: try again later');
    if (err instanceof RangeError) throw new InputError(`${t.name}: the response does not fit in memory (${err.message}); download the file and give its path`, { file: t.name, cause: err });
    throw networkError(t, err);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onClose);
  }
}

async function readBody(res: Response, length: number | null, limit: number, progress: () => void, over: () => never): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let out: Uint8Array | null = length !== null ? new Uint8Array(length) : null;
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    progress();
    if (n + value.length > limit || (out !== null && n + value.length > out.length)) {
      await reader.cancel().catch(() => undefined);
      over();
    }
    if (out !== null) out.set(value, n);
    else chunks.push(value);
    n += value.length;
  }
  if (out === null) {
    out = new Uint8Array(n);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
  }
  return out.subarray(0, n);
}

const PERMANENT_NET = new Set(['ENOTFOUND', 'ERR_INVALID_URL', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']);

function networkError(t: Target, err: unknown): Error {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (err as { code?: string }).code;
  const what = cause?.message ?? (err as Error).message;
  if (code === 'ENOTFOUND') return new InputError(`${t.name}: host ${new URL(t.url).host} not found; check the URL`, { file: t.name, cause: err });
  if (code !== undefined && (PERMANENT_NET.has(code) || code.includes('CERT'))) {
    return new InputError(`${t.name}: TLS certificate not accepted (${code}: ${what}); check the URL, or give the CA with NODE_EXTRA_CA_CERTS`, { file: t.name, cause: err });
  }
  return new Retryable(`connection failed (${code ?? what})`, 'check the network and the URL');
}

/** The final error for a status that is not 200/206, or a Retryable for one worth another try. */
function statusError(t: Target, status: number, headers: Headers): Error {
  const text = `HTTP ${status}${STATUS_TEXT[status] ? ` ${STATUS_TEXT[status]}` : ''}`;
  if (status === 404 || status === 410) return new InputError(`${t.name}: not found (${text}); check the URL`, { file: t.name });
  if (status === 401 || status === 403) {
    return new InputError(`${t.name}: access denied (${text}); the URL needs credentials: give a pre-signed URL (or make the file public), or download the file and give its path`, { file: t.name });
  }
  if (status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505)) {
    return new Retryable(text, status === 429 ? 'the server limits requests: try again later' : 'the server is failing or overloaded: try again later', retryAfter(headers.get('retry-after')));
  }
  return new InputError(`${t.name}: the server answered ${text}; check the URL`, { file: t.name });
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout',
  410: 'Gone', 412: 'Precondition Failed', 416: 'Range Not Satisfiable', 429: 'Too Many Requests', 500: 'Internal Server Error',
  501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
};

function retryAfter(v: string | null): number | null {
  if (v === null) return null;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const d = Date.parse(v);
  return Number.isNaN(d) ? null : Math.max(0, d - Date.now());
}

function sleep(ms: number, signal: AbortSignal | null): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}

/** `fn` with retries and backoff for Retryable failures; the last failure becomes an InputError naming the URL. */
async function withRetries<T>(t: Target, o: Required<HttpOptions>, stats: HttpStats, signal: AbortSignal | null, fn: () => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof Retryable)) throw err;
      if (signal?.aborted) throw new AbortedError(`${t.name}: aborted`, { cause: err });
      if (n >= o.retries) {
        throw new InputError(`${t.name}: ${err.message} (${n + 1} attempt${n === 0 ? '' : 's'}); ${err.fix}`, { file: t.name, cause: err });
      }
      stats.retries++;
      const backoff = Math.min(o.maxRetryDelayMs, o.retryDelayMs * 2 ** n);
      const wait = err.retryAfterMs !== null ? Math.min(o.maxRetryDelayMs, err.retryAfterMs) : backoff * (0.5 + Math.random() / 2);
      await sleep(wait, signal);
      if (signal?.aborted) throw new AbortedError(`${t.name}: aborted`, { cause: err });
    }
  }
}

function noRangeError(t: Target, o: Required<HttpOptions>, length: number | null): InputError {
  const size = length === null ? 'the whole file' : `the whole file (${length} bytes)`;
  return new InputError(
    `${t.name}: the server ignores range requests (it answered with ${size}), and tilecast reads whole only files up to ${o.maxWholeBytes} bytes from such servers; serve the file from a server that supports Range (S3, GCS, nginx, ...) or download it and give its path`,
    { file: t.name },
  );
}

/** The largest file fetchBytes reads whole: an ONNX model (a protobuf) is at most 2 GB. */
const MAX_FETCH_BYTES = 2 ** 31;

/**
 * A whole file from a URL (e.g. a model for onnxruntime, which creates a session from bytes),
 * with the same retries and errors as range reads. `signal` abandons it with an AbortedError.
 */
export async function fetchBytes(url: string, options: HttpOptions = {}, signal: AbortSignal | null = null): Promise<Uint8Array> {
  const o = resolveHttpOptions(options);
  const t = target(url, o);
  const stats: HttpStats = { requests: 0, retries: 0, bytes: 0 };
  if (signal?.aborted) throw new AbortedError(`${t.name}: aborted`);
  const tooBig = (length: number | null) => new InputError(
    `${t.name}: the file is ${length === null ? 'larger than' : `${length} bytes, over`} the ${MAX_FETCH_BYTES} bytes tilecast fetches whole (an ONNX model is at most 2 GB); download it and give its path`,
    { file: t.name },
  );
  return withRetries(t, o, stats, signal, async () => {
    const a = await attempt(t, 'GET', null, o, stats, signal, MAX_FETCH_BYTES, tooBig);
    if (a.status !== 200) throw statusError(t, a.status, a.headers);
    return a.body;
  });
}

interface Pending {
  start: number;
  end: number;
  resolve: (b: Uint8Array) => void;
  reject: (e: unknown) => void;
}

export class HttpByteSource implements ByteSource {
  readonly name: string;
  size = 0;
  /** The ETag (else Last-Modified) of the first answer; '' when the server gives neither. */
  version = '';
  readonly stats: HttpStats = { requests: 0, retries: 0, bytes: 0 };
  private readonly t: Target;
  /** The file's first bytes, from the first request. */
  private prefix: Uint8Array = new Uint8Array(0);
  /** The whole file, from a server that ignores Range. */
  private whole: Uint8Array | null = null;
  private queue: Pending[] = [];
  private flushing = false;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly closer = new AbortController();

  private constructor(
    url: string,
    private readonly o: Required<HttpOptions>,
  ) {
    this.t = target(url, o);
    this.name = this.t.name;
  }

  /** Open a URL: reads its first `headerBytes` and learns its size. InputError naming it when that fails. */
  static async open(url: string, options?: HttpOptions): Promise<HttpByteSource> {
    const s = new HttpByteSource(url, resolveHttpOptions(options));
    await s.start();
    return s;
  }

  private async start(): Promise<void> {
    const { body, total } = await this.slot(() => this.get(0, this.o.headerBytes));
    if (this.whole === null && total === null) {
      // the server did not say: ask with HEAD
      const head = await this.slot(() => withRetries(this.t, this.o, this.stats, this.closer.signal, async () => {
        const a = await attempt(this.t, 'HEAD', null, this.o, this.stats, this.closer.signal, 0, () => noRangeError(this.t, this.o, null));
        if (a.status !== 200) throw statusError(this.t, a.status, a.headers);
        return a;
      }));
      const n = Number(head.headers.get('content-length'));
      if (head.headers.get('content-length') === null || !Number.isSafeInteger(n) || n < body.length) {
        throw new InputError(`${this.name}: the server does not tell the file's size (no total in Content-Range, no Content-Length for HEAD); serve it from a server that does, or download it and give its path`, { file: this.name });
      }
      this.size = n;
    } else {
      this.size = this.whole?.length ?? total!;
    }
    if (this.size === 0) throw new InputError(`${this.name}: the file is empty (0 bytes); give a GeoTIFF`, { file: this.name });
    this.prefix = body;
  }

  /**
   * Bytes [start, end) with retries (end clipped to the file when the size is not known yet), and
   * the file's size when the server told it. A 200 answer keeps the whole file, when small enough.
   */
  private get(start: number, end: number): Promise<{ body: Uint8Array; total: number | null }> {
    const t = this.t;
    return withRetries(t, this.o, this.stats, this.closer.signal, async () => {
      const a = await attempt(t, 'GET', [start, end], this.o, this.stats, this.closer.signal, this.o.maxWholeBytes, (n) => noRangeError(t, this.o, n));
      const version = a.status === 200 || a.status === 206 ? (a.headers.get('etag') ?? a.headers.get('last-modified') ?? '') : '';
      if (this.version === '') this.version = version;
      else if (version !== '' && version !== this.version) {
        throw new InputError(`${this.name}: the file changed while it was read (version ${this.version}, now ${version}); try again once it is complete`, { file: this.name });
      }
      if (a.status === 200) {
        if (this.size > 0 && a.body.length !== this.size) {
          throw new InputError(`${this.name}: the file was ${this.size} bytes and is now ${a.body.length}; it changed while it was read: try again once it is complete`, { file: this.name });
        }
        this.whole = a.body;
        return { body: a.body.slice(start, end), total: a.body.length };
      }
      if (a.status === 416 && start === 0) return { body: new Uint8Array(0), total: 0 };
      if (a.status !== 206) {
        if (a.status === 416) {
          throw new InputError(`${this.name}: the server has no bytes ${start}-${end - 1} (HTTP 416) in a file it said has ${this.size}; the file changed while it was read, or is damaged`, { file: this.name });
        }
        throw statusError(t, a.status, a.headers);
      }
      const cr = /^bytes (\d+)-(\d+)\/(\d+|\*)$/i.exec((a.headers.get('content-range') ?? '').trim());
      if (cr === null) {
        throw new InputError(`${this.name}: the server's partial answer has no valid Content-Range (${JSON.stringify(a.headers.get('content-range'))}); it does not handle range requests correctly: download the file and give its path`, { file: this.name });
      }
      const [first, last] = [Number(cr[1]), Number(cr[2])];
      const total = cr[3] === '*' ? null : Number(cr[3]);
      if (first !== start || last < first || last >= end || a.body.length !== last - first + 1 || (last < end - 1 && total !== null && last !== total - 1)) {
        throw new InputError(`${this.name}: asked for bytes ${start}-${end - 1}, the server sent ${cr[0]} with ${a.body.length} bytes; it does not handle range requests correctly: download the file and give its path`, { file: this.name });
      }
      if (this.size > 0 && total !== null && total !== this.size) {
        throw new InputError(`${this.name}: the file was ${this.size} bytes and is now ${total}; it changed while it was read: try again once it is complete`, { file: this.name });
      }
      return { body: a.body, total };
    });
  }

  /** Run `fn` when fewer than `concurrency` requests are in flight. */
  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    // a finished request hands its slot to the next waiting one
    if (this.active >= this.o.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    if (this.closer.signal.aborted) return Promise.reject(new InputError(`${this.name}: read after close()`, { file: this.name }));
    const end = Math.min(this.size, offset + length);
    if (!(end > offset)) return Promise.resolve(new Uint8Array(0));
    const held = this.whole ?? (end <= this.prefix.length ? this.prefix : null);
    if (held !== null) return Promise.resolve(held.slice(offset, end));
    return new Promise((resolve, reject) => {
      this.queue.push({ start: offset, end, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sort the reads asked for since the last flush and fetch neighbours together. */
  private flush(): void {
    this.flushing = false;
    const queue = this.queue.sort((a, b) => a.start - b.start);
    this.queue = [];
    let group: Pending[] = [];
    let start = 0;
    let end = 0;
    for (const p of queue) {
      if (group.length > 0 && p.start <= end + this.o.coalesceGap && Math.max(end, p.end) - start <= this.o.maxRequestBytes) {
        group.push(p);
        end = Math.max(end, p.end);
      } else {
        if (group.length > 0) this.serve(group, start, end);
        group = [p];
        start = p.start;
        end = p.end;
      }
    }
    if (group.length > 0) this.serve(group, start, end);
  }

  private serve(group: Pending[], start: number, end: number): void {
    this.slot(() => (this.whole !== null ? Promise.resolve({ body: this.whole.slice(start, end) as Uint8Array }) : this.get(start, end))).then(
      ({ body }) => {
        for (const p of group) p.resolve(body.slice(p.start - start, p.end - start));
      },
      (err: unknown) => {
        for (const p of group) p.reject(err);
      },
    );
  }

  async close(): Promise<void> {
    this.closer.abort();
    const queue = this.queue;
    this.queue = [];
    for (const p of queue) p.reject(new InputError(`${this.name}: closed while a read was waiting`, { file: this.name }));
    this.prefix = new Uint8Array(0);
    this.whole = null;
  }
}
