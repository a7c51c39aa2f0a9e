/**
 * Remote GeoTIFFs read with HTTP range requests, against a real node:http server started here:
 * every readable corpus file gives the same pixels as the local file; a row of blocks costs
 * fewer requests than blocks; requests in flight are bounded; 5xx answers and stalled requests
 * are retried (the server sees the retries) without changing a pixel; 401/403/404 fail at once
 * with one line naming the URL; a server that ignores Range is handled or refused clearly.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { prng } from '../../scripts/models/prng.js';
import { AbortedError, InputError, TilecastError, UnsupportedError } from '../../src/errors.js';
import { readBytes, readText } from '../../src/raster/byte-source.js';
import { checksums } from '../../src/raster/checksum.js';
import { fetchBytes, HttpByteSource, redactUrl } from '../../src/raster/http-source.js';
import { rasterInfo } from '../../src/raster/info.js';
import { RasterSource } from '../../src/raster/source.js';
import { createGeoTiffWriter } from '../../src/write/writer.js';
import { CORPUS_DIR, needCorpus } from '../helpers/env.js';
import { startServer, type Fault, type Logged, type TestServer } from './http-server.js';

const SEED = process.env.TILECAST_SEED !== undefined ? Number(process.env.TILECAST_SEED) : (Date.now() ^ (process.pid << 16)) >>> 0;
const REPLAY = `seed ${SEED} (replay: TILECAST_SEED=${SEED} node --import tsx --test test/raster/remote.test.ts)`;

interface Entry {
  file: string;
  expected: 'readable' | 'malformed' | 'unsupported';
  checksums: number[] | null;
}

const skip = needCorpus();
const manifest: Entry[] = skip ? [] : JSON.parse(readFileSync(join(CORPUS_DIR, 'MANIFEST.json'), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'tilecast-remote-'));
const roots = { corpus: join(CORPUS_DIR, 'files'), docs: CORPUS_DIR, gen: dir };
/** Quick retries for the tests: no waiting between attempts. */
const FAST = { retryDelayMs: 1, maxRetryDelayMs: 1 };

// A 2048 x 512 uint16 file of 256 x 256 uncompressed blocks (128 KiB each, 8 per block row):
// far larger than the first request, so that block reads go to the server.
const GEN = { width: 2048, height: 512, block: 256 };
const genFile = join(dir, 'blocks.tif');

let server: TestServer;
before(async () => {
  server = await startServer({ roots });
  const w = await createGeoTiffWriter(genFile, { width: GEN.width, height: GEN.height, dataType: 'uint16', blockSize: GEN.block, compression: 'none' });
  const rnd = prng(SEED);
  for (let row = 0; row < GEN.height / GEN.block; row++) {
    const plane = new Uint16Array(GEN.width * GEN.block);
    for (let i = 0; i < plane.length; i++) plane[i] = Math.floor(rnd() * 65536);
    await w.writeBlockRow(row, plane);
  }
  await w.close();
});
after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Reset the server's log and options between tests. */
function reset(options: Partial<TestServer['options']> = {}): void {
  server.log.length = 0;
  server.maxInFlight = 0;
  server.options = { roots, ...options };
}

const statSize = (f: string) => statSync(f).size;
const url = (root: string, file: string) => `${server.url}/${root}/${file}`;
const corpusUrl = (file: string) => url('corpus', file);

async function pixels(src: RasterSource): Promise<Float32Array[]> {
  return (await src.readWindow({ x: 0, y: 0, width: src.width, height: src.height }, { validity: false })).data;
}

/** An error's message is one line naming `name`. */
function assertOneLine(err: unknown, name: string, kind: abstract new (...args: never[]) => TilecastError = InputError): asserts err is TilecastError {
  assert.ok(err instanceof kind, `expected a ${kind.name}, got ${String(err)}`);
  assert.ok(err.message.includes(name), `names ${name}: ${err.message}`);
  assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => assert.fail('expected a failure'), (e: unknown) => e);
}

describe('remote GeoTIFFs over HTTP', { skip }, () => {
  test('every readable corpus file gives the same pixels as the local file; the others fail alike, naming the URL', async () => {
    reset();
    for (const e of manifest) {
      const local = join(roots.corpus, e.file);
      if (e.expected === 'readable') {
        const src = await RasterSource.open(corpusUrl(e.file));
        try {
          assert.deepEqual(await checksums(src), e.checksums, e.file);
          const near = await RasterSource.open(local);
          try {
            assert.deepEqual([src.width, src.height, src.bandCount, src.dataType, src.geoTransform, src.overviewCount], [near.width, near.height, near.bandCount, near.dataType, near.geoTransform, near.overviewCount], e.file);
          } finally {
            await near.close();
          }
        } finally {
          await src.close();
        }
      } else {
        const read = async (path: string) => {
          const src = await RasterSource.open(path);
          try {
            await checksums(src);
          } finally {
            await src.close();
          }
        };
        const want = await failure(read(local));
        const got = await failure(read(corpusUrl(e.file)));
        assertOneLine(got, corpusUrl(e.file), e.expected === 'unsupported' ? UnsupportedError : InputError);
        assert.equal((got as Error).constructor, (want as Error).constructor, e.file);
        // the same words, with the URL in place of the path
        assert.equal((got as Error).message.replaceAll(corpusUrl(e.file), local), (want as Error).message, e.file);
      }
    }
    assert.ok(server.log.every((l) => l.range !== null && l.method === 'GET'), 'every request is a range GET');
  });

  test('rasterInfo of a URL agrees with the local file', async () => {
    reset();
    const remote = await rasterInfo(corpusUrl('cogeo.tif'), { checksum: true });
    const local = await rasterInfo(join(roots.corpus, 'cogeo.tif'), { checksum: true });
    assert.deepEqual({ ...remote, file: '' }, { ...local, file: '' });
    assert.equal(remote.file, corpusUrl('cogeo.tif'));
    // and its overviews
    const src = await RasterSource.open(corpusUrl('cogeo.tif'));
    const near = await RasterSource.open(join(roots.corpus, 'cogeo.tif'));
    try {
      const [far, here] = [await src.overviews(), await near.overviews()];
      assert.equal(far.length, 6);
      for (const [k, ov] of far.entries()) assert.deepEqual(await pixels(ov), await pixels(here[k]!), `overview ${k}`);
    } finally {
      await src.close();
      await near.close();
    }
  });

  test('a row of blocks is one request: neighbouring ranges are coalesced', async () => {
    reset();
    const src = await RasterSource.open(url('gen', 'blocks.tif'));
    const local = await RasterSource.open(genFile);
    try {
      // the header, then the IFD, which this writer puts at the end of the file (with its tag values)
      assert.deepEqual(server.log.map((l) => l.range), ['bytes=0-65535', `bytes=${readFileSync(genFile).readUInt32LE(4)}-${statSize(genFile) - 1}`]);
      const before = server.log.length;
      const win = { x: 0, y: GEN.block, width: GEN.width, height: GEN.block };
      const { data } = await src.readWindow(win, { validity: false });
      const requests = server.log.slice(before);
      const blocks = GEN.width / GEN.block;
      assert.equal(src.blocksDecoded, blocks);
      assert.equal(requests.length, 1, `${blocks} blocks of a block row: ${requests.map((r) => r.range).join(', ')}`);
      assert.deepEqual(data, (await local.readWindow(win, { validity: false })).data);
      // blocks asked for together through blocks() are coalesced too
      const mark = server.log.length;
      const got = await src.blocks([{ bx: 7, by: 0 }, { bx: 2, by: 0 }, { bx: 3, by: 0 }]);
      assert.equal(server.log.length - mark, 2, 'blocks 2-3 in one request, block 7 in another');
      assert.deepEqual(got, await local.blocks([{ bx: 7, by: 0 }, { bx: 2, by: 0 }, { bx: 3, by: 0 }]));
      // blocksFor names the blocks of a window: columns 1..4 of block row 0
      const refs = src.blocksFor({ x: GEN.block + 5, y: -20, width: 3 * GEN.block, height: 40 });
      assert.deepEqual(refs, [1, 2, 3, 4].map((bx) => ({ bx, by: 0, sample: 0 })));
      const mark2 = server.log.length;
      await src.blocks(refs.filter((r) => r.bx === 1 || r.bx === 4));
      assert.equal(server.log.length - mark2, 2, 'blocks 2-3 are cached; 1 and 4 are not neighbours');
    } finally {
      await src.close();
      await local.close();
    }
  });

  test('requests in flight are bounded by the concurrency option', async () => {
    // every block its own request (maxRequestBytes below a block), each held back a little so they overlap
    for (const concurrency of [2, 5]) {
      reset({ latencyMs: 20 });
      const src = await RasterSource.open(url('gen', 'blocks.tif'), { http: { concurrency, maxRequestBytes: 1 } });
      const local = await RasterSource.open(genFile);
      try {
        server.maxInFlight = 0;
        assert.deepEqual(await pixels(src), await pixels(local));
        const blocks = (GEN.width / GEN.block) * (GEN.height / GEN.block);
        assert.equal(server.log.length, 2 + blocks, 'the header, the IFD, then one request per block');
        assert.ok(server.maxInFlight <= concurrency, `at most ${concurrency} in flight, saw ${server.maxInFlight}`);
        assert.ok(server.maxInFlight >= 2, `requests overlap (saw ${server.maxInFlight} at once)`);
      } finally {
        await src.close();
        await local.close();
      }
    }
  });

  test('5xx answers and stalled requests are retried, and the pixels do not change', async () => {
    const rnd = prng(SEED ^ 0x5eed);
    const faulted = new Map<string, Fault>();
    let delays = 0;
    const key = (l: Logged) => `${l.path} ${l.range}`;
    const pick = (): Fault => {
      const r = rnd();
      if (r < 0.1 && delays < 2) {
        delays++;
        return { delayMs: 5000 };
      }
      return { status: [500, 502, 503, 504, 429][Math.floor(rnd() * 5)]! };
    };
    reset({
      fault: (l, i) => {
        // the first attempt of some ranges fails; the first three requests always do
        if (faulted.has(key(l)) || !(i < 3 || rnd() < 0.3)) return null;
        const f = i === 2 && delays === 0 ? (delays++, { delayMs: 5000 }) : pick();
        faulted.set(key(l), f);
        return f;
      },
    });
    const files = ['blocks.tif', 'shade.tif', 'rgb_lzw.tif', 'L7_ETMs.tif', 'web.tif'];
    for (const f of files) {
      const remote = await RasterSource.open(f === 'blocks.tif' ? url('gen', f) : corpusUrl(f), { http: { ...FAST, timeoutMs: 400, retries: 8 } });
      const local = await RasterSource.open(f === 'blocks.tif' ? genFile : join(roots.corpus, f));
      try {
        assert.deepEqual(await checksums(remote), await checksums(local), `${f}, ${REPLAY}`);
      } finally {
        await remote.close();
        await local.close();
      }
    }
    const answers = server.log.map((l) => l.answer);
    assert.ok(answers.includes('delayed'), `a stalled request was among them, ${REPLAY}`);
    assert.ok(answers.some((a) => typeof a === 'number' && a >= 500), `a 5xx was among them, ${REPLAY}`);
    // every failed range was asked for again, and answered
    for (const [k, f] of faulted) {
      const tries = server.log.filter((l) => key(l) === k);
      assert.ok(tries.length >= 2, `${k} (${JSON.stringify(f)}) was retried, ${REPLAY}`);
      assert.equal(tries.at(-1)!.answer, 206, `${k} was answered in the end, ${REPLAY}`);
    }
  });

  test('a server that keeps failing: one line naming the URL, the status and the attempts', async () => {
    reset({ fault: () => ({ status: 503 }) });
    const u = corpusUrl('byte.tif');
    const err = await failure(RasterSource.open(u, { http: { ...FAST, retries: 2 } }));
    assertOneLine(err, u);
    assert.match((err as Error).message, /HTTP 503 Service Unavailable \(3 attempts\); the server is failing or overloaded: try again later$/);
    assert.equal(server.log.length, 3);
    // a Retry-After is honoured (here: 0 s) and the request retried
    let n = 0;
    reset({ fault: () => (n++ === 0 ? { status: 429, headers: { 'retry-after': '0' } } : null) });
    const src = await RasterSource.open(u, { http: { retryDelayMs: 60_000, maxRetryDelayMs: 60_000 } });
    await src.close();
    assert.deepEqual(server.log.map((l) => l.answer), [429, 206]);
  });

  test('404, 403 and 401 fail at once with one line naming the URL; 401/403 say it needs credentials', async () => {
    reset();
    const missing = corpusUrl('no-such-file.tif');
    const err = await failure(RasterSource.open(missing));
    assertOneLine(err, missing);
    assert.match((err as Error).message, /: not found \(HTTP 404 Not Found\); check the URL$/);
    assert.equal(server.log.length, 1, 'a 404 is not retried');
    for (const status of [403, 401]) {
      reset({ fault: () => ({ status }) });
      const u = corpusUrl('byte.tif');
      for (const p of [RasterSource.open(u), fetchBytes(u), readText(u), rasterInfo(u)]) {
        const e = await failure(p);
        assertOneLine(e, u);
        assert.match((e as Error).message, new RegExp(`access denied \\(HTTP ${status} (Forbidden|Unauthorized)\\); the URL needs credentials`));
      }
      assert.equal(server.log.length, 4, 'not retried');
    }
  });

  test('secrets in a URL stay out of messages; user:password becomes an Authorization header', async () => {
    const signed = `${server.url}/corpus/byte.tif?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=deadbeef&versionId=3`;
    assert.equal(redactUrl(signed), `${server.url}/corpus/byte.tif?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&versionId=3`);
    reset({ fault: () => ({ status: 403 }) });
    const err = await failure(RasterSource.open(signed));
    assert.ok(err instanceof InputError);
    assert.ok(!err.message.includes('deadbeef') && !err.message.includes('AKIAEXAMPLE'), err.message);
    reset();
    const src = await RasterSource.open(`${server.url.replace('http://', 'http://reader:s3cret@')}/corpus/byte.tif`);
    assert.equal(src.name, `${server.url}/corpus/byte.tif`);
    await src.close();
    assert.deepEqual(server.log.map((l) => l.authorization), [`Basic ${Buffer.from('reader:s3cret').toString('base64')}`]);
  });

  test('a server that ignores Range: small files are read whole once, large ones refused clearly', async () => {
    reset({ ranges: false });
    const u = corpusUrl('RGB.byte.tif');
    const src = await RasterSource.open(u);
    try {
      const local = await RasterSource.open(join(roots.corpus, 'RGB.byte.tif'));
      assert.deepEqual(await checksums(src), await checksums(local));
      await local.close();
      assert.equal(server.log.length, 1, 'the whole file came with the first answer');
    } finally {
      await src.close();
    }
    const err = await failure(RasterSource.open(u, { http: { maxWholeBytes: 100_000 } }));
    assertOneLine(err, u);
    assert.match((err as Error).message, /the server ignores range requests \(it answered with the whole file \(1745956 bytes\)\).*serve the file from a server that supports Range/);
  });

  test('a server that hides the total size in Content-Range: the size comes from a HEAD', async () => {
    reset({ unknownTotal: true });
    const src = await RasterSource.open(url('gen', 'blocks.tif'));
    const local = await RasterSource.open(genFile);
    try {
      assert.deepEqual(server.log.slice(0, 2).map((l) => l.method), ['GET', 'HEAD'], 'the first answer gives no size: a HEAD asks for it');
      assert.equal(server.log.filter((l) => l.method === 'HEAD').length, 1);
      assert.deepEqual(await pixels(src), await pixels(local));
    } finally {
      await src.close();
      await local.close();
    }
  });

  test('the size and version come from the first answer; a file that changes while it is read is refused', async () => {
    reset({ etag: (_, i) => (i < 2 ? '"v1"' : '"v2"') });
    const u = url('gen', 'blocks.tif');
    const src = await RasterSource.open(u);
    try {
      assert.equal(src.fileSize, statSize(genFile));
      assert.equal(src.fileVersion, '"v1"');
      const err = await failure(src.readWindow({ x: 0, y: 0, width: 10, height: 10 }));
      assertOneLine(err, u);
      assert.match((err as Error).message, /the file changed while it was read \(version "v1", now "v2"\); try again once it is complete$/);
    } finally {
      await src.close();
    }
    const local = await RasterSource.open(genFile);
    assert.equal(local.fileVersion, String(Math.round(statSync(genFile).mtimeMs)));
    await local.close();
  });

  test('fetchBytes, readBytes and readText: whole files from URLs and paths, retried alike', async () => {
    let n = 0;
    reset({ fault: () => (n++ === 0 ? { status: 502 } : null) });
    const want = readFileSync(join(roots.corpus, 'shade.tif'));
    assert.deepEqual(Buffer.from(await fetchBytes(corpusUrl('shade.tif'), FAST)), want);
    assert.deepEqual(server.log.map((l) => l.answer), [502, 200]);
    assert.equal(server.log[1]!.range, null, 'a whole-file GET');
    assert.deepEqual(Buffer.from(await readBytes(join(roots.corpus, 'shade.tif'))), want);
    const text = readFileSync(join(CORPUS_DIR, 'README.md'), 'utf8');
    assert.equal(await readText(url('docs', 'README.md')), text);
    assert.equal(await readText(join(CORPUS_DIR, 'README.md')), text);
    const missing = join(dir, 'none.geojson');
    const err = await failure(readText(missing));
    assertOneLine(err, missing);
    const notText = await failure(readText(corpusUrl('byte.tif')));
    assertOneLine(notText, corpusUrl('byte.tif'));
    assert.match((notText as Error).message, /not UTF-8 text/);
    // a signal abandons a download that hangs: aborted once the server has the request
    const ac = new AbortController();
    reset({
      fault: () => {
        ac.abort();
        return { delayMs: 60_000 };
      },
    });
    const aborted = await failure(readBytes(corpusUrl('shade.tif'), { signal: ac.signal }));
    assert.ok(aborted instanceof AbortedError, String(aborted));
    assert.equal(server.log.length, 1, 'not retried');
    // a length no model can have is refused from the header, before anything is allocated, and not retried
    reset({ fault: () => ({ status: 200, headers: { 'content-length': String(5e12) } }) });
    const huge = await failure(fetchBytes(corpusUrl('shade.tif'), FAST));
    assertOneLine(huge, corpusUrl('shade.tif'));
    assert.match((huge as Error).message, /the file is 5000000000000 bytes, over the 2147483648 bytes tilecast fetches whole .*download it and give its path/);
    assert.equal(server.log.length, 1, 'not retried');
  });

  test('HttpByteSource reads any range, and the header reads of a COG take one request', async () => {
    reset();
    const bytes = await HttpByteSource.open(corpusUrl('cogeo.tif'));
    const file = readFileSync(join(roots.corpus, 'cogeo.tif'));
    try {
      assert.equal(bytes.size, file.length);
      const rnd = prng(SEED);
      const ranges = Array.from({ length: 40 }, () => {
        const at = Math.floor(rnd() * file.length);
        return [at, Math.floor(rnd() * 100_000)] as const;
      });
      const got = await Promise.all(ranges.map(([at, n]) => bytes.read(at, n)));
      ranges.forEach(([at, n], i) => assert.deepEqual(Buffer.from(got[i]!), file.subarray(at, at + n), `${at}+${n}, ${REPLAY}`));
      assert.equal(bytes.stats.retries, 0);
    } finally {
      await bytes.close();
    }
    reset();
    const src = await RasterSource.open(corpusUrl('cogeo.tif'));
    assert.equal(server.log.length, 1, 'header and every IFD from the first 64 KiB');
    await src.close();
  });
});
