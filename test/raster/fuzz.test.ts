/**
 * Seeded fuzz test of the reader: corpus files mutated (bits flipped in the IFD and in block data,
 * truncation, IFD entry type / count / value edits, block byte counts made longer or shorter) are
 * read as `tilecast info --checksum` reads them, in a child process watched by this one. Every
 * file must give success or a one-line InputError / UnsupportedError naming the file: no crash,
 * no hang (5 s), peak memory under 512 MB, nothing printed to stderr, no "undefined" in a
 * message. GDAL reads the same files: where GDAL raises, tilecast must raise too, and where both
 * read a file their checksums must agree.
 *
 * Two seeds run: a fixed one, and one drawn per run (printed with every failure; set
 * TILECAST_SEED to replay it). Hand-made hostile files, each for a failure seen in the field, run
 * the same way and must give the error (or the pixels) stated.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { lzwEncode } from '../../src/write/lzw.js';
import { prng } from '../../scripts/models/prng.js';
import { CORPUS_DIR, needCorpus, needGdal } from '../helpers/env.js';
import { gdalChecksumsMany, type GdalCheck } from '../helpers/gdal.js';
import { entry, FIELD_SIZE as SIZE, put, walk } from './tiff-edit.js';

const FIXED_SEED = 2600;
const FIXED_FILES = 300;
const RUN_SEED = process.env.TILECAST_SEED !== undefined ? Number(process.env.TILECAST_SEED) : (Date.now() ^ (process.pid << 16)) >>> 0;
const RUN_FILES = 200;
const TIMEOUT_MS = 5000;
const MAX_RSS_MB = 512;
/** Source files larger than this are left out, to keep the test short. */
const MAX_SOURCE_BYTES = 1 << 20;

const skip = needCorpus() || needGdal();
const dir = mkdtempSync(join(tmpdir(), 'tilecast-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// ---- mutations ----

interface Mutant { path: string; what: string; seed: number }

function mutate(src: Buffer, name: string, rnd: () => number): { bytes: Buffer; what: string } {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const b = Buffer.from(src);
  const t = walk(b);
  const write = (at: number, size: number, v: number) => put(b, t!.le, at, size, v);
  const kinds = ['flip-ifd', 'flip-data', 'truncate', 'entry-type', 'entry-count', 'entry-value', 'byte-count'] as const;
  const kind = t === null || t.entries.length === 0 ? 'truncate' : t.blocks.length === 0 ? pick(kinds.filter((k) => k !== 'flip-data' && k !== 'byte-count')) : pick(kinds);
  switch (kind) {
    case 'truncate': {
      const at = int(8, b.length - 1);
      return { bytes: b.subarray(0, at), what: `${name} truncated to ${at} of ${b.length} bytes` };
    }
    case 'flip-ifd': {
      const flips: string[] = [];
      for (let k = int(1, 4); k > 0; k--) {
        const e = pick(t!.entries);
        const at = e.at + int(0, (t!.big ? 20 : 12) - 1);
        const bit = 1 << int(0, 7);
        b[at] ^= bit;
        flips.push(`tag ${e.tag} byte ${at - e.at} ^${bit}`);
      }
      return { bytes: b, what: `${name} IFD bits flipped: ${flips.join(', ')}` };
    }
    case 'flip-data': {
      const blk = pick(t!.blocks);
      const flips: string[] = [];
      for (let k = int(1, 8); k > 0; k--) {
        const at = blk.offset + int(0, blk.count - 1);
        const v = int(1, 255);
        b[at] ^= v;
        flips.push(`${at}^${v}`);
      }
      return { bytes: b, what: `${name} block data at offset ${blk.offset} flipped: ${flips.join(', ')}` };
    }
    case 'entry-type': {
      const e = pick(t!.entries);
      const type = int(0, 20);
      write(e.at + 2, 2, type);
      return { bytes: b, what: `${name} tag ${e.tag} type ${e.type} -> ${type}` };
    }
    case 'entry-count': {
      const e = pick(t!.entries);
      const count = pick([0, 1, 2, e.count + 1, Math.max(0, e.count - 1), e.count * 2, 65535, 0x7fffffff, int(0, 1 << 20)]);
      write(e.at + 4, t!.big ? 8 : 4, count);
      return { bytes: b, what: `${name} tag ${e.tag} count ${e.count} -> ${count}` };
    }
    case 'entry-value': {
      const e = pick(t!.entries);
      const size = e.inline ? Math.min(SIZE[e.type] ?? 4, t!.big ? 8 : 4) : t!.big ? 8 : 4;
      const v = pick([0, 1, 2, 3, 7, 8, 16, 255, 256, 65535, 0xffffffff, int(0, b.length), b.length + int(0, 100), int(0, 0x7fffffff)]);
      write(e.valueAt, size, v);
      return { bytes: b, what: `${name} tag ${e.tag} value -> ${v}` };
    }
    case 'byte-count': {
      const blk = pick(t!.blocks);
      const count = pick([0, 1, blk.count - 1, blk.count - int(1, 16), blk.count + 1, blk.count + int(2, 64), Math.floor(blk.count / 2)]);
      write(blk.countAt, blk.countSize, Math.max(0, count));
      return { bytes: b, what: `${name} block at offset ${blk.offset} byte count ${blk.count} -> ${count}` };
    }
  }
}

function makeMutants(seed: number, count: number): Mutant[] {
  const rnd = prng(seed);
  const files = readdirSync(join(CORPUS_DIR, 'files')).sort().filter((f) => statSync(join(CORPUS_DIR, 'files', f)).size <= MAX_SOURCE_BYTES);
  const sources = new Map(files.map((f) => [f, readFileSync(join(CORPUS_DIR, 'files', f))]));
  return Array.from({ length: count }, (_, i) => {
    const name = files[Math.floor(rnd() * files.length)]!;
    const { bytes, what } = mutate(sources.get(name)!, name, rnd);
    const path = join(dir, `${seed}-${i}-${name}`);
    writeFileSync(path, bytes);
    return { path, what, seed };
  });
}

// ---- running the reader in a watched child process ----

interface Result {
  outcome: 'ok' | 'input' | 'unsupported' | 'other' | 'crash' | 'hang';
  error?: string;
  stack?: string;
  checksums?: number[];
  maxRssMB?: number;
  stderr: string;
}

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'fuzz-child.ts');

/** Run every file through fuzz-child.ts; a crash or hang ends that child and the next file gets a new one. */
async function runAll(files: string[]): Promise<Result[]> {
  const results: Result[] = [];
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--test'));
  if (!execArgv.some((a) => a.includes('tsx'))) execArgv.push('--import', 'tsx');
  let child: ChildProcess | null = null;
  let next: ((line: string | null) => void) | null = null;
  let stderr = '';
  const start = () => {
    const c = spawn(process.execPath, [...execArgv, `--max-old-space-size=${MAX_RSS_MB}`, CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: c.stdout! }).on('line', (l) => next?.(l));
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', () => {
      if (child === c) child = null;
      next?.(null);
    });
    return c;
  };
  for (const file of files) {
    child ??= start();
    stderr = '';
    const c: ChildProcess = child;
    const line = await new Promise<string | null | 'timeout'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), TIMEOUT_MS);
      next = (l) => {
        clearTimeout(timer);
        resolve(l);
      };
      c.stdin!.write(`${file}\n`);
    });
    next = null;
    if (line === 'timeout' || line === null) {
      c.kill('SIGKILL');
      child = null;
      await new Promise((r) => setTimeout(r, 50));
      results.push({ outcome: line === null ? 'crash' : 'hang', stderr });
    } else {
      results.push({ ...(JSON.parse(line) as Omit<Result, 'stderr'>), stderr });
    }
  }
  (child as ChildProcess | null)?.stdin!.end();
  return results;
}

/** Problems with one file's result, as one line each; empty when it is fine. */
function problems(m: Mutant, r: Result, g: GdalCheck): string[] {
  const out: string[] = [];
  if (r.outcome === 'crash') out.push('the reader crashed the process');
  if (r.outcome === 'hang') out.push(`no answer within ${TIMEOUT_MS} ms`);
  if (r.outcome === 'other') out.push(`an error that is not InputError/UnsupportedError: ${r.error} ${r.stack ?? ''}`);
  if (r.stderr !== '') out.push(`printed to stderr: ${JSON.stringify(r.stderr.slice(0, 300))}`);
  if ((r.maxRssMB ?? 0) > MAX_RSS_MB) out.push(`peak memory ${r.maxRssMB} MB, over ${MAX_RSS_MB} MB`);
  if (r.error !== undefined && (r.outcome === 'input' || r.outcome === 'unsupported')) {
    const msg = r.error.replace(/^\w+: /, '');
    const short = msg.split(m.path).join('FILE');
    if (!msg.includes(m.path)) out.push(`message does not name the file: ${msg}`);
    if (/undefined|NaN x|\[object/.test(short)) out.push(`message has "undefined" or similar: ${msg}`);
    if (msg.includes('\n')) out.push(`message has several lines: ${JSON.stringify(msg)}`);
    if (short.length > 300) out.push(`message is ${short.length} characters (without the path): ${msg}`);
  }
  if ('error' in g && r.outcome === 'ok') out.push(`GDAL raises (${g.error}) but tilecast returns pixels (checksums ${r.checksums})`);
  if ('checksums' in g && r.outcome === 'ok' && JSON.stringify(g.checksums) !== JSON.stringify(r.checksums)) {
    out.push(`checksums ${JSON.stringify(r.checksums)} differ from GDAL's ${JSON.stringify(g.checksums)}`);
  }
  return out;
}

for (const [name, seed, count] of [['fixed seed', FIXED_SEED, FIXED_FILES], ['seed of this run', RUN_SEED, RUN_FILES]] as const) {
  describe(`mutated corpus files: success or one clear error, never a crash, hang or silent wrong value (${name} ${seed})`, { skip }, () => {
    let mutants: Mutant[] = [];
    let results: Result[] = [];
    let gdalResults: GdalCheck[] = [];
    before(async () => {
      const t0 = performance.now();
      mutants = makeMutants(seed, count);
      gdalResults = gdalChecksumsMany(mutants.map((m) => m.path));
      results = await runAll(mutants.map((m) => m.path));
      const tally: Record<string, number> = {};
      results.forEach((r, i) => {
        const g = gdalResults[i]!;
        const key = `${r.outcome}${'error' in g ? ' (GDAL raises)' : 'skipped' in g ? ' (GDAL skipped)' : ''}`;
        tally[key] = (tally[key] ?? 0) + 1;
      });
      const peak = Math.max(...results.map((r) => r.maxRssMB ?? 0));
      console.log(`# fuzz seed ${seed}: ${count} files in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${JSON.stringify(tally)}; peak RSS ${peak} MB`);
    });
    test(`${count} files`, () => {
      const failures: string[] = [];
      mutants.forEach((m, i) => {
        for (const p of problems(m, results[i]!, gdalResults[i]!)) failures.push(`${m.what}: ${p}`);
      });
      assert.equal(failures.length, 0, `${failures.length} problem(s), seed ${seed} (replay: TILECAST_SEED=${seed} node --import tsx --test test/raster/fuzz.test.ts):\n${failures.join('\n')}`);
    });
  });
}

// ---- hand-made hostile files ----

interface Hostile { name: string; from: string; edit: (b: Buffer, t: NonNullable<ReturnType<typeof walk>>) => Buffer; expect: RegExp | 'ok' }

const HOSTILE: Hostile[] = [
  {
    name: 'ImageWidth stored as a 64-bit type in a classic TIFF', from: 'byte.tif',
    edit: (b, t) => (put(b, t.le, entry(t, 256).at + 2, 2, 16), b),
    expect: /InputError: .*tag ImageWidth \(256\) has field type LONG8 \(16\) \(a BigTIFF-only type in a classic TIFF\), expected BYTE or SHORT or LONG/,
  },
  {
    name: 'StripByteCounts stored as float', from: 'byte.tif',
    edit: (b, t) => (put(b, t.le, entry(t, 279).at + 2, 2, 11), b),
    expect: /InputError: .*tag StripByteCounts \(279\) has field type FLOAT \(11\), expected SHORT or LONG/,
  },
  {
    name: 'SamplesPerPixel 65535 in a small file', from: 'byte.tif',
    edit: (b, t) => (put(b, t.le, entry(t, 277).valueAt, 2, 65535), b),
    expect: /InputError: .*block 0 needs 26214000 bytes at offset \d+, past the end of the file/,
  },
  {
    name: '800 BitsPerSample values', from: 'byte.tif',
    edit: (b, t) => {
      const bits = Buffer.alloc(1600);
      for (let i = 0; i < 800; i++) put(bits, t.le, i * 2, 2, i === 799 ? 16 : 8);
      const e = entry(t, 258);
      put(b, t.le, e.at + 4, 4, 800);
      put(b, t.le, e.valueAt, 4, b.length);
      put(b, t.le, entry(t, 277).valueAt, 2, 800);
      return Buffer.concat([b, bits]);
    },
    expect: /UnsupportedError: .*BitsPerSample 800 values: 8, 8, 8, 8, …; SampleFormat 1\)/,
  },
  {
    name: 'ImageWidth with two values', from: 'byte.tif',
    edit: (b, t) => (put(b, t.le, entry(t, 256).at + 4, 4, 2), b),
    expect: /InputError: .*tag ImageWidth \(256\) holds 2 values, expected one/,
  },
  {
    name: 'an LZW strip that expands without bound', from: 'n43.tif',
    edit: (b, t) => {
      const huge = lzwEncode(new Uint8Array(4_000_000));
      put(b, t.le, t.blocks[0]!.offsetAt, t.blocks[0]!.offsetSize, b.length);
      put(b, t.le, t.blocks[0]!.countAt, t.blocks[0]!.countSize, huge.length);
      return Buffer.concat([b, Buffer.from(huge)]);
    },
    expect: /InputError: .*block 0 \(\d+ bytes of LZW at offset \d+\) cannot be decoded: LZW data decodes to more than the \d+ bytes the block holds/,
  },
  {
    name: 'an IFD chain that loops', from: 'byte.tif',
    edit: (b, t) => {
      const last = t.entries[t.entries.length - 1]!;
      put(b, t.le, last.at + 12, 4, t.entries[0]!.at - 2);
      return b;
    },
    expect: /InputError: .*IFD chain loops back to offset/,
  },
  {
    name: 'sparse tiles claiming 65535 samples per pixel', from: 'cog_sparse_strile_arrays_zeroified_when_possible.tif',
    edit: (b, t) => (put(b, t.le, entry(t, 277).valueAt, 2, 65535), b),
    expect: /InputError: .*block \d+ (has no data \(sparse\) but would read as 1073725440 bytes of nodata, over the 268435456-byte limit|would decode to 1073725440 bytes from \d+ bytes of LZW)/,
  },
  {
    name: 'a GeoKey past the end of GeoDoubleParams', from: 'cog_uint8_rgb_mask.tif',
    edit: (b, t) => (put(b, t.le, entry(t, 34736).at + 4, 4, 1), b),
    expect: /InputError: .*GeoKey \w+ \(\d+\) refers to values \d+ to \d+ of GeoDoubleParams, which holds 1; the georeferencing is damaged/,
  },
  {
    name: 'StripByteCounts 0 for the only, uncompressed strip (GDAL recomputes it)', from: 'byte.tif',
    edit: (b, t) => (put(b, t.le, t.blocks[0]!.countAt, t.blocks[0]!.countSize, 0), b),
    expect: 'ok',
  },
];

describe('hand-made hostile files: the error stated, within the limits', { skip }, () => {
  const cases = skip ? [] : HOSTILE.map((h, i) => {
    const src = readFileSync(join(CORPUS_DIR, 'files', h.from));
    const path = join(dir, `hostile-${i}-${h.from}`);
    writeFileSync(path, h.edit(Buffer.from(src), walk(src)!));
    return { ...h, path };
  });
  let results: Result[] = [];
  let gdalResults: GdalCheck[] = [];
  before(async () => {
    gdalResults = gdalChecksumsMany(cases.map((c) => c.path));
    results = await runAll(cases.map((c) => c.path));
  });
  cases.forEach((c, i) => {
    test(c.name, () => {
      const r = results[i]!;
      assert.deepEqual(problems({ path: c.path, what: c.name, seed: 0 }, r, gdalResults[i]!), []);
      if (c.expect === 'ok') assert.equal(r.outcome, 'ok', `${c.name}: ${r.error}`);
      else assert.match(r.error ?? `no error (${r.outcome})`, c.expect);
    });
  });
});
