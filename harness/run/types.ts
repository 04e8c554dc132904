/** What running a cell produces: observation, verdict, outcome, golden status. */
import type { ClockMeaning } from "../libvirt/index.js";
import type { Check, Verdict } from "../matrix/index.js";
import type { BackendKind, ControlReply, ControlStep, EffectiveClock, HttpRequest, HttpResponse } from "../xend/types.js";

export type { Verdict };

/** pass: as expected and good; xfail: a known problem showed as expected; xpass: a known problem did
 * not show (update the expectation); fail: not as expected; skip: the cell could not run here. */
export type Outcome = "pass" | "fail" | "xfail" | "xpass" | "skip";
export const OUTCOMES: readonly Outcome[] = ["pass", "fail", "xfail", "xpass", "skip"];

/** One thing said to the backend and what came back. */
export type Exchange =
  | { step: string; kind: "http"; request: HttpRequest; response?: HttpResponse; error?: string }
  | { step: string; kind: "control"; control: ControlStep; reply?: ControlReply; error?: string };

export interface ClockView {
  /** The `<clock>` element as text, or null when the XML has none. */
  xml: string | null;
  meaning: ClockMeaning;
  /** e.g. `localtime +3600s (reset)`. */
  description: string;
}

export interface PathValue {
  path: string;
  /** The raw atom as xend returned it; null when the element has no single value. */
  value: string | null;
}

/** The clock the guest got at one start. */
export interface EffectiveObservation {
  /** The step label of the start, e.g. `2-start`. */
  step: string;
  /** What the backend reported (cumulative call list as the backend keeps it). */
  raw: EffectiveClock;
  /** set_time_offset calls made during this start. */
  newCalls: (number | null)[];
  /** UTC + this many seconds. */
  utcOffset: number;
  rule: string;
  /** What the guest should run on at this start; null when unknown (timezone). */
  intendedOffset: number | null;
}

export interface CheckResult {
  check: Check;
  /** true: holds; false: broken; null: could not be decided here (with detail saying why). */
  ok: boolean | null;
  detail: string;
}

export interface Observation {
  xendConfigFormat: number | null;
  /** The domain XML as sent to the profile (name and uuid rewritten for the cell). */
  xmlIn: string;
  /** The SXPR libvirt built, or null when it refused. */
  sxprSent: string | null;
  /** The form body put on the wire for the define. */
  wireBody: string | null;
  /** The last read-back body as xend sent it. */
  sxprReturned: string | null;
  /** Every element named localtime / rtc_timeoffset in the last read-back, with raw values. */
  localtimePaths: PathValue[];
  rtcTimeoffsetPaths: PathValue[];
  intent: ClockView;
  clockBefore: ClockView;
  clockAfter: ClockView | null;
  /** The domain XML libvirt shows after the read, or null. */
  xmlOut: string | null;
  cmdlineBefore: string | null;
  cmdlineAfter: string | null;
  /** What libvirt itself said: warnings while formatting/parsing, and its error when it refused. */
  libvirt: { warnings: string[]; error: string | null };
  /** xend's refusal (status and body), when it refused. */
  xendError: string | null;
  /** One entry per start, where the backend can tell. */
  effective: EffectiveObservation[];
  checks: CheckResult[];
  exchanges: Exchange[];
  /** Things worth knowing that are not the verdict (cleanup trouble, unknowns). */
  notes: string[];
}

export type GoldenStatus = "match" | "mismatch" | "missing" | "written" | "not-compared";

export interface GoldenResult {
  status: GoldenStatus;
  /** Project-relative path of the golden file. */
  file: string;
  /** For a mismatch: a line diff (golden → now). */
  diff?: string;
  detail?: string;
}

export interface CellResult {
  id: string;
  xend: string;
  libvirt: string;
  profileId: string;
  scenario: string;
  guest: "pv" | "hvm";
  /** Which backend ran it; null when none could be had. */
  backend: BackendKind | null;
  /** Set when that backend replayed recordings although its kind is not `recorded` (container without a Xen tree). */
  replayed?: true;
  /** Whose HTTP client talked to xend: `native` (the built tree's own xend client, `--wire native`) or `ours`. */
  wire: "native" | "ours";
  verdict: Verdict;
  /** Why this verdict, one line. */
  reason: string;
  outcome: Outcome;
  /** Why this outcome, one line (expectation, golden). */
  outcomeReason: string;
  expectation: { cells: string; verdict: Verdict; reason: string; fixedBy?: string; report?: string } | null;
  observation: Observation;
  golden: GoldenResult | null;
  /** How long the cell ran on its backend, in ms (absent when it never got one). */
  durationMs?: number;
}

export interface Progress {
  done: number;
  total: number;
  result: CellResult;
}
