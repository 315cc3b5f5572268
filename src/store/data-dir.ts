import { chmodSync, closeSync, mkdirSync, openSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The data directory holds secrets' hashes (certgate.db), and at times a key (initial-admin-key): only the user
// certgate runs as may read it. certgate makes the directory 0700 and every file in it 0600, as sshd and
// PostgreSQL expect of theirs. A directory the operator made is theirs: it is not changed, only warned about.

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates the data directory (and missing parents) 0700; an existing one is left as it is. */
export function makeDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/**
 * Makes `file` exist with mode 0600: created so if missing, narrowed if an earlier certgate left it readable by
 * others (it made certgate.db 0644). A file it cannot change (another owner) is left as it is.
 */
export function privateFile(file: string): void {
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  narrow(file);
}

/** Narrows an existing file of certgate's to 0600; a missing one is fine. */
export function narrow(file: string): void {
  try {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, PRIVATE_FILE_MODE);
  } catch {
    // missing, or not ours to change
  }
}

/** Writes `text` to dir/name as a new 0600 file, whole or not at all (a reader never sees half, or an old mode). */
export function writePrivateFile(dir: string, name: string, text: string): string {
  makeDataDir(dir);
  const file = join(dir, name);
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, text, { mode: PRIVATE_FILE_MODE, flag: 'w' });
  chmodSync(partial, PRIVATE_FILE_MODE); // a leftover partial file keeps its old mode through flag 'w'
  renameSync(partial, file);
  return file;
}

/** What the operator should hear about the directory: one line if other users may enter or list it. */
export function dataDirWarning(dir: string): string | undefined {
  let mode: number;
  try {
    mode = statSync(dir).mode & 0o777;
  } catch {
    return undefined;
  }
  if ((mode & 0o077) === 0) return undefined;
  return `the data directory ${dir} is accessible to other users (mode ${mode.toString(8).padStart(4, '0')}); certgate leaves a directory it did not create as it is: run chmod 700 on it`;
}
