/**
 * The small interface every backend speaks (recorded, sandbox, container, live): send one HTTP
 * request to xend, or do one guest lifecycle step through the backend's control channel. A cell runs
 * the same code whichever backend plays xend. Backends know nothing of libvirt.
 */

/** One HTTP request exactly as it goes on the wire (header order kept). */
export interface HttpRequest {
  method: "GET" | "POST" | "DELETE" | "PUT";
  /** Path and query, e.g. `/xend/domain/xc-hvm-utc?detail=1`. */
  path: string;
  headers: [string, string][];
  /** The body as sent (for xend a form-encoded `op=new&config=...`); undefined for none. */
  body?: string;
}

export interface HttpResponse {
  status: number;
  reason: string;
  headers: [string, string][];
  body: string;
}

/** Guest-side events and questions that are not xend HTTP calls. */
export type ControlStep =
  /** The guest changes its RTC by `delta` seconds (qemu-dm rewrites /vm/<uuid>/rtc/timeoffset). */
  | { kind: "guest-set-rtc"; domain: string; delta: number }
  /** The guest powers itself off (the hypervisor reports shutdown reason poweroff). */
  | { kind: "guest-poweroff"; domain: string }
  /** What clock the guest really got: what the fake hypervisor and xenstore saw. */
  | { kind: "effective-clock"; domain: string };

/** What the hypervisor side saw of a domain's clock (only backends with a fake hypervisor know it). */
export interface EffectiveClock {
  /** Arguments of every `xc.domain_set_time_offset(domid, offset)` call; null = called without an offset. */
  setTimeOffsetCalls: (number | null)[];
  /** `/vm/<uuid>/rtc/timeoffset` as xenstore holds it now, or null when absent. */
  vmRtcTimeoffset: string | null;
  /** Whether qemu-dm was given `-localtime` (HVM only; null when no device model was started). */
  dmLocaltime: boolean | null;
  /** The time zone xend ran in (POSIX TZ) and its offset east of UTC in seconds. */
  tz: string;
  hostUtcOffset: number;
}

export interface ControlReply {
  ok: boolean;
  /** For effective-clock. */
  clock?: EffectiveClock;
  /** Human-readable detail (errors, what was written). */
  detail?: string;
}

export type BackendKind = "recorded" | "sandbox" | "container" | "live";

/** Where a backend's xend comes from; written into every recording. */
export interface Provenance {
  /** e.g. `4.1.2` */
  xendVersion: string;
  /** e.g. `github:xen-project/xen` or a tarball name; for live: the URL. */
  tree: string;
  /** Full commit hash of the tree, or `unknown` (live). */
  commit: string;
  /** POSIX TZ xend ran in, e.g. `ORC-2`. */
  tz: string;
  /** Free-form notes: placeholder paths provided, python version, ... */
  notes?: string[];
}

/** One cell's conversation with a backend. */
export interface BackendSession {
  /** Send one HTTP request to xend and return its reply (transport faults throw HarnessError backend.*). */
  send(req: HttpRequest, step: string): Promise<HttpResponse>;
  /** Do one guest lifecycle step or question. Throws backend.unavailable where unsupported. */
  control(step: ControlStep, stepLabel: string): Promise<ControlReply>;
  /** End the session: clean up what the cell created (live: delete its domains). */
  end(): Promise<void>;
  /**
   * Where this session's answers come from, when it differs from the backend's (optional; the recorded
   * backend gives the provenance of the cell's recording).
   */
  provenance?(): Provenance | undefined;
  /** What the cell should know about this session (optional; e.g. the recorded backend replaying another libvirt version's recording). */
  notes?(): string[];
}

/** The name and uuid a cell gives its domain on xend. */
export interface DomainInstance {
  name: string;
  uuid: string;
}

export interface Backend {
  readonly kind: BackendKind;
  readonly xendVersion: string;
  /** How many cells may run at once against this backend. */
  readonly concurrency: number;
  /** Can this backend do control steps (guest RTC, poweroff, effective clock)? */
  readonly guestControl: boolean;
  /** True when this backend plays xend from recordings although its kind is not `recorded` (the container backend without a Xen tree). */
  readonly replays?: boolean;
  provenance(): Provenance;
  /**
   * Open the session for one cell. `cellId` is e.g. `4.1.2/0.9.11/hvm-utc`; `instance` is the domain
   * name and uuid the cell will use (a replay matches recordings up to them).
   */
  open(cellId: string, instance?: DomainInstance): Promise<BackendSession>;
  /** Stop whatever the backend started (processes, containers); idempotent. */
  close(): Promise<void>;
}
