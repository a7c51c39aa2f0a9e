/**
 * Where an output really goes, checked before anything is written (or read):
 *
 * - an existing target must be a regular file: a folder, a device (`/dev/null`), a FIFO or a
 *   socket is refused, because the final rename would replace its directory entry;
 * - a symbolic link is followed, as GDAL does: the file is written next to the link's target and
 *   renamed onto it, so the link keeps pointing at the new file; a dangling link is refused;
 * - a target that is one of the run's inputs (the same file by device and inode, or by real path,
 *   hard links included) is refused, naming the input, so no run can destroy what it reads.
 */
import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputError } from '../errors.js';

/** A file the run reads, with the flag that names it in messages. */
export interface RunInput {
  path: string;
  flag: string;
}

function statOrNull(path: string, follow: boolean): Stats | null {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch {
    return null;
  }
}

/**
 * The path the output will be renamed onto: `path` resolved, or the target of a symlink.
 * Throws OutputError when the target exists and is not a regular file, or is one of `inputs`.
 */
export function resolveOutputTarget(path: string, inputs: readonly RunInput[] = [], flag = '--out'): string {
  let target = resolve(path);
  const link = statOrNull(target, false);
  if (link?.isSymbolicLink()) {
    try {
      target = realpathSync(target);
    } catch {
      throw new OutputError(`${flag} ${path} is a symbolic link to a file that does not exist; remove the link or give another output path`, { file: path });
    }
  } else if (link === null) {
    // a new file: its folder may still be a link; the rename happens in the real folder
    try {
      target = join(realpathSync(dirname(target)), basename(target));
    } catch {
      return target; // the writer reports the missing folder
    }
  }
  const st = statOrNull(target, true);
  if (st !== null && !st.isFile()) {
    const what = st.isDirectory() ? 'a folder' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isFIFO() ? 'a named pipe' : st.isSocket() ? 'a socket' : 'not a regular file';
    const fix = st.isDirectory() ? `give a file name such as ${join(path, 'out.tif')}` : 'give the path of a regular file (tilecast replaces the output file when it is complete)';
    throw new OutputError(`${flag} ${path} is ${what}: ${fix}`, { file: path });
  }
  if (st !== null) {
    for (const input of inputs) {
      const ist = statOrNull(input.path, true);
      if (ist === null) continue;
      const same = (ist.dev === st.dev && ist.ino === st.ino) || realOrSelf(input.path) === target;
      if (same) {
        throw new OutputError(
          `${flag} ${path} is the input ${input.path} (${input.flag}): writing there would destroy it; choose another output path`,
          { file: path },
        );
      }
    }
  }
  return target;
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
