/**
 * The one error family of xend-compat. Every error the harness raises on purpose is a HarnessError
 * with a stable code. Codes starting with `input.` are the user's input being wrong (exit 2);
 * `backend.` are faults of whatever plays xend (a cell `error`, never a cell verdict); `libvirt.` are
 * errors the emulated libvirt release itself would report (they become `rejected` verdicts);
 * `driver.` are a built tree's own code crashing or hanging in our driver process (a cell `error`);
 * `internal.` are bugs in the harness.
 */
export type ErrorCode =
  | "input.usage"
  | "input.sxpr"
  | "input.xml"
  | "input.yaml"
  | "input.matrix"
  | "input.version"
  | "input.recording"
  | "input.file"
  | "input.golden"
  | "input.backend"
  | "input.tree"
  | "input.build"
  | "libvirt.unsupported"
  | "libvirt.internal"
  | "libvirt.parse"
  | "backend.unmatched"
  | "backend.connect"
  | "backend.timeout"
  | "backend.protocol"
  | "backend.http"
  | "backend.xend"
  | "backend.unavailable"
  | "backend.refused"
  | "driver.crash"
  | "driver.hang"
  | "internal";

/** Where in a file something went wrong; line and column are 1-based. */
export interface SourcePos {
  file?: string;
  line?: number;
  column?: number;
}

export class HarnessError extends Error {
  readonly code: ErrorCode;
  readonly pos?: SourcePos;
  constructor(code: ErrorCode, message: string, opts: { pos?: SourcePos; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = "HarnessError";
    this.code = code;
    this.pos = opts.pos;
  }

  /** True for errors that mean "the user's input or arguments are wrong" (exit code 2). */
  get isInputError(): boolean {
    return this.code.startsWith("input.");
  }

  /** One line: `file:line:column: message`, with whatever part of the position is known. */
  oneLine(): string {
    return formatWithPos(this.message, this.pos);
  }
}

export function formatWithPos(message: string, pos?: SourcePos): string {
  if (!pos || (!pos.file && pos.line === undefined)) return message;
  let where = pos.file ?? "<input>";
  if (pos.line !== undefined) where += `:${pos.line}`;
  if (pos.line !== undefined && pos.column !== undefined) where += `:${pos.column}`;
  return `${where}: ${message}`;
}

export function isHarnessError(e: unknown, code?: ErrorCode | string): e is HarnessError {
  if (!(e instanceof HarnessError)) return false;
  return code === undefined || e.code === code || e.code.startsWith(code + ".");
}
