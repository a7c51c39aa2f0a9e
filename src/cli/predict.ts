/** `tilecast predict`: flags (or --config run.json, flags win) → predict(), with progress. */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { isUrl } from '../raster/byte-source.js';
import { isColorList } from '../write/palette.js';
import { TilecastError, UsageError } from '../errors.js';
import { DEFAULT_PREDICT, predict, resolvePredictOptions, type PredictOptions, type PredictSummary, type Progress } from '../pipeline/predict.js';
import { parseFlags, toJson, type Command } from './run.js';

const USAGE = `usage: tilecast predict --model m.onnx --dynamic t0.tif [t1.tif ...] [--static s.tif ...]
                        --region r.geojson (--out probs.tif | --classes classes.tif) [options]

inputs
  --model FILE          ONNX model: input [N,T,C,H,W] (or [N,T*C,H,W] with --layout NCHW), output [N,K,H,W]
  --dynamic FILE...     one multi-band GeoTIFF per time step, in time order (same bands in each)
  --static FILE...      GeoTIFFs whose bands are appended to every time step (e.g. elevation)
  --region FILE         GeoJSON Polygon/MultiPolygon/Feature/FeatureCollection (EPSG:4326 per RFC 7946)
  --region-crs CRS      CRS of the region's coordinates when not EPSG:4326, e.g. EPSG:32633
  --crs-def EPSG:N=DEF  define an EPSG code the registry lacks (proj4 string; repeatable), e.g.
                        'EPSG:25838=+proj=utm +zone=38 +ellps=GRS80 +units=m' (gdalsrsinfo -o proj4 EPSG:N prints one)
  --config FILE         JSON file with any of these options (camelCase keys); flags override it
output
  --out FILE            probabilities: GeoTIFF of float32, K bands, nodata outside the region
  --classes FILE        class map: uint8 argmax (ties to the lowest class), colour table and class
                        names that GDAL and QGIS show, 255 outside the region
  --confidence FILE     the winning probability in percent (uint8 0-100, 255 = nodata)
  --band-names A,B,...  output band descriptions and class names (one per model output band)
  --colors LIST|FILE    class colours: #rrggbb,#rrggbb,... or a JSON file of them (default: a palette)
  --cog                 write every output as a Cloud Optimized GeoTIFF with overviews
  --report FILE.html    a self-contained HTML run report (quicklooks, areas, statistics, timing)
  --output-nodata V     output nodata value (default nan)
  --block-size N        output block size (default ${DEFAULT_PREDICT.blockSize})
  --compress C          deflate | zstd | lzw | none (default ${DEFAULT_PREDICT.compression})
tiling and blending
  --tile N              tile size in pixels (default ${DEFAULT_PREDICT.tile})
  --stride N            distance between tiles, 1..tile (default tile/2)
  --batch-size N        tiles per forward pass (default ${DEFAULT_PREDICT.batchSize}; 1 = one tile at a time)
  --blend W             pyramid | gaussian | cosine | constant (default pyramid)
normalisation
  --norm FILE           JSON {"mean": [C], "std": [C]}; default: the model's tilecast.norm metadata, else none
  --layout L            NTCHW (default) | NCHW
  --fill V              value of invalid input pixels after normalisation (default ${DEFAULT_PREDICT.fill})
chunks, resume, shards
  --chunk N             chunk side in pixels, a multiple of --block-size (default about 2048): memory
                        is bounded by the chunk, and a chunk is the unit of resume and of shards
  --resume              continue a run of the same --out that did not finish, from its last complete
                        chunk; and keep this run's partial output if it is interrupted
  --shard I/N           compute shard I of N (from 0) into OUT's part file NAME.part-I-of-N.tif;
                        auto/N or auto take I (and N) from SLURM_ARRAY_TASK_ID (and _COUNT),
                        JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX; join with tilecast merge
running
  --device D            cpu (default) | cuda (falls back to cpu with a warning when CUDA is not installed)
  --threads N           onnxruntime intra-op threads (default: onnxruntime's choice)
  --queue-depth N       batches read ahead while the model runs (default ${DEFAULT_PREDICT.queueDepth})
  --workers N           threads that decode, normalise and stack the input (default: one per core;
                        none for a CPU model on 2 cores or fewer; 0 = main thread)
  --dry-run             plan and check inputs and model, print tile counts and a memory estimate; write nothing
  --json                print the summary as JSON on stdout
  --quiet               no progress output
  --verbose             the stack trace with an error`;

const FLAGS = {
  config: { type: 'string' },
  model: { type: 'string' },
  dynamic: { type: 'string', multiple: true },
  static: { type: 'string', multiple: true },
  region: { type: 'string' },
  'region-crs': { type: 'string' },
  'crs-def': { type: 'string', multiple: true },
  out: { type: 'string' },
  classes: { type: 'string' },
  confidence: { type: 'string' },
  colors: { type: 'string' },
  cog: { type: 'boolean' },
  report: { type: 'string' },
  tile: { type: 'string' },
  stride: { type: 'string' },
  'batch-size': { type: 'string' },
  blend: { type: 'string' },
  norm: { type: 'string' },
  layout: { type: 'string' },
  fill: { type: 'string' },
  'output-nodata': { type: 'string' },
  'band-names': { type: 'string' },
  device: { type: 'string' },
  threads: { type: 'string' },
  'block-size': { type: 'string' },
  compress: { type: 'string' },
  'queue-depth': { type: 'string' },
  workers: { type: 'string' },
  chunk: { type: 'string' },
  resume: { type: 'boolean' },
  shard: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

/** Flags that take several files: everything up to the next flag belongs to them. */
const MULTI = new Set(['--dynamic', '--static']);

/**
 * `--dynamic a.tif b.tif --static c.tif` → `--dynamic a.tif --dynamic b.tif --static c.tif`, and
 * `--fill -1` → `--fill=-1` (parseArgs would take a negative number for a flag).
 */
function expandMulti(argv: string[]): string[] {
  const out: string[] = [];
  let multi: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (/^--?[a-zA-Z]/.test(a)) {
      multi = MULTI.has(a) ? a : null;
      const next = argv[i + 1];
      if (multi === null && !a.includes('=') && next !== undefined && /^-(\d|\.\d|inf|nan)/i.test(next)) {
        out.push(`${a}=${next}`);
        i++;
      } else if (multi === null) {
        out.push(a);
      }
      continue;
    }
    if (multi !== null) out.push(multi, a);
    else out.push(a);
  }
  return out;
}

function number(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = v.trim().toLowerCase() === 'nan' ? Number.NaN : Number(v);
  if (v.trim() === '' || (Number.isNaN(n) && v.trim().toLowerCase() !== 'nan')) throw new UsageError(`${flag} expects a number, got '${v}'`);
  return n;
}

/** The type each config key must have. */
const CONFIG_KEYS: Record<string, 'string' | 'number' | 'boolean' | 'string[]' | 'string|object' | 'number[]'> = {
  model: 'string', dynamic: 'string[]', static: 'string[]', region: 'string|object', regionCrs: 'string', crsDefs: 'string[]', out: 'string',
  classes: 'string', confidence: 'string', colors: 'string', cog: 'boolean', report: 'string',
  tile: 'number', stride: 'number', batchSize: 'number', blend: 'string|object', norm: 'string|object', layout: 'string',
  fill: 'number', outputNodata: 'number', bandNames: 'string[]', device: 'string', threads: 'number', blockSize: 'number',
  compression: 'string', queueDepth: 'number', workers: 'number', chunk: 'number', resume: 'boolean', shard: 'string', dryRun: 'boolean',
};

function checkType(value: unknown, type: string): boolean {
  switch (type) {
    case 'string[]': return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'string|object': return typeof value === 'string' || (typeof value === 'object' && value !== null && !Array.isArray(value));
    default: return typeof value === type;
  }
}

/** The options of a --config file, with each path it gave resolved against its folder (and the file it came from). */
function readConfig(file: string): { options: Partial<PredictOptions>; paths: Map<string, string> } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--config ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`--config ${file}: not a JSON object (${(err as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`--config ${file}: not a JSON object of options, e.g. {"model": "m.onnx", "tile": 128}`);
  for (const [key, value] of Object.entries(v)) {
    const type = CONFIG_KEYS[key];
    if (type === undefined) throw new UsageError(`--config ${file}: unknown key '${key}'; keys are the camelCase flag names: ${Object.keys(CONFIG_KEYS).join(', ')}`);
    if (!checkType(value, type)) throw new UsageError(`--config ${file}: '${key}' must be ${type.replace('[]', 's (a list)').replace('|', ' or ')}, got ${JSON.stringify(value)}`);
  }
  // paths in a config file are relative to its folder, wherever tilecast runs from
  const o = v as Partial<PredictOptions> & Record<string, unknown>;
  const folder = dirname(file);
  const paths = new Map<string, string>();
  const place = (p: string) => {
    const resolved = isUrl(p) || isAbsolute(p) ? p : join(folder, p);
    paths.set(resolved, file);
    return resolved;
  };
  for (const key of ['model', 'region', 'out', 'classes', 'confidence', 'report', 'norm'] as const) {
    if (typeof o[key] === 'string') o[key] = place(o[key] as string);
  }
  if (typeof o.colors === 'string' && !isColorList(o.colors)) o.colors = place(o.colors);
  for (const key of ['dynamic', 'static'] as const) if (Array.isArray(o[key])) o[key] = (o[key] as string[]).map(place);
  return { options: o, paths };
}

/** The options a command line gives, over those of its --config file. */
export function predictOptionsFromArgs(argv: string[]): PredictOptions & { json: boolean; quiet: boolean; configPaths: Map<string, string> } {
  const { values: v, positionals } = parseFlags('predict', expandMulti(argv), FLAGS);
  if (positionals.length > 0) throw new UsageError(`predict: unexpected argument '${positionals[0]}'; input files follow --dynamic or --static`);
  const config = v.config ? readConfig(v.config) : { options: {}, paths: new Map<string, string>() };
  const base = config.options;
  const flags: Partial<PredictOptions> = {};
  const set = <K extends keyof PredictOptions>(k: K, value: PredictOptions[K] | undefined) => {
    if (value !== undefined) flags[k] = value;
  };
  set('model', v.model);
  set('dynamic', v.dynamic);
  set('static', v.static);
  set('region', v.region);
  set('regionCrs', v['region-crs']);
  set('crsDefs', v['crs-def']);
  set('out', v.out);
  set('classes', v.classes);
  set('confidence', v.confidence);
  set('colors', v.colors);
  set('cog', v.cog);
  set('report', v.report);
  set('tile', number(v.tile, '--tile'));
  set('stride', number(v.stride, '--stride'));
  set('batchSize', number(v['batch-size'], '--batch-size'));
  set('blend', v.blend);
  set('norm', v.norm);
  set('layout', v.layout as PredictOptions['layout']);
  set('fill', number(v.fill, '--fill'));
  set('outputNodata', number(v['output-nodata'], '--output-nodata'));
  set('bandNames', v['band-names']?.split(',').map((s) => s.trim()));
  set('device', v.device as PredictOptions['device']);
  set('threads', number(v.threads, '--threads'));
  set('blockSize', number(v['block-size'], '--block-size'));
  set('compression', v.compress as PredictOptions['compression']);
  set('queueDepth', number(v['queue-depth'], '--queue-depth'));
  set('workers', number(v.workers, '--workers'));
  set('chunk', number(v.chunk, '--chunk'));
  set('resume', v.resume);
  set('shard', v.shard);
  set('dryRun', v['dry-run']);
  const o = { ...base, ...flags } as PredictOptions;
  // checked here for the CLI's wording; every value is checked by resolvePredictOptions
  for (const [k, flag] of [['model', '--model'], ['dynamic', '--dynamic'], ['region', '--region']] as const) {
    if (o[k] === undefined || (Array.isArray(o[k]) && (o[k] as unknown[]).length === 0)) throw new UsageError(`predict: ${flag} is required; see tilecast predict --help`);
  }
  if (o.out === undefined && o.classes === undefined) throw new UsageError('predict: --out or --classes is required; see tilecast predict --help');
  resolvePredictOptions(o);
  return { ...o, json: v.json ?? false, quiet: v.quiet ?? false, configPaths: config.paths };
}

function progressPrinter(quiet: boolean): (p: Progress) => void {
  if (quiet) return () => {};
  const tty = process.stderr.isTTY;
  let last = 0;
  return (p) => {
    const rate = p.done / Math.max(p.seconds, 1e-9);
    const eta = (p.total - p.done) / Math.max(rate, 1e-9);
    if (tty) {
      const width = 30;
      const filled = Math.round((width * p.done) / p.total);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} tiles  ${rate.toFixed(1)} tiles/s  ETA ${eta.toFixed(0)} s ${p.done === p.total ? '\n' : ''}`);
    } else if (p.seconds - last >= 5 || p.done === p.total) {
      last = p.seconds;
      process.stderr.write(`predict: ${p.done}/${p.total} tiles, ${rate.toFixed(1)} tiles/s, ETA ${eta.toFixed(0)} s\n`);
    }
  };
}

/** The command line as a shell would take it back (for the run record). */
export function commandLine(argv: readonly string[], command = 'predict'): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  return ['tilecast', command, ...argv].map(quote).join(' ');
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'run an ONNX model over a GeoJSON region of GeoTIFF inputs, write one blended GeoTIFF',
  usage: USAGE,
  abortable: true,
  async run(argv, signal) {
    const { json, quiet, configPaths, ...options } = predictOptionsFromArgs(argv);
    let s: PredictSummary;
    try {
      s = await predict({
        ...options,
        commandLine: commandLine(argv),
        signal,
        onProgress: progressPrinter(quiet || json),
        warn: (m) => process.stderr.write(`tilecast: warning: ${m}\n`),
      });
    } catch (e) {
      // say where a path from a config file came from, and how it was read
      const config = e instanceof TilecastError && e.file !== undefined ? configPaths.get(e.file) : undefined;
      if (config !== undefined) (e as Error).message += ` (from --config ${config}: its paths are relative to its folder)`;
      throw e;
    }
    if (json) {
      process.stdout.write(`${toJson(s)}\n`);
    } else if (s.dryRun) {
      const c = s.chunks;
      const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;
      const p = s.memory.parts;
      process.stdout.write(
        `plan: window ${s.window.width} x ${s.window.height} at (${s.window.x}, ${s.window.y}); ${s.tiles.planned} tiles to compute, ${s.tiles.skipped} skipped (outside the region) of ${s.tiles.total}\n` +
          `chunks: ${c.across} x ${c.down} of ${c.size} px (${c.total}); ${c.tileComputations} tile computations, ${c.borderPercent.toFixed(1)} % more than tiles for the chunk borders` +
          (c.shard ? `; shard ${c.shard.index}/${c.shard.count} computes ${c.selected} chunk(s) into ${s.out}` : '') + '\n' +
          `batch size ${s.batchSize}, ${s.outBands} output band(s), ${s.workers} stacking thread(s); estimated peak memory ${mb(s.memory.total)}: ` +
          `batches ${mb(p.batchBuffers)}, input blocks ${mb(p.slabs)}, model ${mb(p.model + p.outputTensors)}, blending and output ${mb(p.accumulator + p.outputBlocks)}, runtime ${mb(p.runtime)}\n`,
      );
    } else {
      const t = s.time;
      const c = s.chunks;
      process.stdout.write(
        `wrote ${s.out}: ${s.window.width} x ${s.window.height} px, ${s.outBands} band(s)\n` +
          `tiles: ${s.tiles.computed} computed, ${s.tiles.skipped} skipped; ${s.seconds.toFixed(1)} s, ${s.tilesPerSecond.toFixed(1)} tiles/s (batch size ${s.batchSize})\n` +
          `chunks: ${c.computed} computed${c.resumed > 0 ? `, ${c.resumed} resumed` : ''} of ${c.selected}${c.shard ? ` (shard ${c.shard.index}/${c.shard.count} of ${c.total})` : ''}\n` +
          `time waiting: read ${t.read.toFixed(1)} s, infer ${t.infer.toFixed(1)} s, blend ${t.blend.toFixed(1)} s, write ${t.write.toFixed(1)} s; ${s.blocksDecoded} input blocks decoded\n` +
          (s.nonFinite > 0 ? `warning: ${s.nonFinite} NaN/Inf model output value(s) inside the region\n` : ''),
      );
    }
    return 0;
  },
};
