/**
 * The live backend's safety rules, against test/support/fault-xend.ts holding foreign domains: it
 * never sends a mutating request for a domain it did not create (refused before the wire), gives every
 * run its own names (run id and xend version), defines only prefixed names that are free, with a fresh
 * uuid, and touches a domain only while GET by its name shows that uuid; a define refused for any
 * reason is left alone; a define without an answer is looked for and deleted only when it is ours,
 * else named; cleanup on end/close/failure/abort and on SIGINT, SIGTERM and SIGHUP (CLI as a child
 * process); two harness processes at once against one stand-in: no false verdict, no foreign delete.
 * Deadlines are never slept on: held requests are released by the test, timers faked where a deadline
 * must pass.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startLiveBackend, resetTcpWarning, classify, replaceUuid, replaceName, versionMatches, liveNameFor, NAME_MAX, NAME_CHARS } from "../harness/live/index.js";
import { isHarnessError } from "../harness/errors.js";
import { libvirtGet, libvirtPost, type HttpRequest } from "../harness/xend/index.js";
import { encodeForm } from "../harness/libvirt/index.js";
import { logicalName, startFaultXend, type FaultXend, type StandInDomain } from "./support/fault-xend.js";
import { cellsById, runCli } from "./support/cli.js";

const ROOT = path.resolve(import.meta.dirname, "..");
/** Someone else's domains, some with the harness's prefix: one with a runner's name, one with another run's live name. */
const FOREIGN = [
  { name: "prod-db" },
  { name: "web-1", uuid: "11111111-2222-3333-4444-555555555555" },
  { name: "xc-pv-utc-v0911" },
  { name: "xc-other1-4.1.2-pv-localtime-v0911", uuid: "22222222-3333-4444-5555-666666666666" },
];
const FOREIGN_NAMES = FOREIGN.map((f) => f.name);
const quiet = { handleSignals: false, log: () => {} } as const;

let xend: FaultXend | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await xend?.close();
  xend = undefined;
});

function snapshot(x: FaultXend): Record<string, StandInDomain> {
  return Object.fromEntries([...x.domains.values()].filter((d) => d.foreign).map((d) => [d.name, { ...d }]));
}

/** Requests that change something and named one of `names` (as sent on the wire). */
function mutationsOn(x: FaultXend, names: string[]) {
  return x.requests.filter((r) => r.method !== "GET" && r.domain !== undefined && names.includes(r.domain));
}

/** The harness's domains still on the stand-in. */
function ours(x: FaultXend): string[] {
  return [...x.domains.values()].filter((d) => !d.foreign).map((d) => d.name);
}

const define = (name: string, uuid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", enc: "uri" | "raw" = "uri"): HttpRequest =>
  libvirtPost("/xend/domain/", encodeForm(enc, [["op", "new"], ["config", `(vm (name ${name}) (uuid ${uuid}) (memory 256) (image (linux (kernel /boot/vmlinuz))))`]]));

async function refusedBeforeWire(x: FaultXend, p: Promise<unknown>, message: RegExp) {
  const before = x.requests.length;
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(isHarnessError(e, "backend.refused"), String(e)).toBe(true);
  expect((e as Error).message).toMatch(message);
  expect(x.requests.length).toBe(before);
}

async function settled(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

describe("live backend: refuses what it did not create", () => {
  it("op=delete/destroy/start/shutdown on a foreign domain, DELETE, PUT and other POSTs are refused before the wire", async () => {
    xend = await startFaultXend({ foreign: FOREIGN });
    const before = snapshot(xend);
    const b = await startLiveBackend({ url: xend.url, xendVersion: "4.1.2", ...quiet });
    const s = await b.open("4.1.2/0.9.11/x");
    for (const op of ["delete", "destroy", "start", "shutdown", "pause"])
      await refusedBeforeWire(xend, s.send(libvirtPost("/xend/domain/prod-db", `op=${op}`), "t"), new RegExp(`refuses op=${op} on domain 'prod-db': it was not created by this run`));
    await refusedBeforeWire(xend, s.send(libvirtPost("/xend/domain/xc-pv-utc-v0911", "op=delete"), "t"), /not created by this run/);
    await refusedBeforeWire(xend, s.send(libvirtPost("/xend/domain/xc-other1-4.1.2-pv-localtime-v0911", "op=delete"), "t"), /not created by this run/);
    await refusedBeforeWire(xend, s.send({ method: "DELETE", path: "/xend/domain/web-1", headers: [] }, "t"), /refuses DELETE \/xend\/domain\/web-1/);
    await refusedBeforeWire(xend, s.send({ method: "PUT", path: "/xend/domain/web-1", headers: [], body: "x" }, "t"), /refuses PUT/);
    await refusedBeforeWire(xend, s.send(libvirtPost("/xend/node/", "op=shutdown"), "t"), /refuses POST \/xend\/node\/ op=shutdown/);
    await refusedBeforeWire(xend, s.send(libvirtPost("/xend/domain/", "op=restore&file=/tmp/x"), "t"), /refuses POST \/xend\/domain\/ op=restore/);
    // Reads are fine.
    expect((await s.send(libvirtGet("/xend/domain/prod-db?detail=1"), "t")).status).toBe(200);
    await s.end();
    await b.close();
    expect(snapshot(xend)).toEqual(before);
    expect(mutationsOn(xend, FOREIGN_NAMES)).toEqual([]);
  });

  it("defines only names with the prefix, only when the run's name is free; a foreign domain under that name is never defined over", async () => {
    xend = await startFaultXend({ foreign: [...FOREIGN, { name: "xc-r1-4.1.2-taken" }] });
    const b = await startLiveBackend({ url: xend.url, xendVersion: "4.1.2", runId: "r1", ...quiet });
    const s = await b.open("c");
    await refusedBeforeWire(xend, s.send(define("prod-db2"), "t"), /only defines domains whose names start with 'xc-' \(got 'prod-db2'\)/);
    const n = xend.requests.length;
    await expect(s.send(define("xc-taken"), "t")).rejects.toThrow(/domain 'xc-r1-4\.1\.2-taken' already exists on xend at 127\.0\.0\.1:\d+ \(GET detail answers 200, uuid 0f0f0f0f-1111-2222-3333-444444444444\) and was not created by this run/);
    // Only the free-name check went out.
    expect(xend.requests.slice(n).map((r) => r.method)).toEqual(["GET"]);
    // A runner's name held by someone else is no obstacle: this run defines under its own name.
    expect((await s.send(define("xc-pv-utc-v0911"), "t")).status).toBe(200);
    expect(xend.domains.get("xc-r1-4.1.2-pv-utc-v0911")?.foreign).toBe(false);
    // A custom prefix.
    const b2 = await startLiveBackend({ url: xend.url, prefix: "ci-", ...quiet });
    await refusedBeforeWire(xend, (await b2.open("c")).send(define("xc-a"), "t"), /start with 'ci-'/);
    await s.end();
    await b.close();
    await b2.close();
    expect(mutationsOn(xend, FOREIGN_NAMES.concat("xc-r1-4.1.2-taken"))).toEqual([]);
    expect(ours(xend)).toEqual([]);
  });

  it("a name is free on 404 and on xend 3.2's empty 500; any other answer refuses", async () => {
    xend = await startFaultXend({ version: "3.2.0", unknownDomain: "empty-500" });
    const b = await startLiveBackend({ url: xend.url, xendVersion: "3.2", ...quiet });
    const s = await b.open("c");
    expect((await s.send(define("xc-a"), "t")).status).toBe(200);
    xend.addFault({ method: "GET", domain: "xc-b", fault: "xend-err", message: "boom" });
    await expect(s.send(define("xc-b"), "t")).rejects.toThrow(/cannot tell whether 'xc-\w+-3\.2-b' is free .*GET detail of xc-\w+-3\.2-b answers 500: \(xend\.err 'boom'\)/);
    await s.end();
    expect(ours(xend)).toEqual([]);
    await b.close();
  });

  it("gives each define a fresh uuid and the run's name, keeping every other byte (both wire encodings)", async () => {
    xend = await startFaultXend();
    let k = 0;
    const fresh = ["12345678-9abc-4def-8123-456789abcdef", "fedcba98-7654-4321-8fed-cba987654321"];
    const b = await startLiveBackend({ url: xend.url, runId: "k3f9q2", ...quiet, newUuid: () => fresh[k++] });
    const s = await b.open("c");
    await s.send(define("xc-u1"), "t");
    await s.send(define("xc-u2", undefined, "raw"), "t");
    expect(xend.domains.get("xc-k3f9q2-4.1.2-u1")!.uuid).toBe(fresh[0]);
    expect(xend.domains.get("xc-k3f9q2-4.1.2-u2")!.uuid).toBe(fresh[1]);
    const body = define("xc-u1").body!;
    expect(replaceUuid(body, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", fresh[0])).toBe(body.replace("aaaaaaaa%2dbbbb%2d4ccc%2d8ddd%2deeeeeeeeeeee", "12345678%2d9abc%2d4def%2d8123%2d456789abcdef"));
    expect(replaceName(body, "xc-u1", "xc-k3f9q2-4.1.2-u1")).toBe(body.replace("xc%2du1", "xc%2dk3f9q2%2d4%2e1%2e2%2du1"));
    // libvirt quotes the name: (name 'x'); the raw encoding before 0.9.5 sends it as it is.
    expect(replaceName("op=new&config=(vm (name 'xc-a')(uuid 'u'))", "xc-a", "xc-r-4.1.2-a")).toBe("op=new&config=(vm (name 'xc-r-4.1.2-a')(uuid 'u'))");
    // Read-backs show the runner's name again (the recorder and the runner never see the run's name).
    const back = await s.send(libvirtGet("/xend/domain/xc-u1?detail=1"), "t");
    expect(back.body).toContain("(name xc-u1)");
    expect(back.body).not.toContain("k3f9q2");
    await s.end();
    await b.close();
  });

  it("classifies requests as xend reads them", () => {
    expect(classify(define("xc-a"))).toEqual({ kind: "define", op: "new", name: "xc-a", uuid: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee" });
    expect(classify(libvirtPost("/xend/domain/xc-a", "op=start"))).toEqual({ kind: "op", name: "xc-a", op: "start" });
    expect(classify(libvirtGet("/xend/domain/prod-db?detail=1"))).toEqual({ kind: "read", path: "/xend/domain/prod-db?detail=1" });
    expect(classify(libvirtPost("/xend/domain/", "op=new&config=%28vm%29"))).toMatchObject({ kind: "other" });
  });
});

describe("live backend: names per run, exact versions", () => {
  it("two runs, or two xend versions of one run, never share a name; names keep the prefix, xend's characters and our length cap", async () => {
    xend = await startFaultXend();
    const b1 = await startLiveBackend({ url: xend.url, xendVersion: "4.1.2", ...quiet });
    const b2 = await startLiveBackend({ url: xend.url, xendVersion: "4.1.2", ...quiet });
    expect(b1.runId).toMatch(/^[a-z0-9]{6}$/);
    expect(b1.runId).not.toBe(b2.runId);
    const names = [b1.liveName("xc-pv-utc-v0911"), b2.liveName("xc-pv-utc-v0911")];
    expect(names[0]).toBe(`xc-${b1.runId}-4.1.2-pv-utc-v0911`);
    expect(names[0]).not.toBe(names[1]);
    // Both runs define the same cell at once: both succeed, each under its own name.
    const [s1, s2] = [await b1.open("c"), await b2.open("c")];
    const [r1, r2] = await Promise.all([s1.send(define("xc-pv-utc-v0911"), "t"), s2.send(define("xc-pv-utc-v0911"), "t")]);
    expect([r1.status, r2.status]).toEqual([200, 200]);
    expect(ours(xend).sort()).toEqual([...names].sort());
    await Promise.all([s1.end(), s2.end()]);
    expect(ours(xend)).toEqual([]);
    // Two xend versions of one run: one run id, two names.
    const v = (x: string) => liveNameFor("xc-pv-utc-v0911", { prefix: "xc-", runId: "abc123", xend: x });
    expect(v("3.4.3")).not.toBe(v("4.1.2"));
    // The longest runner name of the default matrix fits; a longer one is cut with a hash, still distinct.
    const longest = liveNameFor("xc-hvm-localtime-guest-sets-rtc-restart-v087rfc", { prefix: "xc-", runId: "abc123", xend: "3.4.3" });
    expect(longest).toBe("xc-abc123-3.4.3-hvm-localtime-guest-sets-rtc-restart-v087rfc");
    const a = liveNameFor(`xc-${"a".repeat(80)}-1`, { prefix: "xc-", runId: "abc123", xend: "4.1.2" });
    const c = liveNameFor(`xc-${"a".repeat(80)}-2`, { prefix: "xc-", runId: "abc123", xend: "4.1.2" });
    for (const n of [longest, a, c]) {
      expect(n.length).toBeLessThanOrEqual(NAME_MAX);
      expect(n).toMatch(NAME_CHARS);
      expect(n.startsWith("xc-abc123-")).toBe(true);
    }
    expect(a).not.toBe(c);
    await b1.close();
    await b2.close();
  });

  it("a bad XEND_COMPAT_LIVE_RUN_ID is bad input (exit 2) before anything reaches xend", async () => {
    xend = await startFaultXend();
    const r = await runCli(["run", "--backend", "live", "--url", xend.url, "--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-utc"], { cwd: ROOT, env: { XEND_COMPAT_LIVE_RUN_ID: "Bad-Id" } });
    expect(r.code).toBe(2);
    expect(r.err).toEqual(["xend-compat run: XEND_COMPAT_LIVE_RUN_ID 'Bad-Id': expected 1 to 16 lower-case letters or digits"]);
    expect(xend.requests).toEqual([]);
  });

  it("versions are compared exactly (4.1 is not 4.1.2; 3.2 is 3.2.0), and a xend that reports none is refused, saying what was compared", async () => {
    expect(versionMatches("4.1", "4.1.2")).toBe(false);
    expect(versionMatches("4.1.2", "4.1")).toBe(false);
    expect(versionMatches("3.2", "3.2.0")).toBe(true);
    expect(versionMatches("4.1.2", "4.1.2")).toBe(true);
    expect(versionMatches("4.1.2", "4.1.20")).toBe(false);
    xend = await startFaultXend({ version: "4.1.2" });
    const e = await settled(startLiveBackend({ url: xend.url, xendVersion: "4.1", ...quiet }));
    expect(isHarnessError(e, "backend.unavailable")).toBe(true);
    expect((e as Error).message).toMatch(/is Xen 4\.1\.2 \(xen_major 4, xen_minor 1, xen_extra '\.2'\), not 4\.1: versions are compared exactly/);
    await xend.close();
    xend = await startFaultXend({ version: null });
    const none = await settled(startLiveBackend({ url: xend.url, xendVersion: "4.1.2", ...quiet }));
    expect(isHarnessError(none, "backend.unavailable")).toBe(true);
    expect((none as Error).message).toMatch(/does not report its Xen version in GET \/xend\/node\/ \(xen_major \(none\), xen_minor \(none\), xen_extra \(none\)\); the live backend does not assume one \(the cells are for xend 4\.1\.2\)/);
    // Nothing but the node read went out.
    expect(xend.requests.map((r) => r.path)).toEqual(["/xend/node/"]);
  });
});

describe("live backend: ownership by uuid", () => {
  it("a define refused because the name was just taken (another run) is an error, not a verdict, and the name is left alone", async () => {
    xend = await startFaultXend();
    xend.addFault({ method: "POST", op: "new", domain: "xc-a", fault: "race-foreign" });
    const b = await startLiveBackend({ url: xend.url, ...quiet });
    const s = await b.open("c");
    const e = await settled(s.send(define("xc-a"), "t"));
    // backend.refused: the runner makes it the cell's error (xend's own refusals of a config stay `rejected`).
    expect(isHarnessError(e, "backend.refused"), String(e)).toBe(true);
    expect((e as Error).message).toMatch(/refuses to define 'xc-\w+-4\.1\.2-a': the name was taken between the free-name check and the define \(\(xend\.err 'VM name .*xc-\w+-4\.1\.2-a.* already exists'\)\); not this run's domain, left alone/);
    // The runner's own cleanup delete, the session's end and the close leave it alone.
    await refusedBeforeWire(xend, s.send(libvirtPost("/xend/domain/xc-a", "op=delete"), "cleanup-delete"), /refuses op=delete on domain 'xc-a': it was not created by this run/);
    await s.end();
    await b.close();
    const taken = xend.domainOf("xc-a", { foreign: true })!;
    expect(taken.foreign).toBe(true);
    expect(mutationsOn(xend, [taken.name]).map((r) => r.op)).toEqual(["new"]);
  });

  it("a name that holds another uuid by the time of the cleanup is not deleted, and the closing message names it", async () => {
    xend = await startFaultXend();
    const lines: string[] = [];
    const b = await startLiveBackend({ url: xend.url, handleSignals: false, log: (l) => lines.push(l) });
    const s = await b.open("c");
    await s.send(define("xc-a"), "t");
    const d = xend.domainOf("xc-a")!;
    // Someone else's domain now has that name (e.g. ours was deleted and another process reused it).
    xend.domains.set(d.name, { ...d, uuid: "99999999-8888-4777-8666-555555555555", foreign: true });
    const n = xend.requests.length;
    const runnerDelete = await settled(s.send(libvirtPost("/xend/domain/xc-a", "op=delete"), "cleanup-delete"));
    expect((runnerDelete as Error).message).toMatch(/not sending op=delete: 'xc-\w+-4\.1\.2-a' holds uuid 99999999-8888-4777-8666-555555555555, not the .* this run gave it: left alone/);
    // Only the uuid check went out.
    expect(xend.requests.slice(n).map((r) => r.method)).toEqual(["GET"]);
    await s.end();
    await b.close();
    expect(xend.domains.get(d.name)?.uuid).toBe("99999999-8888-4777-8666-555555555555");
    expect(mutationsOn(xend, [d.name]).map((r) => r.op)).toEqual(["new"]);
    expect(lines.join("\n")).toMatch(/not this run's, left alone: xc-\w+-4\.1\.2-a \(holds uuid 99999999-8888-4777-8666-555555555555/);
  });
});

describe("live backend: defines without an answer", () => {
  const DEADLINE_MS = 600_000;

  /** Send a define the stand-in holds; expire its deadline (fake timers) once the stand-in has it. */
  async function timedOutDefine(x: FaultXend, lines: string[]) {
    x.addFault({ method: "POST", op: "new", domain: "xc-slow", fault: "hold" });
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const b = await startLiveBackend({ url: x.url, timeoutMs: DEADLINE_MS, retries: 0, handleSignals: false, log: (l) => lines.push(l) });
    const s = await b.open("c");
    void x.waitFor((q) => q.fault === "hold").then(() => vi.advanceTimersByTime(DEADLINE_MS));
    const e = await settled(s.send(define("xc-slow"), "1-define"));
    vi.useRealTimers();
    expect(isHarnessError(e, "backend.timeout"), String(e)).toBe(true);
    return { b, s };
  }

  it("a define slower than the deadline that creates the domain later: found by name + uuid and deleted", async () => {
    xend = await startFaultXend();
    const lines: string[] = [];
    const { b, s } = await timedOutDefine(xend, lines);
    // xend finishes the define after the harness gave up.
    expect(xend.release()).toBe(1);
    expect(xend.domainOf("xc-slow")).toBeDefined();
    await s.end();
    expect(xend.domainOf("xc-slow")).toBeUndefined();
    await b.close();
    expect(lines.at(-1)).toMatch(/cleanup done: the 1 domain\(s\) this run \(\w+\) defined on xend at 127\.0\.0\.1:\d+ are deleted \(each re-read: gone\)/);
  });

  it("one that has not appeared by the end is named as possibly appearing later; no 'cleanup done'", async () => {
    xend = await startFaultXend();
    const lines: string[] = [];
    const { b, s } = await timedOutDefine(xend, lines);
    const e = await settled(s.end());
    expect((e as Error).message).toMatch(/could not delete xc-\w+-4\.1\.2-slow \(its define got no answer and it was not on xend when looked for by name: it may still appear\)/);
    await b.close();
    expect(lines.join("\n")).not.toContain("cleanup done");
    expect(lines.at(-1)).toMatch(/cleanup incomplete on xend at 127\.0\.0\.1:\d+: may be left: xc-\w+-4\.1\.2-slow \(its define got no answer .* it may still appear\); check and remove them by hand/);
    // And indeed it appears after the harness is done (so the message was needed).
    xend.release();
    expect(xend.domainOf("xc-slow")).toBeDefined();
  });

  it("a signal while the free-name check is under way: no define is sent", async () => {
    xend = await startFaultXend();
    xend.addFault({ method: "GET", domain: "xc-a", pathIncludes: "detail", fault: "hold", times: 1 });
    const ac = new AbortController();
    const b = await startLiveBackend({ url: xend.url, ...quiet, signal: ac.signal });
    const s = await b.open("c");
    const p = settled(s.send(define("xc-a"), "1-define"));
    await xend.waitFor((q) => q.fault === "hold");
    ac.abort();
    xend.release();
    const e = await p;
    expect(isHarnessError(e, "backend.refused")).toBe(true);
    expect((e as Error).message).toMatch(/refuses to define 'xc-a': the run was aborted \(during the free-name check; nothing was defined\)/);
    expect(xend.requests.filter((q) => q.method === "POST")).toEqual([]);
    await b.close();
  });

  it("an interrupt while a define is under way waits for its answer, then deletes the domain", async () => {
    xend = await startFaultXend();
    xend.addFault({ method: "POST", op: "new", domain: "xc-a", fault: "hold" });
    const b = await startLiveBackend({ url: xend.url, ...quiet });
    const s = await b.open("c");
    const p = settled(s.send(define("xc-a"), "1-define"));
    await xend.waitFor((q) => q.fault === "hold");
    const report = b.interrupt("interrupted");
    expect(b.definesUnderWay()).toEqual([b.liveName("xc-a")]);
    xend.release();
    expect(await report).toMatchObject({ defined: 1, left: [], notOurs: [] });
    await p;
    expect(ours(xend)).toEqual([]);
    const ops = xend.requests.filter((q) => q.method === "POST").map((q) => q.op);
    expect(ops).toEqual(["new", "delete"]);
    await b.close();
  });
});

describe("live backend: cleans up", () => {
  it("end() deletes what the session defined (destroying it first when started); close() deletes what is left", async () => {
    xend = await startFaultXend({ foreign: FOREIGN });
    const b = await startLiveBackend({ url: xend.url, ...quiet });
    const s1 = await b.open("c1");
    await s1.send(define("xc-one"), "t");
    await s1.send(libvirtPost("/xend/domain/xc-one", "op=start"), "t");
    expect(xend.domainOf("xc-one")!.state).toBe("running");
    await s1.end();
    expect(xend.domainOf("xc-one")).toBeUndefined();
    const s2 = await b.open("c2");
    await s2.send(define("xc-two"), "t");
    expect(b.leftovers()).toEqual([b.liveName("xc-two")]);
    await b.close();
    expect([...xend.domains.keys()].sort()).toEqual([...FOREIGN_NAMES].sort());
    expect(mutationsOn(xend, FOREIGN_NAMES)).toEqual([]);
  });

  it("an aborted signal stops new defines and deletes what was defined", async () => {
    xend = await startFaultXend();
    const ac = new AbortController();
    const b = await startLiveBackend({ url: xend.url, ...quiet, signal: ac.signal });
    const s = await b.open("c");
    await s.send(define("xc-a"), "t");
    const gone = xend.waitFor((r) => r.op === "delete" && r.logical === "xc-a");
    ac.abort();
    await gone;
    await refusedBeforeWire(xend, s.send(define("xc-b"), "t"), /refuses to define 'xc-b': the run was aborted/);
    await b.close();
    expect(ours(xend)).toEqual([]);
  });

  it("warns once about TCP (unauthenticated), never for a unix socket", async () => {
    resetTcpWarning();
    xend = await startFaultXend();
    const lines: string[] = [];
    const b1 = await startLiveBackend({ url: xend.url, handleSignals: false, log: (l) => lines.push(l) });
    const b2 = await startLiveBackend({ url: xend.url, handleSignals: false, log: (l) => lines.push(l) });
    expect(lines.filter((l) => l.includes("over TCP"))).toHaveLength(1);
    expect(lines[0]).toMatch(/no authentication/);
    await b1.close();
    await b2.close();
  });

  it("run --backend live leaves foreign domains untouched and deletes its own, also for failed cells", async () => {
    xend = await startFaultXend({ foreign: FOREIGN });
    const before = snapshot(xend);
    xend.addFault({ method: "GET", domain: "xc-hvm-utc-start-v0911", pathIncludes: "detail", skip: 2, times: 1, fault: "garbage" });
    const r = await runCli(["run", "--backend", "live", "--url", xend.url, "--xend", "4.1.2", "--libvirt", "0.9.11", "--reporter", "json"], { cwd: ROOT });
    const cells = cellsById(r.stdout);
    // A foreign domain with the runner's name is no obstacle any more: the run has its own names.
    expect(cells.get("4.1.2/0.9.11/pv-utc")!.verdict).toBe("preserved");
    expect(cells.get("4.1.2/0.9.11/hvm-utc-start")!.verdict).toBe("error");
    // Guest steps cannot be done on a real host: skipped with the reason, never started.
    expect(cells.get("4.1.2/0.9.11/hvm-guest-sets-rtc")).toMatchObject({ verdict: "skipped", reason: "the live backend cannot imitate the guest (guest-set-rtc, guest-poweroff)" });
    expect(xend.requests.filter((q) => q.logical === "xc-hvm-guest-sets-rtc-v0911")).toEqual([]);
    // Only scenarios with a start step were started.
    expect(new Set(xend.requests.filter((q) => q.op === "start").map((q) => q.logical))).toEqual(new Set(["xc-hvm-utc-start-v0911", "xc-pv-utc-start-v0911"]));
    expect(snapshot(xend)).toEqual(before);
    expect(ours(xend)).toEqual([]);
    expect(mutationsOn(xend, FOREIGN_NAMES)).toEqual([]);
    expect(r.stderr).toMatch(/live backend: cleanup done: the \d+ domain\(s\) this run \(\w+\) defined on xend at 127\.0\.0\.1:\d+ are deleted/);
  });
});

describe("live backend: recordings keep the runner's names", () => {
  it("record --backend live writes the runner's names (never the run's), and the recording replays to the same verdict", async () => {
    xend = await startFaultXend();
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "xc-live-rec-"));
    try {
      const args = ["--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-utc"];
      const rec = await runCli(["record", "--backend", "live", "--url", xend.url, ...args, "--out", out], { cwd: ROOT, env: { XEND_COMPAT_LIVE_RUN_ID: "rec123" } });
      expect(rec.code, rec.stderr).toBe(0);
      // On the wire: the run's name.
      expect(xend.requests.filter((q) => q.op === "new").map((q) => q.domain)).toEqual(["xc-rec123-4.1.2-pv-utc-v0911"]);
      const file = path.join(out, "4.1.2", "0.9.11", "pv-utc.yaml");
      const text = fs.readFileSync(file, "utf8");
      expect(text).not.toContain("rec123");
      expect(text).toContain("xc-pv-utc-v0911");
      const replay = await runCli(["run", "--backend", "recorded", "--recordings", out, ...args, "--reporter", "json"], { cwd: ROOT });
      expect(cellsById(replay.stdout).get("4.1.2/0.9.11/pv-utc")!.verdict).toBe("preserved");
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

/** The CLI as a child process (run --backend live, the pv-* cells of 4.1.2 × 0.9.11). */
function cli(url: string, extra: string[] = [], env: Record<string, string> = {}) {
  return execa(process.execPath, ["--import", "tsx", path.join(ROOT, "harness/cli-dev.ts"), "run", "--backend", "live", "--url", url, "--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-*", ...extra], {
    cwd: ROOT,
    reject: false,
    // A run id from the caller's environment must not make the two processes of a test share names.
    env: { NO_COLOR: "1", CI: "", XEND_COMPAT_LIVE_RUN_ID: "", ...env },
  });
}

/** Resolves when the child's standard error has shown `text`. */
function stderrShows(child: ResultPromise, text: string): Promise<void> {
  return new Promise((resolve) => {
    let seen = "";
    child.stderr!.on("data", (d: Buffer) => {
      seen += String(d);
      if (seen.includes(text)) resolve();
    });
  });
}

describe("live backend: interrupted runs (CLI as a child process)", () => {
  for (const sig of ["SIGINT", "SIGHUP"] as const) {
    it(`${sig} part-way: the defined domain is deleted, foreign ones untouched, the message says so, ends by ${sig}`, async () => {
      xend = await startFaultXend({ foreign: FOREIGN });
      const before = snapshot(xend);
      // The read-back of the 2nd pv cell hangs: the run is part-way with that domain defined.
      xend.addFault({ method: "GET", domain: "xc-pv-localtime-v0911", pathIncludes: "detail", skip: 1, times: 1, fault: "hang" });
      const child = cli(xend.url);
      await xend.waitFor((r) => r.logical === "xc-pv-localtime-v0911" && r.fault === "hang");
      expect(xend.domainOf("xc-pv-localtime-v0911")).toBeDefined();
      child.kill(sig);
      const r = await child;
      // The process's one signal policy (harness/signals.ts): after the cleanup it ends by the signal itself.
      expect(r.signal).toBe(sig);
      expect(r.stderr).toContain(`${sig}: stopping; no more defines; deleting the 1 domain(s) this run defined`);
      expect(r.stderr).toContain("cleanup done: every domain this run defined is deleted (each name re-read: gone)");
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(xend.domainOf("xc-pv-localtime-v0911")).toBeUndefined();
      expect(snapshot(xend)).toEqual(before);
      expect(mutationsOn(xend, FOREIGN_NAMES)).toEqual([]);
      // Nothing was defined after the signal.
      expect(xend.requests.filter((q) => q.op === "new").map((q) => q.logical)).toEqual(["xc-pv-utc-v0911", "xc-pv-localtime-v0911"]);
    });
  }

  it("SIGTERM while a define is under way: no more defines, the define's answer is awaited, its domain deleted, then 'cleanup done'", async () => {
    xend = await startFaultXend({ foreign: FOREIGN });
    xend.addFault({ method: "POST", op: "new", domain: "xc-pv-localtime-v0911", fault: "hold" });
    const child = cli(xend.url);
    await xend.waitFor((r) => r.fault === "hold");
    const stopping = stderrShows(child, "SIGTERM: stopping");
    child.kill("SIGTERM");
    await stopping;
    // xend answers the define only now: the cleanup must wait for it, not declare victory before.
    xend.release();
    const r = await child;
    expect(r.signal).toBe("SIGTERM");
    expect(r.stderr).toMatch(/first waiting for the answer to 1 define\(s\) under way: xc-\w+-4\.1\.2-pv-localtime-v0911/);
    expect(r.stderr).toContain("cleanup done: every domain this run defined is deleted");
    expect(ours(xend)).toEqual([]);
    expect(xend.requests.filter((q) => q.op === "new").map((q) => q.logical)).toEqual(["xc-pv-utc-v0911", "xc-pv-localtime-v0911"]);
    expect(mutationsOn(xend, FOREIGN_NAMES)).toEqual([]);
  });

  it("a third signal while a define is under way ends at once and names that domain as possibly left", async () => {
    xend = await startFaultXend();
    xend.addFault({ method: "POST", op: "new", domain: "xc-pv-localtime-v0911", fault: "hold" });
    const child = cli(xend.url);
    await xend.waitFor((r) => r.fault === "hold");
    const stopping = stderrShows(child, "SIGINT: stopping");
    child.kill("SIGINT");
    await stopping;
    const again = stderrShows(child, "SIGINT again");
    child.kill("SIGINT");
    await again;
    child.kill("SIGINT");
    const r = await child;
    expect(r.signal).toBe("SIGINT");
    expect(r.stderr).toMatch(/SIGINT a third time: exiting now; may be left: xc-\w+-4\.1\.2-pv-localtime-v0911 on xend at 127\.0\.0\.1:\d+/);
    expect(r.stderr).not.toContain("cleanup done");
  });

  it("a second SIGINT hurries the cleanup (short deadlines, also for requests under way) and names what it left", async () => {
    xend = await startFaultXend({ foreign: FOREIGN });
    xend.addFault({ method: "GET", domain: "xc-pv-localtime-v0911", pathIncludes: "detail", skip: 1, times: 1, fault: "hang" });
    // The cleanup's delete hangs: only the hurried deadline ends it (the run's own deadline is 10 minutes).
    xend.addFault({ method: "POST", op: "delete", domain: "xc-pv-localtime-v0911", fault: "hang" });
    const child = cli(xend.url, ["--timeout-ms", "600000"]);
    await xend.waitFor((r) => r.logical === "xc-pv-localtime-v0911" && r.fault === "hang" && r.method === "GET");
    const deleting = xend.waitFor((r) => r.op === "delete" && r.logical === "xc-pv-localtime-v0911");
    child.kill("SIGINT");
    await deleting;
    child.kill("SIGINT");
    const r = await child;
    expect(r.signal).toBe("SIGINT");
    expect(r.stderr).toContain("SIGINT again: hurrying the cleanup");
    expect(r.stderr).toMatch(/cleanup incomplete: may be left: xc-\w+-4\.1\.2-pv-localtime-v0911 \(still on xend after the cleanup \(op=delete failed: .*cut short 2000 ms after the second interrupt.*\)\) on xend at 127\.0\.0\.1:\d+; check and remove them by hand/);
    // It is still there (the delete never completed), and nothing foreign was touched.
    expect(xend.domainOf("xc-pv-localtime-v0911")).toBeDefined();
    expect(mutationsOn(xend, FOREIGN_NAMES)).toEqual([]);
  });
});

describe("live backend: two harness processes at once against one xend", () => {
  /** The verdicts of one run alone (the reference). */
  async function alone(x: FaultXend) {
    const r = await runCli(["run", "--backend", "live", "--url", x.url, "--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-*", "--reporter", "json"], { cwd: ROOT });
    expect(ours(x)).toEqual([]);
    return new Map([...cellsById(r.stdout)].map(([id, c]) => [id, c.verdict]));
  }

  /** No delete through one address of a domain created through the other, none of a foreign one. */
  function noCrossDeletes(x: FaultXend) {
    const deletes = x.requests.filter((q) => q.deleted);
    expect(deletes.length).toBeGreaterThan(0);
    for (const q of deletes) {
      expect(q.deleted!.foreign, q.path).toBe(false);
      expect(q.deleted!.createdVia, q.path).toBe(q.via);
    }
  }

  /**
   * Process A (through `url`) is held in the read-back of its pv-utc domain, so that domain exists while
   * process B (through a second address of the same stand-in) does the same cell; A goes on once B has
   * moved on to its next cell. Returns both results.
   */
  async function overlapped(x: FaultXend, env: Record<string, string> = {}) {
    x.addFault({ method: "GET", domain: "xc-pv-utc-v0911", pathIncludes: "detail", skip: 1, times: 1, via: 0, fault: "hold" });
    const second = await x.addListener();
    const a = cli(x.url, ["--reporter", "json"], env);
    await x.waitFor((q) => q.fault === "hold");
    const b = cli(second, ["--reporter", "json"], env);
    await x.waitFor((q) => q.via === 1 && q.logical === "xc-pv-localtime-v0911");
    x.release();
    return Promise.all([a, b]);
  }

  const verdictsOf = (stdout: string) => new Map([...cellsById(stdout)].map(([id, c]) => [id, c.verdict]));

  it("each with its own run id, on the same cell at the same time: both get the verdicts of a run alone; no foreign or cross delete; nothing left", async () => {
    xend = await startFaultXend({ foreign: FOREIGN });
    const before = snapshot(xend);
    const reference = await alone(xend);
    const [a, b] = await overlapped(xend);
    for (const r of [a, b]) {
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(verdictsOf(r.stdout)).toEqual(reference);
      expect(r.stderr).toMatch(/cleanup done/);
    }
    // Both defined pv-utc, each under its own name, while the other's existed.
    const pvUtc = xend.requests.filter((q) => q.op === "new" && q.logical === "xc-pv-utc-v0911" && q.domain !== "xc-pv-utc-v0911");
    const byVia = new Map(pvUtc.map((q) => [q.via, q.domain]));
    expect(byVia.size).toBe(2);
    expect(byVia.get(0)).not.toBe(byVia.get(1));
    noCrossDeletes(xend);
    expect(snapshot(xend)).toEqual(before);
    expect(mutationsOn(xend, FOREIGN_NAMES)).toEqual([]);
    expect(ours(xend)).toEqual([]);
  });

  it("even forced to the same run id (names collide): the collided cell is an error naming the collision, every other verdict true; no cross delete", async () => {
    xend = await startFaultXend({ foreign: FOREIGN });
    const reference = await alone(xend);
    const start = xend.requests.length;
    const [a, b] = await overlapped(xend, { XEND_COMPAT_LIVE_RUN_ID: "same01" });
    // B met A's held domain under the same name: an error that says so, not a verdict about libvirt or xend.
    const collided = cellsById(b.stdout).get("4.1.2/0.9.11/pv-utc")!;
    expect(collided.verdict).toBe("error");
    expect(collided.reason).toMatch(/domain 'xc-same01-4\.1\.2-pv-utc-v0911' already exists on xend .* and was not created by this run/);
    // Every other cell of either process (they may meet again once A goes on) has its true verdict, or is
    // such an error: never a false preserved/changed/rejected.
    for (const r of [a, b])
      for (const [id, c] of cellsById(r.stdout)) {
        if (c.verdict === reference.get(id)) continue;
        expect(c.verdict, `${id}: ${c.reason}`).toBe("error");
        expect(c.reason).toMatch(/already exists on xend .* not created by this run|the name was taken between the free-name check and the define|not this run's|holds uuid/);
      }
    // Every define of both processes used the forced run id.
    const defines = xend.requests.slice(start).filter((q) => q.op === "new");
    expect(new Set(defines.map((q) => q.via))).toEqual(new Set([0, 1]));
    for (const q of defines) expect(q.domain).toMatch(/^xc-same01-4\.1\.2-/);
    noCrossDeletes(xend);
    expect(mutationsOn(xend, FOREIGN_NAMES)).toEqual([]);
    expect(ours(xend)).toEqual([]);
    expect(logicalName("xc-same01-4.1.2-pv-utc-v0911")).toBe("xc-pv-utc-v0911");
  });
});
