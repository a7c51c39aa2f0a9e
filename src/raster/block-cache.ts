/**
 * A bounded LRU of decoded blocks shared by every open raster, so that a compressed block is
 * decoded once while it stays in the budget, not once per tile window that touches it.
 * Concurrent requests for a block that is being decoded wait for that one decode.
 */
import type { TypedArray } from './types.js';

export interface BlockCacheOptions {
  /** Budget for decoded blocks, in MB (2^20 bytes). */
  budgetMB?: number;
}

export const DEFAULT_BLOCK_CACHE: Required<BlockCacheOptions> = { budgetMB: 256 };

export class BlockCache {
  budgetBytes: number;
  private readonly entries = new Map<string, TypedArray>();
  private readonly pending = new Map<string, Promise<TypedArray>>();
  private bytes = 0;
  /** Blocks decoded since creation (misses), across every raster using this cache. */
  decoded = 0;
  /** Requests answered from the cache. */
  hits = 0;

  constructor(options: BlockCacheOptions = {}) {
    const { budgetMB } = { ...DEFAULT_BLOCK_CACHE, ...options };
    if (!(budgetMB >= 0)) throw new RangeError(`block cache budget must be >= 0 MB, got ${budgetMB}`);
    this.budgetBytes = budgetMB * 1024 * 1024;
  }

  /** Change the budget (bytes); evicts the oldest blocks down to it. */
  resize(budgetBytes: number): void {
    this.budgetBytes = budgetBytes;
    this.trim();
  }

  /** Bytes of decoded blocks held now. */
  get size(): number {
    return this.bytes;
  }

  /** The block under `key`, decoding it with `load` if it is not held. */
  get(key: string, load: () => Promise<TypedArray>): Promise<TypedArray> {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.hits++;
      this.entries.delete(key); // re-insert: Map order is the recency order
      this.entries.set(key, hit);
      return Promise.resolve(hit);
    }
    const inflight = this.pending.get(key);
    if (inflight !== undefined) {
      this.hits++;
      return inflight;
    }
    this.decoded++;
    const p = load().then(
      (block) => {
        this.pending.delete(key);
        this.insert(key, block);
        return block;
      },
      (err: unknown) => {
        this.pending.delete(key);
        throw err;
      },
    );
    this.pending.set(key, p);
    return p;
  }

  /** Drop a block nobody will ask for again. */
  evict(key: string): void {
    const b = this.entries.get(key);
    if (b !== undefined) {
      this.entries.delete(key);
      this.bytes -= b.byteLength;
    }
  }

  /** Drop every block whose key starts with `prefix` (one raster's blocks). */
  evictPrefix(prefix: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.evict(key);
  }

  private insert(key: string, block: TypedArray): void {
    if (block.byteLength > this.budgetBytes) return;
    this.entries.set(key, block);
    this.bytes += block.byteLength;
    this.trim();
  }

  private trim(): void {
    while (this.bytes > this.budgetBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.evict(oldest);
    }
  }
}
