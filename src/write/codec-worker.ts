/**
 * Worker-thread entry of the codec pool: runs zstd and LZW, which would otherwise block the main
 * thread, on blocks sent by codec-pool.ts. Buffers travel by transfer.
 */
import { parentPort } from 'node:worker_threads';
import type { CodecRequest, CodecResponse } from './codec-protocol.js';
import { lzwEncode } from './lzw.js';
import { loadZstd } from './zstd.js';

const port = parentPort;
if (port === null) throw new Error('codec-worker.ts must run in a worker thread');

async function run(m: CodecRequest): Promise<Uint8Array> {
  if (m.codec === 'lzw') return lzwEncode(m.data);
  return (await loadZstd()).compress(m.data, m.level);
}

port.on('message', (m: CodecRequest) => {
  run(m).then(
    (result) => {
      // Send a buffer of its own (the result may be a view into a larger one).
      const out = result.byteOffset === 0 && result.byteLength === result.buffer.byteLength ? result : result.slice();
      const reply: CodecResponse = { id: m.id, out };
      port.postMessage(reply, [out.buffer as ArrayBuffer]);
    },
    (e: unknown) => {
      const reply: CodecResponse = { id: m.id, error: e instanceof Error ? e.message : String(e) };
      port.postMessage(reply);
    },
  );
});
