/**
 * The recording wrapper: a Backend around any other backend that passes everything through and
 * collects each session's exchanges in order. When a session ends, what it collected goes to the
 * `onSessionEnd` callback (if any) and is kept until `take(cellId)`; `record` writes a cell's
 * exchanges only when the whole cell completed. A session in which the backend itself failed (a
 * transport or backend fault) is marked `faulted` and must not be written.
 */
import { isHarnessError } from "../errors.js";
import type { Backend, BackendSession, ControlReply, ControlStep, HttpRequest, HttpResponse, Provenance } from "./types.js";
import type { RecordedExchange, Recording, RecordingProvenance } from "./recording.js";
import { RECORDING_FORMAT } from "./recording.js";

export interface CollectedSession {
  cellId: string;
  exchanges: RecordedExchange[];
  /** A backend fault happened (send/control/end threw): the conversation is incomplete. */
  faulted: boolean;
  /** The first fault, for the report. */
  fault?: string;
  /** The session's end() ran. */
  ended: boolean;
}

export interface RecordingBackendOptions {
  /** Called when a session ends, with what it collected. */
  onSessionEnd?: (s: CollectedSession) => void | Promise<void>;
}

function copyReq(r: HttpRequest): HttpRequest {
  return { method: r.method, path: r.path, headers: r.headers.map(([k, v]) => [k, v] as [string, string]), ...(r.body !== undefined ? { body: r.body } : {}) };
}

function copyRes(r: HttpResponse): HttpResponse {
  return { status: r.status, reason: r.reason, headers: r.headers.map(([k, v]) => [k, v] as [string, string]), body: r.body };
}

class RecordingSession implements BackendSession {
  constructor(
    private readonly inner: BackendSession,
    private readonly collected: CollectedSession,
    private readonly onEnd: (s: CollectedSession) => Promise<void>,
  ) {}

  private fault(e: unknown): void {
    if (!this.collected.faulted) {
      this.collected.faulted = true;
      this.collected.fault = isHarnessError(e) ? `${e.code}: ${e.message}` : String(e);
    }
  }

  async send(req: HttpRequest, step: string): Promise<HttpResponse> {
    const sent = copyReq(req);
    let res: HttpResponse;
    try {
      res = await this.inner.send(req, step);
    } catch (e) {
      this.fault(e);
      throw e;
    }
    this.collected.exchanges.push({ channel: "xend", step, request: sent, response: copyRes(res) });
    return res;
  }

  async control(step: ControlStep, stepLabel: string): Promise<ControlReply> {
    const asked: ControlStep = { ...step };
    let reply: ControlReply;
    try {
      reply = await this.inner.control(step, stepLabel);
    } catch (e) {
      this.fault(e);
      throw e;
    }
    this.collected.exchanges.push({
      channel: "control",
      step: stepLabel,
      control: asked,
      reply: { ...reply, ...(reply.clock ? { clock: { ...reply.clock, setTimeOffsetCalls: [...reply.clock.setTimeOffsetCalls] } } : {}) },
    });
    return reply;
  }

  async end(): Promise<void> {
    try {
      await this.inner.end();
    } catch (e) {
      this.fault(e);
      throw e;
    } finally {
      this.collected.ended = true;
      await this.onEnd(this.collected);
    }
  }

  provenance(): Provenance | undefined {
    return this.inner.provenance?.();
  }
}

export class RecordingBackend implements Backend {
  readonly kind;
  readonly xendVersion: string;
  readonly concurrency: number;
  readonly guestControl: boolean;
  private readonly sessions = new Map<string, CollectedSession>();

  constructor(
    readonly inner: Backend,
    private readonly opts: RecordingBackendOptions = {},
  ) {
    this.kind = inner.kind;
    this.xendVersion = inner.xendVersion;
    this.concurrency = inner.concurrency;
    this.guestControl = inner.guestControl;
  }

  provenance(): Provenance {
    return this.inner.provenance();
  }

  async open(cellId: string): Promise<BackendSession> {
    const session = await this.inner.open(cellId);
    const collected: CollectedSession = { cellId, exchanges: [], faulted: false, ended: false };
    this.sessions.set(cellId, collected);
    return new RecordingSession(session, collected, async (s) => {
      await this.opts.onSessionEnd?.(s);
    });
  }

  /** What a cell's session collected (and forget it); undefined when the cell never opened a session. */
  take(cellId: string): CollectedSession | undefined {
    const s = this.sessions.get(cellId);
    this.sessions.delete(cellId);
    return s;
  }

  /** The cells with collected sessions not yet taken. */
  pending(): string[] {
    return [...this.sessions.keys()];
  }

  /** Build the recording of a collected session with this backend's provenance. */
  toRecording(s: CollectedSession, meta: { harnessVersion: string; recordedAt?: Date }): Recording {
    const p = this.inner.provenance();
    const provenance: RecordingProvenance = {
      ...p,
      backend: this.inner.kind,
      harnessVersion: meta.harnessVersion,
      recordedAt: (meta.recordedAt ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
    return { format: RECORDING_FORMAT, cell: s.cellId, provenance, exchanges: s.exchanges };
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}
