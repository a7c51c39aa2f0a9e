/** npm run bench [-- --json]: every benchmark in turn, each in its own process. */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
// the reader is measured single-threaded (deflate runs on libuv's pool otherwise)
for (const [name, env] of [['read.ts', { UV_THREADPOOL_SIZE: '1' }], ['write.ts', {}], ['model.ts', {}], ['predict.ts', {}], ['pipeline.ts', {}], ['lzw.ts', {}]] as const) {
  console.log(`== bench/${name}`);
  execFileSync(process.execPath, ['--import', 'tsx', join(here, name), ...args], { stdio: 'inherit', env: { ...process.env, ...env } });
}
