/** Messages between the codec pool and its workers. */

/** Codecs that run in the pool's workers (deflate runs in libuv's threadpool instead). */
export type WorkerCodec = 'zstd' | 'lzw';

export interface CodecRequest {
  id: number;
  codec: WorkerCodec;
  level: number;
  /** Input bytes; its buffer is transferred (the pool sends a copy). */
  data: Uint8Array;
}

export type CodecResponse = { id: number; out: Uint8Array } | { id: number; error: string };
