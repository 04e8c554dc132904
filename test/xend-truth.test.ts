/**
 * The truth table (fixtures/recordings/TRUTH.tsv: each xend series' clock rule, stated from its sources
 * with file:line) against what the real xend did: the shipped recordings of every series (made by
 * `record --backend sandbox` from the same trees; test/recordings-fresh.test.ts re-records them from
 * the real sandbox when the trees are present). A missing recording fails: every series in
 * harness/xend/series.ts must have its recordings and its row.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fromRoot, RECORDINGS_DIR } from "../harness/matrix/index.js";
import { readSxprAll, type Sx } from "../harness/sxp/index.js";
import { loadRecording, recordingPath, XEND_SERIES, xenSrcEnvName, type Recording } from "../harness/xend/index.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import type { CliIO } from "../harness/cli.js";
import { recordCells } from "../harness/cli/record.js";
import { DEFAULT_MATRIX, expandCells, loadMatrix } from "../harness/matrix/index.js";
import { startSandbox } from "../harness/sandbox/index.js";

interface TruthRow {
  version: string;
  series: string;
  xend_config_format: string;
  op_new: string;
  localtime0_on: string;
  rtc_after_poweroff: string;
  rtc_saved_at_shutdown: string;
  localtime_read: string;
  rtc_start: string;
}

const TRUTH_FILE = path.join(fromRoot(RECORDINGS_DIR), "TRUTH.tsv");

function readTruth(): TruthRow[] {
  const lines = fs.readFileSync(TRUTH_FILE, "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
  const head = lines[0]!.split("\t");
  return lines.slice(1).map((l, i) => {
    const cols = l.split("\t");
    if (cols.length !== head.length) throw new Error(`${TRUTH_FILE}: row ${i + 2} has ${cols.length} columns, expected ${head.length}`);
    return Object.fromEntries(head.map((h, j) => [h, cols[j]!])) as unknown as TruthRow;
  });
}

const recs = fromRoot(RECORDINGS_DIR);
/** The recordings the observations read, loaded once (a missing one fails the load: every series must have them). */
const NEEDED = ["0.9.11/pv-utc", "1.3.1/pv-utc", "0.9.11/pv-utc-start", "0.9.11/hvm-utc-start", "0.9.11/hvm-guest-sets-rtc"];
const loaded = new Map<string, Recording>();
/** Where the observations read from: the shipped recordings, or fresh ones from the real sandbox. */
let source = loaded;
const rec = (cell: string): Recording => {
  const r = source.get(cell);
  if (!r) throw new Error(`recording ${cell} not loaded`);
  return r;
};

function xendBodies(r: Recording, step: RegExp): string[] {
  return r.exchanges.flatMap((e) => (e.channel === "xend" && step.test(e.step) ? [e.response.body] : []));
}

/** Observed: xend_config_format in GET /xend/node/, or none. */
function observedConfigFormat(version: string): string {
  const body = xendBodies(rec(`${version}/0.9.11/pv-utc`), /^0-node$/)[0]!;
  const m = /\(xend_config_format (\d+)\)/.exec(body);
  return m ? m[1]! : "none";
}

/** Observed: op=new exists (libvirt 1.3.1 always posts it). */
function observedOpNew(version: string): string {
  const r = rec(`${version}/1.3.1/pv-utc`);
  const define = r.exchanges.find((e) => e.channel === "xend" && e.step === "1-define");
  if (!define || define.channel !== "xend") throw new Error(`${version}/1.3.1/pv-utc has no define exchange`);
  if (define.response.status === 200) return "yes";
  if (define.response.status === 501 && /Operation not implemented: new/.test(define.response.reason + define.response.body)) return "no";
  throw new Error(`${version}/1.3.1/pv-utc: define answered ${define.response.status} ${define.response.reason}`);
}

/** Observed: (localtime 0) started the guest on local time (a non-zero hypervisor offset, or qemu -localtime). */
function observedLocaltime0(version: string): string {
  let started = false;
  for (const s of ["pv-utc-start", "hvm-utc-start"]) {
    const r = rec(`${version}/0.9.11/${s}`);
    if (!r.exchanges.some((e) => e.channel === "xend" && /^\d+-define$/.test(e.step))) continue;
    for (const e of r.exchanges) {
      if (e.channel !== "control" || !e.step.endsWith("-start/effective-clock")) continue;
      started = true;
      const clock = e.reply.clock!;
      if (clock.setTimeOffsetCalls.some((c) => c !== null && c !== 0) || clock.dmLocaltime === true) return "yes";
    }
  }
  return started ? "no" : "n/a";
}

function rtcOf(body: string): string | undefined {
  for (const top of readSxprAll(body)) {
    const found = findRtc(top);
    if (found !== undefined) return found;
  }
  return undefined;
}
function findRtc(x: Sx): string | undefined {
  if (typeof x === "string") return undefined;
  if (x[0] === "rtc_timeoffset" && typeof x[1] === "string") return x[1];
  for (const c of x) {
    const f = findRtc(c);
    if (f !== undefined) return f;
  }
  return undefined;
}

/** Observed: rtc_timeoffset after the guest moved its RTC +3600 and powered off. */
function observedRtcAfterPoweroff(version: string): string {
  const bodies = xendBodies(rec(`${version}/0.9.11/hvm-guest-sets-rtc`), /^\d+-read$/);
  if (!bodies.length) return "n/a";
  return rtcOf(bodies[bodies.length - 1]!) ?? "absent";
}

/** The observable columns of a row, against the recordings in `source`. */
const check = (t: TruthRow) => {
    const observed = {
      xend_config_format: observedConfigFormat(t.version),
      op_new: observedOpNew(t.version),
      localtime0_on: observedLocaltime0(t.version),
      rtc_after_poweroff: observedRtcAfterPoweroff(t.version),
    };
    const allowed = t.rtc_after_poweroff.split("|");
    expect({ ...observed, rtc_after_poweroff: allowed.includes(observed.rtc_after_poweroff) ? t.rtc_after_poweroff : observed.rtc_after_poweroff }).toEqual({
      xend_config_format: t.xend_config_format,
      op_new: t.op_new,
      localtime0_on: t.localtime0_on,
      rtc_after_poweroff: t.rtc_after_poweroff,
    });
};

const truth = readTruth();

beforeAll(async () => {
  for (const s of XEND_SERIES) for (const c of NEEDED) loaded.set(`${s.version}/${c}`, await loadRecording(recordingPath(recs, `${s.version}/${c}`)));
});

describe("the truth table of the xend series (fixtures/recordings/TRUTH.tsv)", () => {
  it("has one row per xend series of harness/xend/series.ts, in order, each with file:line sources", () => {
    expect(truth.map((t) => `${t.series}=${t.version}`)).toEqual(XEND_SERIES.map((s) => `${s.series}=${s.version}`));
    // the config format the runner assumes per series (conversation keys) is the row's, which the recordings check
    expect(XEND_SERIES.map((s) => (s.configFormat === null ? "none" : String(s.configFormat)))).toEqual(truth.map((t) => t.xend_config_format));
    for (const t of truth) {
      expect(t.localtime_read, t.version).toMatch(/\.py:\d+/);
      expect(t.rtc_start === "ignored: no tree file names rtc_timeoffset" || /\.py:\d+/.test(t.rtc_start), t.version).toBe(true);
      expect(["yes", "no"]).toContain(t.rtc_saved_at_shutdown);
    }
  });

  // Sanity of the readers themselves on the facts file's known answers (so a reader that sees nothing
  // cannot make every row agree).
  it("reads the facts' known answers from the recordings of 3.2 and 4.1.2", () => {
    expect(observedLocaltime0("3.2")).toBe("yes");
    expect(observedLocaltime0("4.1.2")).toBe("no");
    expect(observedConfigFormat("4.1.2")).toBe("4");
    expect(observedRtcAfterPoweroff("4.1.2")).toBe("3600");
  });

  for (const t of truth) it(`xend ${t.version}: the sources' rule matches what the real xend did (shipped recordings)`, () => check(t));
});

describe("the truth table against the real sandbox (when the trees are present)", () => {
  const silent: CliIO = { out: () => {}, err: () => {}, isTTY: false, env: {}, cwd: process.cwd() };
  for (const t of truth) {
    const envName = xenSrcEnvName(t.version);
    const tree = process.env[envName];
    it.skipIf(!tree)(
      tree ? `xend ${t.version}: the sources' rule matches what the sandbox does now, from ${tree}` : `xend ${t.version}: skipped: no Xen tree (set ${envName} to a tree holding tools/python)`,
      async () => {
        const out = mkdtempSync(path.join(tmpdir(), `xc-truth-${t.version}-`));
        try {
          const want = new Set(NEEDED.map((c) => `${t.version}/${c}`));
          const cells = expandCells(loadMatrix(fromRoot(DEFAULT_MATRIX)), { xend: [t.version] }).filter((c) => want.has(c.id));
          expect(cells).toHaveLength(NEEDED.length);
          const { failed } = await recordCells({ cells, xend: t.version, outDir: out, io: silent, backendFor: () => startSandbox({ xenSrc: tree!, xendVersion: t.version }) });
          expect(failed).toEqual([]);
          const fresh = new Map<string, Recording>();
          for (const c of cells) fresh.set(c.id, await loadRecording(recordingPath(out, c.id)));
          source = fresh;
          check(t);
        } finally {
          source = loaded;
          rmSync(out, { recursive: true, force: true });
        }
      },
      120_000,
    );
  }
});

