/**
 * Writing files so that nothing is lost: every golden, recording and report is written to a temporary
 * file in the same directory, flushed, then renamed over the target (atomic on POSIX file systems).
 * A reader, or a run killed part-way, sees either the old file or the new one, never half of one; a
 * failed write removes its temporary file. Temporary names start with `.` and end with `.tmp`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { HarnessError } from "./errors.js";
import { oneLine } from "./terminal.js";

/** The temporary name used for `file` (same directory, hidden, unique per process and call). */
export function tempNameFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}.tmp`);
}

/** Is this a temporary file left by writeFileAtomic (e.g. after a crash)? */
export function isAtomicTemp(name: string): boolean {
  return /^\..+\.\d+\.[0-9a-z]+\.[0-9a-z]*\.tmp$/.test(path.basename(name));
}

function writeError(file: string, e: unknown): HarnessError {
  if (e instanceof HarnessError) return e;
  const err = e as NodeJS.ErrnoException;
  const why = err.code ? `${err.code}${WHY[err.code] ? ` (${WHY[err.code]})` : ""}` : err.message;
  return new HarnessError("input.file", `cannot write ${oneLine(file)}: ${why}`, { cause: e });
}

const WHY: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EISDIR: "it is a directory",
  ENOTDIR: "a part of the path is not a directory",
  EROFS: "read-only file system",
  ENXIO: "no process reads from it",
  ELOOP: "a symbolic link loop",
  ENOENT: "no such file or directory",
  EEXIST: "a part of the path exists and is not a directory",
};

/**
 * Write `text` to `file`, the one writer of goldens, recordings and reports. Its policy:
 *
 * - a regular file (or none yet) is replaced atomically: temp file in the same directory, fsync,
 *   rename (creating the directory);
 * - a symbolic link is never replaced: the file it points to is written (atomically when that is a
 *   regular file); a dangling link or a loop is refused;
 * - a device node or a FIFO (`--out /dev/stdout`, `/dev/null`, a named pipe) is written through,
 *   never replaced; a FIFO without a reader is refused rather than waited on; a directory or a socket
 *   is refused;
 * - every failure (EACCES, ENOSPC, EISDIR, EROFS...) is a HarnessError `input.file` naming the path
 *   (exit 2), and a failed atomic write leaves no temporary file.
 */
export function writeFileAtomic(file: string, text: string | Uint8Array): void {
  let target = file;
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw writeError(file, e);
    if (code === "ENOENT" && isLink(file)) throw new HarnessError("input.file", `cannot write ${oneLine(file)}: a dangling symbolic link (its target does not exist; not replaced)`);
    if (code !== "ENOENT" && code !== "ENOTDIR") throw writeError(file, e);
  }
  if (st) {
    if (st.isDirectory()) throw writeError(file, Object.assign(new Error("EISDIR"), { code: "EISDIR" }));
    if (!st.isFile()) return writeThrough(file, st, text);
    // A link to a regular file: write the file it names, keep the link.
    if (isLink(file)) {
      try {
        target = fs.realpathSync.native(file);
      } catch (e) {
        throw writeError(file, e);
      }
    }
  }
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
  } catch (e) {
    throw writeError(file, e);
  }
  const tmp = tempNameFor(target);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "wx", 0o644);
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    fs.rmSync(tmp, { force: true });
    throw writeError(file, e);
  }
}

/** Write into a device node or FIFO as it is (no temp file, no rename: it is never replaced). */
function writeThrough(file: string, st: fs.Stats, text: string | Uint8Array): void {
  if (st.isSocket()) throw new HarnessError("input.file", `cannot write ${oneLine(file)}: it is a socket (not replaced)`);
  let fd: number | undefined;
  try {
    if (st.isFIFO()) {
      // Opening a FIFO for writing waits for a reader: probe without waiting (ENXIO: nobody reads).
      const probe = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      try {
        fd = fs.openSync(file, fs.constants.O_WRONLY);
      } finally {
        fs.closeSync(probe);
      }
    } else fd = fs.openSync(file, fs.constants.O_WRONLY);
    fs.writeFileSync(fd, text);
  } catch (e) {
    throw writeError(file, e);
  } finally {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* nothing more to say */
      }
    }
  }
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * The text of a regular file, or a HarnessError `input.file` naming it (one line, exit 2): a
 * directory, a FIFO (opened without waiting for a writer, so it never hangs), a device or a socket
 * is refused before anything is read; so is a missing file or one that cannot be read.
 */
export function readTextFile(file: string, what: string, shown: string = file): string {
  const fail = (why: string, cause?: unknown) => new HarnessError("input.file", `cannot read ${what}: ${why}`, { pos: { file: oneLine(shown) }, ...(cause ? { cause } : {}) });
  const because = (e: unknown) => {
    const code = (e as NodeJS.ErrnoException).code;
    return code ? `${code}${WHY[code] ? ` (${WHY[code]})` : ""}` : (e as Error).message;
  };
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw fail(because(e), e);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw fail(`it is ${kindOf(st)}, not a regular file`);
    return fs.readFileSync(fd, "utf8");
  } catch (e) {
    if (e instanceof HarnessError) throw e;
    throw fail(because(e), e);
  } finally {
    fs.closeSync(fd);
  }
}

/** What a non-regular file is, for messages. */
export function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "something else";
}
