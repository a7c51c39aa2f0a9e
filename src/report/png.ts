/** RGBA images as PNG `data:` URLs (fast-png encodes), so a page holds its images inline. */
import { encode } from 'fast-png';
import type { Rgba } from './draw.js';

/** PNG bytes of an RGBA image. */
export function encodePng(img: Rgba): Uint8Array {
  return encode({ width: img.width, height: img.height, data: img.data, channels: 4, depth: 8 });
}

/** `data:image/png;base64,…` of an RGBA image. */
export function pngDataUrl(img: Rgba): string {
  const png = encodePng(img);
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;
}
