/**
 * Running one cell: node GET, profile.format, the scenario's steps against the backend, read-back,
 * profile.parse, observation, verdict. Cleanup (destroy if running, delete if defined) always runs.
 * Nothing thrown here escapes: every fault becomes the cell's `error` (harness/backend) or `rejected`
 * (libvirt refused, or xend refused) verdict.
 */
import { HarnessError, isHarnessError } from "../errors.js";
import { clockOffsetOf, definesThroughXmFiles, describeClock, xmFileClockRefusal, readClock, readClockOf, parseLenient, resolveProfile, encodeForm, sameClock, type ClockMeaning, type ClockReading, type Profile } from "../libvirt/index.js";
import type { Cell, Verdict } from "../matrix/index.js";
import { findKey, readSxpr } from "../sxp/index.js";
import { XendClient, registerSecrets, secretsInXml } from "../xend/index.js";
import type { Backend, BackendSession, ControlReply, ControlStep, EffectiveClock, HttpRequest, HttpResponse } from "../xend/types.js";
import { effectiveOffset, intendedOffset, signed } from "./effective.js";
import { NativeWire, nativeRefusal } from "./native.js";
import type { BuiltProfile } from "../libvirt/build/index.js";
import type { CheckResult, ClockView, EffectiveObservation, Exchange, Observation, PathValue } from "./types.js";

/** Replace the first `<name>` and `<uuid>` of a domain XML (insert a uuid after the name if missing). */
export function rewriteIdentity(xml: string, name: string, uuid: string): string {
  let out = xml.replace(/<name>[^<]*<\/name>/, `<name>${name}</name>`);
  if (/<uuid>[^<]*<\/uuid>/.test(out)) out = out.replace(/<uuid>[^<]*<\/uuid>/, `<uuid>${uuid}</uuid>`);
  else out = out.replace(/(<name>[^<]*<\/name>)(\s*)/, `$1$2<uuid>${uuid}</uuid>$2`);
  return out;
}

/**
 * rewriteIdentity remembered by its arguments: the cells of every xend version of a (profile,
 * scenario) send the same XML, and the same string each time lets the memos keyed by it (the input
 * clock, libvirt's format) reuse its hash instead of hashing a new copy.
 */
const inputXmls = new Map<string, Map<string, string>>();

/** Forget what runCell remembers by text (input XMLs and their clocks; the bench: each repetition starts as a new process would). */
export function forgetInputs(): void {
  inputXmls.clear();
  inputClocks.clear();
  readBacks.clear();
}
function inputXml(xml: string, name: string, uuid: string): string {
  let byId = inputXmls.get(xml);
  if (!byId) {
    if (inputXmls.size >= 512) inputXmls.clear();
    byId = new Map();
    inputXmls.set(xml, byId);
  }
  const id = `${name}\0${uuid}`;
  let out = byId.get(id);
  if (out === undefined) {
    out = rewriteIdentity(xml, name, uuid);
    if (byId.size >= 512) byId.clear();
    byId.set(id, out);
  }
  return out;
}

/** The `<os><cmdline>` of a domain XML, or null. */
export function cmdlineOf(xml: string): string | null {
  return cmdlineOfDoc(parseLenient(xml));
}

function cmdlineOfDoc(doc: Document): string | null {
  const root = doc.documentElement;
  if (!root) return null;
  const first = (parent: Element, tag: string): Element | null => {
    for (let n = parent.firstChild; n; n = n.nextSibling) if (n.nodeType === 1 && (n as Element).tagName === tag) return n as Element;
    return null;
  };
  const os = first(root, "os");
  const c = os ? first(os, "cmdline") : null;
  return c ? (c.textContent ?? "") : null;
}

export function clockView(xml: string): ClockView {
  return viewOf(readClock(xml));
}

/**
 * clockView of a cell's input XML, remembered by text: every xend version of a matrix sends the same
 * XML for a (profile, scenario), so the DOM parse is done once. Each caller gets its own copy.
 */
const inputClocks = new Map<string, ClockView>();
function inputClockView(xml: string): ClockView {
  let v = inputClocks.get(xml);
  if (!v) {
    v = clockView(xml);
    if (inputClocks.size >= 512) inputClocks.clear();
    inputClocks.set(xml, v);
  }
  return { ...v, meaning: { ...v.meaning } };
}

function viewOf(r: ClockReading): ClockView {
  return { xml: r.xml, meaning: r.meaning, description: describeClock(r.meaning) };
}

/**
 * The clock and kernel command line libvirt shows, from one parse of its XML (as clockView and
 * cmdlineOf read them); remembered by text (a pure function of it): libvirt often shows the same XML
 * for a (profile, scenario) whatever the xend version answered. Each caller gets its own copy.
 */
function readBack(xml: string): { clock: ClockView; cmdline: string | null } {
  let r = readBacks.get(xml);
  if (!r) {
    const doc = parseLenient(xml);
    r = { clock: viewOf(readClockOf(doc)), cmdline: cmdlineOfDoc(doc) };
    if (readBacks.size >= 512) readBacks.clear();
    readBacks.set(xml, r);
  }
  return { clock: { ...r.clock, meaning: { ...r.clock.meaning } }, cmdline: r.cmdline };
}
const readBacks = new Map<string, { clock: ClockView; cmdline: string | null }>();

function meaningView(m: ClockMeaning, text: string): ClockView {
  return { xml: text, meaning: m, description: describeClock(m) };
}

function errText(e: unknown): string {
  if (e instanceof HarnessError) return e.oneLine();
  return e instanceof Error ? e.message : String(e);
}

/** Logs every exchange of a session for `explain` and the JSON report. */
class LoggedSession implements BackendSession {
  readonly log: Exchange[] = [];
  constructor(private readonly inner: BackendSession) {}
  async send(req: HttpRequest, step: string): Promise<HttpResponse> {
    const entry: Exchange = { step, kind: "http", request: req };
    this.log.push(entry);
    try {
      const res = await this.inner.send(req, step);
      entry.response = res;
      return res;
    } catch (e) {
      entry.error = errText(e);
      throw e;
    }
  }
  async control(step: ControlStep, stepLabel: string): Promise<ControlReply> {
    const entry: Exchange = { step: stepLabel, kind: "control", control: step };
    this.log.push(entry);
    try {
      const reply = await this.inner.control(step, stepLabel);
      entry.reply = reply;
      return reply;
    } catch (e) {
      entry.error = errText(e);
      throw e;
    }
  }
  end(): Promise<void> {
    return this.inner.end();
  }
  notes(): string[] {
    return this.inner.notes?.() ?? [];
  }
}

/** A verdict decided before the end of the steps. */
class Stop extends Error {
  constructor(
    readonly verdict: Verdict,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** How a thrown error turns into a verdict. */
export function verdictForError(e: unknown, during: string): { verdict: Verdict; reason: string } {
  if (e instanceof Stop) return { verdict: e.verdict, reason: e.reason };
  if (isHarnessError(e, "libvirt")) return { verdict: "rejected", reason: `libvirt refuses (${during}): ${e.message}` };
  if (isHarnessError(e, "backend.xend")) return { verdict: "rejected", reason: `xend refuses (${during}): ${oneLineOf(e.message)}` };
  // A backend that went away under a cell (a sandbox xend that died, a closed backend) failed that
  // cell: an error, never a skip. Skips come only from what a backend cannot do by design (a live
  // host cannot imitate the guest: missingCapability), decided before the cell runs.
  if (isHarnessError(e, "backend.unavailable")) return { verdict: "error", reason: `${during}: ${e.code}: ${oneLineOf(e.message)}` };
  if (isHarnessError(e)) return { verdict: "error", reason: `${during}: ${e.code}: ${oneLineOf(e.oneLine())}` };
  return { verdict: "error", reason: `${during}: internal: ${oneLineOf(e instanceof Error ? e.message : String(e))}` };
}

function oneLineOf(s: string): string {
  const flat = s.replace(/\s*\n\s*/g, " ").trim();
  return flat.length > 400 ? flat.slice(0, 397) + "..." : flat;
}

export interface CellRun {
  verdict: Verdict;
  reason: string;
  observation: Observation;
  /** Whose code talked HTTP to xend: the tree's own client (`native`) or ours (absent: ours). */
  wire?: WireMode;
}

/** Whose HTTP client talks to xend in a cell: ours (harness/xend/client.ts + libvirt/wire.ts) or the built tree's own. */
export type WireMode = "native" | "ours";

export function emptyObservation(cell: Cell, xmlIn: string): Observation {
  const s = cell.scenario;
  return {
    xendConfigFormat: null,
    xmlIn,
    sxprSent: null,
    wireBody: null,
    sxprReturned: null,
    localtimePaths: [],
    rtcTimeoffsetPaths: [],
    intent: meaningView(s.intent, s.intentText),
    // The scenario's own XML: the cell's (xmlIn) differs only in the text of <name> and <uuid>
    // (rewriteIdentity), never in <clock>, so one read serves every cell of the scenario.
    clockBefore: inputClockView(s.xml),
    clockAfter: null,
    xmlOut: null,
    cmdlineBefore: s.cmdline,
    cmdlineAfter: null,
    libvirt: { warnings: [], error: null },
    xendError: null,
    effective: [],
    checks: [],
    exchanges: [],
    notes: [],
  };
}

function pathValues(tree: ReturnType<typeof readSxpr>, key: string): PathValue[] {
  return findKey(tree, key).map((m) => ({ path: m.path, value: m.value ?? null }));
}

/** What the scenario needs from the backend that it may not have. */
export function missingCapability(cell: Cell, backend: Pick<Backend, "guestControl" | "kind">): string | null {
  const guestSteps = cell.scenario.steps.filter((s) => s.kind === "guest-set-rtc" || s.kind === "guest-poweroff");
  if (guestSteps.length && !backend.guestControl) return `the ${backend.kind} backend cannot imitate the guest (${[...new Set(guestSteps.map((s) => s.kind))].join(", ")})`;
  return null;
}

/**
 * The start of the skip reason of a cell whose libvirt would not define the domain through xend at
 * all. Such a cell ran for real as far as libvirt talks to xend (GET /xend/node/), so its recording
 * is kept (harness/cli/record.ts).
 */
export const NOT_THROUGH_XEND = "libvirt would not define this domain through xend";

/** What one cell's run carries from step to step. */
interface CellState {
  readonly cell: Cell;
  readonly backend: Backend;
  readonly profile: Profile;
  readonly session: LoggedSession;
  readonly client: XendClient;
  readonly obs: Observation;
  /** The domain's name on xend (the cell's instance). */
  readonly name: string;
  /** What xend's node says (GET /xend/node/), once asked. */
  xendConfigFormat: number;
  /** The SXPR libvirt formats, once formatted. */
  sxpr: string;
  /** Whether xend holds the domain: "unknown" after a define whose answer was not a refusal. */
  defined: "no" | "yes" | "unknown";
  running: boolean;
  /** What the cell was doing (for the reason of a verdict decided by a fault). */
  during: string;
  verdict: Verdict | null;
  reason: string;
  /** setTimeOffset calls seen: at the define baseline, and at the last effective-clock question. */
  baselineCalls: number | null;
  lastCalls: number | null;
  /** The sum of the guest's RTC changes so far. */
  rtcDeltas: number;
  /** `--wire native`: the tree's own xend client, once its connection is open. */
  readonly nativeMode: boolean;
  native: NativeWire | null;
}

/**
 * Run one cell against an open backend: a short pipeline of the named steps below. Never throws,
 * except HarnessError input.* (bad input: the run stops).
 */
export async function runCell(cell: Cell, backend: Backend, opts: { profile?: Profile; wire?: WireMode } = {}): Promise<CellRun> {
  // The domain's passwords are redacted by value from here on, in every form they take (redact.ts).
  registerSecrets(secretsInXml(cell.scenario.xml));
  const xmlIn = inputXml(cell.scenario.xml, cell.instance.name, cell.instance.uuid);
  const obs = emptyObservation(cell, xmlIn);
  const missing = missingCapability(cell, backend);
  if (missing) return { verdict: "skipped", reason: missing, observation: obs };
  let profile: Profile;
  try {
    profile = opts.profile ?? resolveProfile(cell.libvirt);
  } catch (e) {
    return { verdict: "error", reason: `profile: ${errText(e)}`, observation: obs };
  }
  // A release that cannot talk to xend at all (1.2.1): libvirt fails loudly at its first request.
  if (profile.unusable) return { verdict: "rejected", reason: profile.unusable.reason, observation: obs };
  const nativeMode = opts.wire === "native";
  if (nativeMode) {
    // execute() refuses this before any cell runs; a caller that did not ask gets the cell's error.
    const why = nativeRefusal(profile);
    if (why) return { verdict: "error", reason: `--wire native: ${why}`, observation: obs, wire: "native" };
  }
  const opened = await openSession(cell, backend, obs);
  if (!(opened instanceof LoggedSession)) return { ...opened, observation: obs, ...(nativeMode ? { wire: "native" as const } : {}) };
  const st = newState(cell, backend, profile, opened, obs, nativeMode);
  try {
    await askNode(st);
    await formatDomain(st);
    for (let i = 0; i < cell.scenario.steps.length; i++) await doStep(st, cell.scenario.steps[i], `${i + 1}-${cell.scenario.steps[i].kind}`);
  } catch (e) {
    fail(st, e);
  } finally {
    await cleanUp(st);
  }
  const run = judge(st);
  return nativeMode ? { ...run, wire: "native" } : run;
}

/** Open the backend's session for the cell, logged; a fault is the cell's verdict (bad input stops the run). */
async function openSession(cell: Cell, backend: Backend, obs: Observation): Promise<LoggedSession | { verdict: Verdict; reason: string }> {
  let raw: BackendSession;
  try {
    raw = await backend.open(cell.id, cell.instance);
  } catch (e) {
    // Bad input behind the backend (e.g. a corrupt recording file) stops the run: exit 2 naming the file.
    if (isHarnessError(e, "input")) throw e;
    return verdictForError(e, "opening the backend session");
  }
  obs.notes.push(...(raw.notes?.() ?? []));
  return new LoggedSession(raw);
}

function newState(cell: Cell, backend: Backend, profile: Profile, session: LoggedSession, obs: Observation, nativeMode: boolean): CellState {
  return {
    cell,
    backend,
    profile,
    session,
    client: new XendClient(session),
    obs,
    name: cell.instance.name,
    xendConfigFormat: 0,
    sxpr: "",
    defined: "no",
    running: false,
    during: "GET /xend/node/",
    verdict: null,
    reason: "",
    baselineCalls: null,
    lastCalls: null,
    rtcDeltas: 0,
    nativeMode,
    native: null,
  };
}

/** GET /xend/node/: which SXPR dialect (xend_config_format) xend speaks, and whether libvirt defines through xend at all. */
async function askNode(st: CellState): Promise<void> {
  if (st.nativeMode) {
    // The tree's xenDaemonOpen (0.x: its xend_detect_config_version; 1.x: xenDaemonNodeGetInfo).
    const opened = await NativeWire.open(st.profile as BuiltProfile, st.session, "0-node", st.cell.id);
    st.native = opened.wire;
    st.obs.notes.push(`wire: native: libvirt ${st.profile.first}'s own xend client talked HTTP to xend (through a recording loopback proxy that passes the bytes unchanged)`);
    if (st.backend.kind === "live") st.obs.notes.push("wire: native on a live xend: the live backend still renames the domain to this run's name on the wire and adds its ownership checks");
    st.xendConfigFormat = opened.xendConfigFormat;
    st.obs.xendConfigFormat = opened.xendConfigFormat;
  } else {
    const node = await st.client.getNode("0-node");
    st.xendConfigFormat = node.xendConfigFormat;
    st.obs.xendConfigFormat = node.xendConfigFormat;
  }
  const p = st.profile;
  if (st.cell.scenario.steps.some((t) => t.kind === "define") && definesThroughXmFiles(p.first, st.xendConfigFormat)) {
    // The xm-file driver formats the domain itself and refuses the clocks it cannot write (libvirt/xm.ts):
    // that refusal, with libvirt's own message, is what the user gets.
    const refusal = xmFileClockRefusal(p.release ?? p.first, st.cell.scenario.guest, clockOffsetOf(st.obs.xmlIn), st.xendConfigFormat);
    if (refusal !== null) {
      st.obs.libvirt.error = refusal;
      throw new Stop("rejected", `libvirt refuses (defining through its xm-file driver, xend_config_format ${st.xendConfigFormat}): ${refusal}`);
    }
    throw new Stop(
      "skipped",
      `${NOT_THROUGH_XEND}: xend reports xend_config_format ${st.xendConfigFormat} (below 3, xend before 3.0.4), so libvirt ${p.first}-${p.last} defines it through its xm-file driver (/etc/xen/<name>) and never posts op=new; the round trip through xend does not exist here`,
    );
  }
}

/** libvirt formats the cell's domain XML into SXPR for that dialect. */
async function formatDomain(st: CellState): Promise<void> {
  st.during = "formatting the domain XML";
  const s = st.cell.scenario;
  let formatted;
  try {
    formatted = await st.profile.format(st.obs.xmlIn, { xendConfigVersion: st.xendConfigFormat, file: s.domainFile });
  } catch (e) {
    if (isHarnessError(e, "libvirt")) st.obs.libvirt.error = e.message;
    throw e;
  }
  st.sxpr = formatted.sxpr;
  st.obs.sxprSent = formatted.sxpr;
  st.obs.libvirt.warnings.push(...formatted.warnings);
}

/** One step of the scenario. */
async function doStep(st: CellState, step: Cell["scenario"]["steps"][number], label: string): Promise<void> {
  st.during = `step ${label}`;
  switch (step.kind) {
    case "define":
      return defineStep(st, label);
    case "start":
      if (st.native) await st.native.start(st.name, label);
      else await st.client.startDomain(st.name, label);
      st.running = true;
      return effectiveAt(st, `${label}/effective-clock`);
    case "guest-set-rtc":
    case "guest-poweroff":
      return guestStep(st, step, label);
    case "read":
      return readStep(st, label);
  }
}

/** POST op=new with libvirt's wire encoding; then the effective-clock baseline when the scenario starts the guest. */
async function defineStep(st: CellState, label: string): Promise<void> {
  if (st.native) return nativeDefine(st, st.native, label);
  const body = encodeForm(st.profile.wire, [
    ["op", "new"],
    ["config", st.sxpr],
  ]);
  st.obs.wireBody = body;
  st.defined = "unknown";
  try {
    await st.client.defineDomain(body, label);
  } catch (e) {
    if (isHarnessError(e, "backend.xend")) st.defined = "no";
    throw e;
  }
  st.defined = "yes";
  await clockBaseline(st, label);
}

/** Before a scenario that starts the guest: how many clock sets the backend has seen (the baseline its effective clock is read against). */
async function clockBaseline(st: CellState, label: string): Promise<void> {
  if (!st.backend.guestControl || !st.cell.scenario.steps.some((t) => t.kind === "start")) return;
  try {
    const r = await st.session.control({ kind: "effective-clock", domain: st.name }, `${label}/clock-baseline`);
    if (r.ok && r.clock) st.baselineCalls = r.clock.setTimeOffsetCalls.length;
  } catch (e) {
    if (!isHarnessError(e, "backend.unavailable")) throw e;
  }
}

/** The define through the tree's own xenDaemonDomainDefineXML; the body observed is the one it sent. */
async function nativeDefine(st: CellState, native: NativeWire, label: string): Promise<void> {
  st.defined = "unknown";
  try {
    await native.define(st.obs.xmlIn, label);
  } catch (e) {
    st.obs.wireBody = native.lastDefineBody;
    if (isHarnessError(e, "backend.xend") || !native.definePosted()) st.defined = "no";
    throw e;
  }
  const body = native.lastDefineBody;
  st.obs.wireBody = body;
  st.defined = "yes";
  // The config the tree put on the wire is the SXPR its formatter gives (driver to-sxpr): else say so.
  if (body !== null) {
    const cfg = body.replace(/^op=new&config=/, "");
    let sent: string | null = cfg;
    if (st.profile.wire === "uri") {
      try {
        sent = decodeURIComponent(cfg);
      } catch {
        sent = null;
      }
    }
    if (sent !== st.sxpr) st.obs.notes.push(`${label}: the config the tree's client sent differs from its formatter's SXPR (the observation's sxprSent)`);
  }
  await clockBaseline(st, label);
}

/** The guest sets its RTC or powers off (the backend imitates it). */
async function guestStep(st: CellState, step: { kind: "guest-set-rtc"; delta: number } | { kind: "guest-poweroff" }, label: string): Promise<void> {
  const ctl: ControlStep = step.kind === "guest-set-rtc" ? { kind: "guest-set-rtc", domain: st.name, delta: step.delta } : { kind: "guest-poweroff", domain: st.name };
  const reply = await st.session.control(ctl, label);
  if (!reply.ok) throw new HarnessError("backend.refused", `the backend could not do ${step.kind}: ${reply.detail ?? "no detail"}`);
  if (step.kind === "guest-set-rtc") st.rtcDeltas += step.delta;
  else st.running = false;
}

/** GET the domain back; where xend put localtime and rtc_timeoffset; libvirt parses it; the clock and command line it shows. */
async function readStep(st: CellState, label: string): Promise<void> {
  if (st.native) return nativeRead(st, st.native, label);
  const obs = st.obs;
  const dom = await st.client.getDomain(st.name, label);
  if (!dom) throw new Stop("changed", `xend no longer knows the domain at ${label} (404)`);
  obs.sxprReturned = dom.raw;
  obs.localtimePaths = pathValues(dom.sxpr, "localtime");
  obs.rtcTimeoffsetPaths = pathValues(dom.sxpr, "rtc_timeoffset");
  st.during = `parsing the read-back (${label})`;
  let parsed;
  try {
    parsed = await st.profile.parse(dom.raw, { xendConfigVersion: st.xendConfigFormat, file: `GET /xend/domain/${st.name}` });
  } catch (e) {
    if (isHarnessError(e, "libvirt")) obs.libvirt.error = e.message;
    throw e;
  }
  obs.libvirt.warnings.push(...parsed.warnings);
  obs.xmlOut = parsed.xml;
  const back = readBack(parsed.xml);
  obs.clockAfter = back.clock;
  obs.cmdlineAfter = back.cmdline;
}

/** The read through the tree's own xenDaemonDomainFetch and formatter; the reply observed is xend's bytes. */
async function nativeRead(st: CellState, native: NativeWire, label: string): Promise<void> {
  const obs = st.obs;
  st.during = `reading back through the tree's client (${label})`;
  let got;
  try {
    got = await native.fetch(st.name, label);
  } catch (e) {
    if (isHarnessError(e, "libvirt")) obs.libvirt.error = e.message;
    throw e;
  }
  if ("missing" in got) throw new Stop("changed", `xend no longer knows the domain at ${label} (404)`);
  obs.sxprReturned = got.raw;
  const tree = readSxpr(got.raw, { dialect: "libvirt", strict: false, file: `GET /xend/domain/${st.name}?detail=1` });
  obs.localtimePaths = pathValues(tree, "localtime");
  obs.rtcTimeoffsetPaths = pathValues(tree, "rtc_timeoffset");
  obs.xmlOut = got.xml;
  const back = readBack(got.xml);
  obs.clockAfter = back.clock;
  obs.cmdlineAfter = back.cmdline;
}

/** Ask the backend which clock the guest really runs at, and note what it means. */
async function effectiveAt(st: CellState, label: string): Promise<void> {
  if (!st.backend.guestControl) return;
  const obs = st.obs;
  let reply: ControlReply;
  try {
    reply = await st.session.control({ kind: "effective-clock", domain: st.name }, label);
  } catch (e) {
    if (isHarnessError(e, "backend.unavailable")) {
      obs.notes.push(`${label}: effective clock unknown: ${e.message}`);
      return;
    }
    throw e;
  }
  if (!reply.ok || !reply.clock) {
    obs.notes.push(`${label}: effective clock unknown: ${reply.detail ?? "no clock in the reply"}`);
    return;
  }
  recordEffective(st, label, reply.clock);
}

function recordEffective(st: CellState, label: string, clock: EffectiveClock): void {
  const prev = st.lastCalls ?? st.baselineCalls ?? 0;
  const newCalls = clock.setTimeOffsetCalls.slice(Math.min(prev, clock.setTimeOffsetCalls.length));
  st.lastCalls = clock.setTimeOffsetCalls.length;
  const eff = effectiveOffset(clock, st.cell.scenario.guest, newCalls);
  // obs.clockBefore is clockView(xmlIn), read once for the cell.
  const intendedClock: ClockMeaning = { ...st.obs.clockBefore.meaning };
  intendedClock.adjustment += st.rtcDeltas;
  const entry: EffectiveObservation = {
    step: label.replace(/\/effective-clock$/, ""),
    raw: clock,
    newCalls,
    utcOffset: eff.utcOffset,
    rule: eff.rule,
    intendedOffset: intendedOffset(intendedClock, clock.hostUtcOffset),
  };
  st.obs.effective.push(entry);
}

/** A fault during the steps decides the verdict. */
function fail(st: CellState, e: unknown): void {
  const v = verdictForError(e, st.during);
  st.verdict = v.verdict;
  st.reason = v.reason;
  if (isHarnessError(e, "backend.xend")) st.obs.xendError = oneLineOf(e.message);
}

/** Destroy if running, then delete if (maybe) defined (failures are notes, not verdicts); end the session. */
async function cleanUp(st: CellState): Promise<void> {
  const obs = st.obs;
  const native = st.native;
  if (st.running) {
    try {
      if (native) await native.destroy(st.name, "cleanup-destroy");
      else await st.client.destroyDomain(st.name, "cleanup-destroy");
    } catch (e) {
      obs.notes.push(`cleanup: destroy failed: ${oneLineOf(errText(e))}`);
    }
  }
  if (st.defined !== "no") {
    try {
      if (native) await native.remove(st.name, "cleanup-delete");
      else await st.client.deleteDomain(st.name, "cleanup-delete");
    } catch (e) {
      obs.notes.push(`cleanup: delete failed: ${oneLineOf(errText(e))}`);
    }
  }
  if (native) await native.close();
  try {
    await st.session.end();
  } catch (e) {
    // The backend says the session did not go as it should (e.g. a replay that left recorded
    // exchanges unused): a backend fault, so the cell is an error whatever it looked like.
    if (st.verdict !== "error") {
      const v = verdictForError(e, "ending the backend session");
      obs.notes.push(`verdict before the session ended: ${st.verdict ?? "(checks not yet judged)"}${st.reason ? `: ${st.reason}` : ""}`);
      st.verdict = v.verdict === "skipped" ? "error" : v.verdict === "rejected" ? "error" : v.verdict;
      st.reason = v.reason;
    }
  }
  // What the backend can only say at the end (e.g. which recording answered a replay).
  for (const n of st.session.notes()) if (!obs.notes.includes(n)) obs.notes.push(n);
  obs.exchanges = st.session.log;
}

/** The verdict: the one a fault decided, else the scenario's checks against the observation. */
function judge(st: CellState): CellRun {
  if (st.verdict) return { verdict: st.verdict, reason: st.reason, observation: st.obs };
  st.obs.checks = judgeChecks(st.cell, st.obs, st.backend.kind);
  return { ...verdictOfChecks(st.obs.checks), observation: st.obs };
}

/**
 * The verdict of a cell that ran to the end, from its checks: `changed` when one failed; `skipped`
 * when none failed but one could not be decided (every check a scenario names is required, so an
 * undecided one must not pass as preserved); `preserved` only when every check held.
 */
export function verdictOfChecks(checks: CheckResult[]): { verdict: Verdict; reason: string } {
  const broken = checks.filter((c) => c.ok === false);
  if (broken.length) return { verdict: "changed", reason: broken.map((c) => c.detail).join("; ") };
  const held = checks.filter((c) => c.ok === true).map((c) => c.check);
  const undecided = checks.filter((c) => c.ok === null);
  if (undecided.length)
    return {
      verdict: "skipped",
      reason: `not decided: ${undecided.map((c) => `${c.check}: ${c.detail}`).join("; ")}${held.length ? ` (${held.join(", ")} as intended)` : ""}`,
    };
  return { verdict: "preserved", reason: held.length ? `${held.join(", ")} as intended` : "nothing checked" };
}

/** The scenario's checks against the observation. */
export function judgeChecks(cell: Cell, obs: Observation, backendKind?: string): CheckResult[] {
  const out: CheckResult[] = [];
  for (const check of cell.scenario.checks) {
    switch (check) {
      case "clock": {
        const after = obs.clockAfter;
        if (!after) out.push({ check, ok: null, detail: "no read-back" });
        else {
          const same = sameClock(after.meaning, obs.intent.meaning);
          out.push({
            check,
            ok: same,
            detail: same ? `libvirt shows ${after.description}` : `clock: intended ${obs.intent.description}, libvirt shows ${after.xml ?? "no <clock>"} (${after.description})`,
          });
        }
        break;
      }
      case "effective-clock": {
        if (!obs.effective.length) {
          out.push({ check, ok: null, detail: `the ${backendKind ? `${backendKind} ` : ""}backend cannot tell the guest's real clock` });
          break;
        }
        for (const e of obs.effective) {
          if (e.intendedOffset === null) out.push({ check, ok: null, detail: `${e.step}: intended offset unknown (timezone)` });
          else if (e.intendedOffset === e.utcOffset) out.push({ check, ok: true, detail: `${e.step}: guest runs at ${signed(e.utcOffset)}` });
          else out.push({ check, ok: false, detail: `guest clock at ${e.step}: runs at ${signed(e.utcOffset)} (${e.rule}), intended ${signed(e.intendedOffset)}` });
        }
        break;
      }
      case "cmdline": {
        if (obs.xmlOut === null) out.push({ check, ok: null, detail: "no read-back" });
        else if (obs.cmdlineAfter === obs.cmdlineBefore) out.push({ check, ok: true, detail: "kernel command line intact" });
        else out.push({ check, ok: false, detail: `kernel command line: sent ${JSON.stringify(obs.cmdlineBefore)}, libvirt shows ${obs.cmdlineAfter === null ? "none" : JSON.stringify(obs.cmdlineAfter)}` });
        break;
      }
    }
  }
  return out;
}

/**
 * The run a cell would have had if xend had answered its read step with `sxpr` instead, everything
 * before it the same: the read-back paths, libvirt's parse, the checks and the verdict derived anew
 * (golden.ts uses it for the documented races of xend, races.ts). Null when the cell has no single read
 * step that was judged, or libvirt's parse of `sxpr` fails.
 */
export async function withReadBack(cell: Cell, run: CellRun, sxpr: string, backendKind?: string, profileIn?: Profile): Promise<CellRun | null> {
  const obs = run.observation;
  if (obs.sxprReturned === null || obs.xendConfigFormat === null || !obs.checks.length) return null;
  if (cell.scenario.steps.filter((s) => s.kind === "read").length !== 1) return null;
  try {
    const profile = profileIn ?? resolveProfile(cell.libvirt);
    const file = `GET /xend/domain/${cell.instance.name}`;
    const opts = { xendConfigVersion: obs.xendConfigFormat, file };
    // libvirt's warnings are the format's, then the read-back parse's: keep the first, parse anew.
    const before = await profile.parse(obs.sxprReturned, opts);
    const formatWarnings = obs.libvirt.warnings.slice(0, obs.libvirt.warnings.length - before.warnings.length);
    const parsed = await profile.parse(sxpr, opts);
    const tree = readSxpr(sxpr, { dialect: "libvirt", strict: false, file });
    const back = readBack(parsed.xml);
    const alt: Observation = {
      ...obs,
      sxprReturned: sxpr,
      localtimePaths: pathValues(tree, "localtime"),
      rtcTimeoffsetPaths: pathValues(tree, "rtc_timeoffset"),
      xmlOut: parsed.xml,
      clockAfter: back.clock,
      cmdlineAfter: back.cmdline,
      libvirt: { warnings: [...formatWarnings, ...parsed.warnings], error: obs.libvirt.error },
      checks: [],
    };
    alt.checks = judgeChecks(cell, alt, backendKind);
    return { ...verdictOfChecks(alt.checks), observation: alt };
  } catch {
    return null;
  }
}
