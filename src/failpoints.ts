/**
 * Fail points for the resume tests: `TILECAST_FAILPOINT=name:n` makes the process kill itself
 * (SIGKILL, as a power cut or `kill -9` would) the n-th time it passes the point `name`. Points:
 * `decode` (a block is decoded), `infer` (a batch goes to the model), `blend` (a tile is blended),
 * `write` (a block row goes to the writer), `synced` (a chunk is on the disk, not yet in the
 * journal), `close` (an output is complete in its temporary file, not yet renamed to its name). Without the variable a point costs one comparison.
 */
const spec = process.env.TILECAST_FAILPOINT ?? '';
const [point, at] = spec.split(':');
const target = Number(at);
let passed = 0;

export function failpoint(name: string): void {
  if (name !== point) return;
  if (++passed === target) process.kill(process.pid, 'SIGKILL');
}
