/**
 * Class colours: the default palette of a class map and the parser of a `--colors` value.
 *
 * The default starts with Tableau's ten qualitative colours (matplotlib's tab10, d3's
 * category10), continues with their ten lighter companions (tab20), and goes on up to 255 classes
 * with colours spread around the hue circle by the golden angle at three lightness levels, so
 * neighbouring class indices never get similar colours.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { MAX_CLASSES } from './classes.js';

/** A colour as red, green, blue, each 0..255. */
export type Rgb = readonly [number, number, number];

const TAB20 = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
  '#aec7e8', '#ffbb78', '#98df8a', '#ff9896', '#c5b0d5', '#c49c94', '#f7b6d2', '#c7c7c7', '#dbdb8d', '#9edae5',
];


function hslToRgb(h: number, s: number, l: number): Rgb {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/** The default colours of classes 0..count-1. */
export function defaultPalette(count: number): Rgb[] {
  if (!(Number.isInteger(count) && count >= 0 && count <= MAX_CLASSES)) {
    throw new RangeError(`a palette has 0..${MAX_CLASSES} colours, asked for ${count}`);
  }
  const out: Rgb[] = [];
  for (let i = 0; i < count; i++) {
    if (i < TAB20.length) out.push(parseHex(TAB20[i]!)!);
    else out.push(hslToRgb((i * 137.508) % 360, 0.65, [0.45, 0.62, 0.32][i % 3]!));
  }
  return out;
}

/** `#rgb` or `#rrggbb` (case-insensitive) as a colour; null when it is not one. */
export function parseHex(text: string): Rgb | null {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(text.trim());
  if (m === null) return null;
  const h = m[1]!.length === 3 ? [...m[1]!].map((c) => c + c).join('') : m[1]!;
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

/** `#rrggbb` text of a colour. */
export function toHex(c: Rgb): string {
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** Whether a --colors value is a list of colours (else it is the path of a JSON file of them). */
export function isColorList(value: string): boolean {
  const text = value.trim();
  return text.startsWith('#') || text.includes(',');
}

/**
 * The colours of a `--colors` value for `count` classes: either a list of `#rrggbb` / `#rgb`
 * separated by commas (e.g. `#1f77b4,#ff7f0e,#2ca02c`), or the path of a JSON file holding an
 * array of such strings or of `[r, g, b]` triples (0..255). There must be one colour per class.
 * Throws UsageError naming --colors.
 */
export function parseColors(value: string, count: number): Rgb[] {
  const text = value.trim();
  const list = isColorList(text);
  const colors = list ? parseList(text) : readColorFile(text);
  if (colors.length !== count) {
    const from = list ? `--colors lists` : `--colors file ${text} holds`;
    throw new UsageError(`${from} ${colors.length} colour(s) for ${count} classes: give exactly one colour per class, in class order`, list ? {} : { file: text });
  }
  return colors;
}

function parseList(text: string): Rgb[] {
  return text.split(',').map((item, i) => {
    const c = parseHex(item);
    if (c === null) {
      throw new UsageError(`--colors: item ${i + 1} '${item.trim()}' is not a colour: write colours as #rrggbb or #rgb separated by commas, e.g. #1f77b4,#ff7f0e`);
    }
    return c;
  });
}

function readColorFile(path: string): Rgb[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code !== undefined ? code : `not JSON (${(e as Error).message})`;
    throw new UsageError(
      `--colors ${path}: ${why}; give colours as #rrggbb separated by commas, or a JSON file with an array such as ["#1f77b4", [255, 127, 14]]`,
      { file: path, cause: e },
    );
  }
  if (!Array.isArray(json)) {
    throw new UsageError(`--colors file ${path} holds ${json === null ? 'null' : typeof json}, expected an array of colours such as ["#1f77b4", [255, 127, 14]]`, { file: path });
  }
  return json.map((item: unknown, i) => {
    const c = typeof item === 'string' ? parseHex(item) : isTriple(item) ? (item as Rgb) : null;
    if (c === null) {
      throw new UsageError(
        `--colors file ${path}: entry ${i + 1} ${JSON.stringify(item)} is not a colour: use "#rrggbb", "#rgb" or [r, g, b] with integers 0..255`,
        { file: path },
      );
    }
    return [c[0], c[1], c[2]] as const;
  });
}

function isTriple(v: unknown): boolean {
  return Array.isArray(v) && v.length === 3 && v.every((x) => Number.isInteger(x) && x >= 0 && x <= 255);
}
