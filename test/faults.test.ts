/**
 * Faults of what plays xend become that cell's `error` (or `rejected` when xend says xend.err), with a
 * precise message, and the run completes with the other cells fine. Runs the real CLI (`run --backend
 * live`) against test/support/fault-xend.ts. Timeouts are injected (--timeout-ms), never slept.
 */
import * as os from "node:os";
import * as path from "node:path";
import * as fs from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { deadAddress, startFaultXend, type FaultRule, type FaultXend } from "./support/fault-xend.js";
import { cellsById, runCli } from "./support/cli.js";

const ROOT = path.resolve(import.meta.dirname, "..");
/** The pv-* scenarios of the default matrix for one libvirt release: 6 cells, one domain each. */
const BASE = ["run", "--backend", "live", "--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-*", "--reporter", "json"];
const TARGET = "4.1.2/0.9.11/pv-localtime";
const TARGET_DOMAIN = "xc-pv-localtime-v0911";

let xend: FaultXend | undefined;
afterEach(async () => {
  await xend?.close();
  xend = undefined;
});

/**
 * The deadline of the runs with a hanging reply: far beyond what any healthy request needs, even on a
 * loaded machine. Only the hanging request ever reaches it, and only because the test says so.
 */
const DEADLINE_MS = 600_000;

/**
 * Run with the clock of the client's deadlines faked; when the stand-in holds the hanging request,
 * advance that clock past the deadline. The live backend sends one request at a time, so that
 * request's deadline is the only one pending then: healthy requests never depend on wall time.
 */
async function expireAtHang<T>(x: FaultXend, run: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  try {
    void x.waitFor((q) => q.fault === "hang").then(() => vi.advanceTimersByTime(DEADLINE_MS));
    return await run();
  } finally {
    vi.useRealTimers();
  }
}

async function runWith(rule: FaultRule | null, extra: string[] = ["--retries", "0"], env?: NodeJS.ProcessEnv) {
  xend = await startFaultXend({ version: "4.1.2" });
  if (rule) xend.addFault(rule);
  const go = () => runCli([...BASE, "--url", xend!.url, ...extra], { cwd: ROOT, ...(env ? { env } : {}) });
  const r = rule?.fault === "hang" ? await expireAtHang(xend, go) : await go();
  return { r, cells: cellsById(r.stdout) };
}

function othersFine(cells: Map<string, { verdict: string; reason: string }>, except: string) {
  expect(cells.size).toBe(6);
  for (const [id, c] of cells) {
    if (id === except) continue;
    // A live xend cannot tell the guest's real clock: a scenario that checks it is undecided, so skipped.
    if (c.verdict === "skipped") expect(c.reason, id).toBe("not decided: effective-clock: the live backend cannot tell the guest's real clock (clock as intended)");
    else expect(["preserved", "changed", "rejected"], `${id}: ${c.verdict}`).toContain(c.verdict);
  }
}

/**
 * Read-back GET of the target cell, once (the first GET detail is the live backend's free-name check;
 * later ones are its uuid check before the runner's delete and its re-read after it). The stand-in
 * matches the runner's name: on the wire it is xc-<run id>-4.1.2-pv-localtime-v0911.
 */
const READ_BACK = { method: "GET", domain: TARGET_DOMAIN, pathIncludes: "detail=1", skip: 1, times: 1 } as const;
/** The target's path on the wire, under the run's name. */
const WIRE_PATH = String.raw`/xend/domain/xc-[a-z0-9]+-4\.1\.2-pv-localtime-v0911\?detail=1`;

describe("each fault becomes the cell's error with a precise message; the run completes", () => {
  const table: [string, FaultRule, string[], RegExp][] = [
    // A reset right after part of the reply reaches Node on loopback either as ECONNRESET or as a close
    // (the bytes already read, then no more): both are named precisely.
    ["reset mid-reply", { ...READ_BACK, fault: "reset" }, [], /backend\.(connect: cannot talk to xend at 127\.0\.0\.1:\d+: connection reset by xend after \d+ bytes of the reply \(ECONNRESET\)|protocol: xend at 127\.0\.0\.1:\d+: truncated reply body: Content-Length is 400 but the connection closed after 14 body bytes)/],
    ["reset before any reply", { ...READ_BACK, fault: "reset-early" }, [], /step 2-read: backend\.connect: cannot talk to xend at 127\.0\.0\.1:\d+: connection reset by xend after 0 bytes of the reply \(ECONNRESET\)/],
    ["reply slower than the timeout", { ...READ_BACK, fault: "hang" }, ["--timeout-ms", String(DEADLINE_MS)], new RegExp(String.raw`backend\.timeout: xend at 127\.0\.0\.1:\d+ did not complete GET ${WIRE_PATH} within 600000 ms \(request sent, no reply yet\)`)],
    ["truncated body", { ...READ_BACK, fault: "truncate" }, [], /backend\.protocol: xend at 127\.0\.0\.1:\d+: truncated reply body: Content-Length is \d+ but the connection closed after 20 body bytes/],
    ["wrong Content-Length (body longer)", { ...READ_BACK, fault: "wrong-length" }, [], /backend\.protocol: .*reply body has more bytes than its Content-Length of 10/],
    ["reply over libvirt's 256 KiB cap", { ...READ_BACK, fault: "oversize" }, [], /backend\.protocol: Xend returned HTTP Content-Length of \d+, which exceeds maximum of 262144/],
    // libvirt's lenient reader takes the leading bytes as an atom; the profile's parse then names the spot.
    ["garbage instead of SXPR", { ...READ_BACK, fault: "garbage" }, [], /^parsing the read-back \(2-read\): input\.sxpr: GET \/xend\/domain\/xc-pv-localtime-v0911:1:12: unexpected text after the expression$/],
  ];
  for (const [name, rule, extra, message] of table) {
    it(`${name}: ${TARGET} is an error, the other 5 cells are fine`, async () => {
      const { r, cells } = await runWith(rule, ["--retries", "0", ...extra]);
      const c = cells.get(TARGET)!;
      expect(c.verdict).toBe("error");
      expect(c.reason).toMatch(message);
      othersFine(cells, TARGET);
      expect(r.code).toBe(1);
      expect(xend!.requests.some((q) => q.fault === rule.fault)).toBe(true);
      // The failed cell's domain was deleted again all the same.
      expect([...xend!.domains.keys()]).toEqual([]);
    });
  }

  it("500 with (xend.err '…') on define: the cell is rejected with xend's words", async () => {
    const { cells } = await runWith({ method: "POST", op: "new", domain: TARGET_DOMAIN, fault: "xend-err", message: "Error creating domain: out of memory" });
    const c = cells.get(TARGET)!;
    expect(c.verdict).toBe("rejected");
    expect(c.reason).toBe("xend refuses (step 1-define): xend_post: error from xen daemon: (xend.err 'Error creating domain: out of memory')");
    othersFine(cells, TARGET);
  });

  it("read-back answers 404: xend no longer knows the domain (changed, not a harness error)", async () => {
    const { cells } = await runWith({ ...READ_BACK, fault: "not-found" });
    expect(cells.get(TARGET)).toMatchObject({ verdict: "changed", reason: "xend no longer knows the domain at 2-read (404)" });
    othersFine(cells, TARGET);
  });

  it("read-back answers xend 3.2's empty 500: libvirt's own error text, the cell is rejected", async () => {
    const { cells } = await runWith({ ...READ_BACK, fault: "empty-500" });
    expect(cells.get(TARGET)).toMatchObject({ verdict: "rejected", reason: "xend refuses (step 2-read): 500 status from xen daemon: /xend/domain/xc-pv-localtime-v0911?detail=1:(null)" });
    othersFine(cells, TARGET);
  });

  it("connection refused: the run stops once with one line naming the address (exit 2), no cell reported", async () => {
    const url = await deadAddress();
    const r = await runCli([...BASE, "--url", url, "--retries", "0"], { cwd: ROOT });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.err).toEqual([`xend-compat run: --backend live cannot play xend 4.1.2: cannot talk to xend at ${url.slice("http://".length)}: connection refused (is xend running and listening there?) (ECONNREFUSED)`]);
  });

  it("a live xend that does not answer is asked once for the whole run, not once per cell or per xend version", async () => {
    xend = await startFaultXend({ version: "4.1.2" });
    xend.addFault({ method: "GET", pathIncludes: "/xend/node", fault: "reset-early" });
    const r = await runCli(["run", "--backend", "live", "--url", xend.url, "--retries", "0", "--xend", "3.2,4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-*", "--reporter", "json"], { cwd: ROOT });
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^xend-compat run: --backend live cannot play xend 3\.2: cannot talk to xend at 127\.0\.0\.1:\d+: connection reset by xend/);
    expect(xend.requests.map((q) => `${q.method} ${q.path}`)).toEqual(["GET /xend/node/"]);
  });

  it("a xend of another version: bad input before any cell runs, naming the version the live xend is (exit 2)", async () => {
    xend = await startFaultXend({ version: "4.1.2" });
    const r = await runCli(["run", "--backend", "live", "--url", xend.url, "--xend", "3.2,4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-utc", "--reporter", "json"], { cwd: ROOT });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^xend-compat run: xend 3\.2: the live xend at 127\.0\.0\.1:\d+ is Xen 4\.1\.2 .*\(--backend live\)$/);
    expect(xend.requests.filter((q) => q.method === "POST")).toEqual([]);
  });

  it("over a unix socket: a reset becomes the cell's error naming the socket", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-faults-"));
    const sock = path.join(dir, "xend-socket");
    xend = await startFaultXend({ version: "4.1.2", listen: "unix", socketPath: sock });
    xend.addFault({ ...READ_BACK, fault: "truncate" });
    const r = await runCli([...BASE, "--url", `unix://${sock}`, "--retries", "0"], { cwd: ROOT });
    const cells = cellsById(r.stdout);
    expect(cells.get(TARGET)!.reason).toContain(`xend at unix:${sock}: truncated reply body`);
    othersFine(cells, TARGET);
    // No TCP warning for a unix socket.
    expect(r.stderr).not.toContain("over TCP");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("bounded retries, only for idempotent GETs", () => {
  it("--retries 1: a GET reset once is retried and the cell is fine (2 GETs on the wire)", async () => {
    const { cells } = await runWith({ ...READ_BACK, fault: "reset", times: 1 }, ["--retries", "1"]);
    expect(cells.get(TARGET)!.verdict).toBe("preserved");
    const reads = xend!.requests.filter((q) => q.method === "GET" && q.logical === TARGET_DOMAIN);
    // free-name check, read-back (reset), its retry, the uuid check before the delete, the re-read after it
    expect(reads.map((q) => q.fault ?? "ok")).toEqual(["ok", "reset", "ok", "ok", "ok"]);
  });

  it("--retries 2 against a GET that always fails: 3 attempts, then the cell's error says so", async () => {
    const { cells } = await runWith({ ...READ_BACK, fault: "truncate", times: 3 }, ["--retries", "2"]);
    expect(cells.get(TARGET)!.reason).toMatch(/truncated reply body.*\(gave up after 3 attempts\)/);
    const faulted = xend!.requests.filter((q) => q.fault === "truncate");
    expect(faulted.length).toBe(3);
  });

  it("a POST is never retried, whatever --retries says", async () => {
    const { cells } = await runWith({ method: "POST", op: "new", domain: TARGET_DOMAIN, fault: "reset-early", times: 1 }, ["--retries", "5"]);
    expect(cells.get(TARGET)!.verdict).toBe("error");
    expect(cells.get(TARGET)!.reason).toMatch(/step 1-define: backend\.connect: .*connection reset/);
    expect(xend!.requests.filter((q) => q.method === "POST" && q.op === "new" && q.logical === TARGET_DOMAIN).length).toBe(1);
  });

  it("record --retries: a GET reset once is retried and the cell is recorded (into a temp dir, never shipped)", async () => {
    xend = await startFaultXend({ version: "4.1.2" });
    xend.addFault({ ...READ_BACK, fault: "reset-early", times: 1 });
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "xc-faults-rec-"));
    try {
      const r = await runCli(["record", "--backend", "live", "--url", xend.url, "--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-localtime", "--out", out, "--retries", "1"], { cwd: ROOT });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("1 recording(s) written, 0 cell(s) failed");
      const none = await runCli(["record", "--backend", "live", "--url", xend.url, "--xend", "4.1.2", "--out", out], { cwd: ROOT, env: { XEND_COMPAT_RETRIES: "eleven" } });
      expect(none.code).toBe(2);
      expect(none.err).toEqual(["xend-compat record: XEND_COMPAT_RETRIES 'eleven': expected a whole number from 0 to 10"]);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it("XEND_COMPAT_RETRIES and XEND_COMPAT_TIMEOUT_MS set the defaults; bad values are usage errors", async () => {
    const { cells } = await runWith({ ...READ_BACK, fault: "hang" }, [], { XEND_COMPAT_RETRIES: "0", XEND_COMPAT_TIMEOUT_MS: String(DEADLINE_MS) });
    expect(cells.get(TARGET)!.reason).toMatch(/within 600000 ms/);
    othersFine(cells, TARGET);
    if (!xend) throw new Error("no stand-in");
    const bad = await runCli([...BASE, "--url", xend.url], { cwd: ROOT, env: { XEND_COMPAT_RETRIES: "many" } });
    expect(bad.code).toBe(2);
    expect(bad.err).toEqual(["xend-compat run: XEND_COMPAT_RETRIES 'many': expected a whole number from 0 to 10"]);
    const bad2 = await runCli([...BASE, "--url", xend.url, "--retries", "11"], { cwd: ROOT });
    expect(bad2.err).toEqual(["xend-compat run: --retries '11': expected a whole number from 0 to 10"]);
  });
});
