/**
 * Writing files so that nothing is lost: every golden, recording and report is written to a temporary
 * file in the same directory, flushed, then renamed over the target (atomic on POSIX file systems).
 * A reader, or a run killed part-way, sees either the old file or the new one, never half of one; a
 * failed write removes its temporary file. Temporary names start with `.` and end with `.tmp`.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The temporary name used for `file` (same directory, hidden, unique per process and call). */
export function tempNameFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}.tmp`);
}

/** Is this a temporary file left by writeFileAtomic (e.g. after a crash)? */
export function isAtomicTemp(name: string): boolean {
  return /^\..+\.\d+\.[0-9a-z]+\.[0-9a-z]*\.tmp$/.test(path.basename(name));
}

/** Write `text` to `file` atomically (creating the directory); throws the file system's error. */
export function writeFileAtomic(file: string, text: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempNameFor(file);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "wx", 0o644);
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
