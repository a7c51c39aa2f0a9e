/**
 * ONNX `metadata_props` (ModelProto field 14) read straight from the file.
 * onnxruntime-node does not expose custom metadata, so we walk the top-level
 * protobuf fields, skip everything else (the graph may be gigabytes) with
 * small positioned reads, and decode only the key/value entries.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ModelError } from '../errors.js';

const FIELD_METADATA_PROPS = 14;
const decoder = new TextDecoder('utf-8', { fatal: false });

/** A cursor over bytes, reading protobuf varints. */
class Cursor {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.bytes.length) throw new RangeError('truncated varint');
      const b = this.bytes[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new RangeError('varint longer than 10 bytes');
  }
}

/** Decode a StringStringEntryProto. */
function decodeEntry(bytes: Uint8Array): [string, string] {
  const c = new Cursor(bytes);
  let key = '';
  let value = '';
  while (c.pos < bytes.length) {
    const tag = c.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire !== 2) {
      skipScalar(c, wire);
      continue;
    }
    const len = c.varint();
    const text = decoder.decode(bytes.subarray(c.pos, c.pos + len));
    c.pos += len;
    if (field === 1) key = text;
    else if (field === 2) value = text;
  }
  return [key, value];
}

function skipScalar(c: Cursor, wire: number): void {
  if (wire === 0) c.varint();
  else if (wire === 1) c.pos += 8;
  else if (wire === 5) c.pos += 4;
  else throw new RangeError(`unsupported wire type ${wire}`);
}

/** Parse metadata_props from the bytes of a whole ModelProto. */
export function parseModelProps(bytes: Uint8Array): Record<string, string> {
  return walk(bytes.length, (pos, len) => bytes.subarray(pos, pos + len));
}

/**
 * Walk the top-level fields of a ModelProto of `size` bytes; `read(pos, len)`
 * returns up to `len` bytes at `pos`.
 */
function walk(size: number, read: (pos: number, len: number) => Uint8Array): Record<string, string> {
  const props: Record<string, string> = {};
  let pos = 0;
  while (pos < size) {
    const head = new Cursor(read(pos, 20));
    const tag = head.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 2) {
      const len = head.varint();
      const start = pos + head.pos;
      if (start + len > size) throw new RangeError(`field ${field} runs past the end of the file`);
      if (field === FIELD_METADATA_PROPS) {
        const [key, value] = decodeEntry(read(start, len));
        props[key] = value;
      }
      pos = start + len;
    } else {
      skipScalar(head, wire);
      pos += head.pos;
    }
  }
  return props;
}

/** Read metadata_props from an ONNX file without loading the graph. */
export function readModelProps(path: string): Record<string, string> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const read = (pos: number, len: number): Uint8Array => {
      const buf = new Uint8Array(Math.min(len, size - pos));
      readSync(fd, buf, 0, buf.length, pos);
      return buf;
    };
    return walk(size, read);
  } catch (cause) {
    if (cause instanceof RangeError) {
      throw new ModelError(`${path} is not a valid ONNX model file: ${cause.message}`, { file: path, cause });
    }
    throw cause;
  } finally {
    closeSync(fd);
  }
}
