/**
 * Block grids of the full-resolution image and of its COG overviews.
 * Overview sizes follow GDAL's COG driver: level k is floor(size / 2^k) (at least 1), and levels
 * are added while the previous one is larger than one block.
 */

export interface Level {
  /** Pixels. */
  width: number;
  height: number;
  /** Blocks across and down. */
  across: number;
  down: number;
}

export function level(width: number, height: number, blockSize: number): Level {
  return { width, height, across: Math.ceil(width / blockSize), down: Math.ceil(height / blockSize) };
}

/** Level 0 (full resolution) followed by the overviews a COG gets. */
export function cogLevels(width: number, height: number, blockSize: number): Level[] {
  const levels = [level(width, height, blockSize)];
  let factor = 1;
  while (Math.floor(width / factor) > blockSize || Math.floor(height / factor) > blockSize) {
    factor *= 2;
    levels.push(level(Math.max(1, Math.floor(width / factor)), Math.max(1, Math.floor(height / factor)), blockSize));
  }
  return levels;
}
