/**
 * The live backend's safety rules, against test/support/fault-xend.ts holding foreign domains: it
 * never sends a mutating request for a domain it did not create (refused before the wire), defines
 * only prefixed names that are free, with a fresh uuid, cleans up on end/close/failure/abort and on
 * SIGINT (CLI as a child process, one and two interrupts), and warns once about TCP.
 */
import * as path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { startLiveBackend, resetTcpWarning, classify, replaceUuid } from "../harness/live/index.js";
import { isHarnessError } from "../harness/errors.js";
import { libvirtGet, libvirtPost, type HttpRequest } from "../harness/xend/index.js";
import { encodeForm } from "../harness/libvirt/index.js";
import { startFaultXend, type FaultXend, type StandInDomain } from "./support/fault-xend.js";
import { cellsById, runCli } from "./support/cli.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const FOREIGN = [{ name: "prod-db" }, { name: "web-1", uuid: "11111111-2222-3333-4444-555555555555" }, { name: "xc-pv-utc-v0911" }];

let xend: FaultXend | undefined;
afterEach(async () => {
  await xend?.close();
  xend = undefined;
});

function snapshot(x: FaultXend): Record<string, StandInDomain> {
  return Object.fromEntries([...x.domains.values()].filter((d) => d.foreign).map((d) => [d.name, { ...d }]));
}

/** No request that changes anything ever named a foreign domain. */
function mutationsOn(x: FaultXend, names: string[]) {
  return x.requests.filter((r) => r.method !== "GET" && r.domain !== undefined && names.includes(r.domain));
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

describe("live backend: refuses what it did not create", () => {
  it("op=delete/destroy/start/shutdown on a foreign domain, DELETE, PUT and other POSTs are refused before the wire", async () => {
    xend = await startFaultXend({ foreign: FOREIGN });
    const before = snapshot(xend);
    const b = await startLiveBackend({ url: xend.url, xendVersion: "4.1.2", handleSignals: false, log: () => {} });
    const s = await b.open("4.1.2/0.9.11/x");
    for (const op of ["delete", "destroy", "start", "shutdown", "pause"])
      await refusedBeforeWire(xend, s.send(libvirtPost("/xend/domain/prod-db", `op=${op}`), "t"), new RegExp(`refuses op=${op} on domain 'prod-db': it was not created by this run`));
    await refusedBeforeWire(xend, s.send(libvirtPost("/xend/domain/xc-pv-utc-v0911", "op=delete"), "t"), /not created by this run/);
    await refusedBeforeWire(xend, s.send({ method: "DELETE", path: "/xend/domain/web-1", headers: [] }, "t"), /refuses DELETE \/xend\/domain\/web-1/);
    await refusedBeforeWire(xend, s.send({ method: "PUT", path: "/xend/domain/web-1", headers: [], body: "x" }, "t"), /refuses PUT/);
    await refusedBeforeWire(xend, s.send(libvirtPost("/xend/node/", "op=shutdown"), "t"), /refuses POST \/xend\/node\/ op=shutdown/);
    await refusedBeforeWire(xend, s.send(libvirtPost("/xend/domain/", "op=restore&file=/tmp/x"), "t"), /refuses POST \/xend\/domain\/ op=restore/);
    // Reads are fine.
    expect((await s.send(libvirtGet("/xend/domain/prod-db?detail=1"), "t")).status).toBe(200);
    await s.end();
    await b.close();
    expect(snapshot(xend)).toEqual(before);
    expect(mutationsOn(xend, FOREIGN.map((f) => f.name))).toEqual([]);
  });

  it("defines only names with the prefix, only when the name is free; a foreign xc- domain is never defined over", async () => {
    xend = await startFaultXend({ foreign: FOREIGN });
    const b = await startLiveBackend({ url: xend.url, handleSignals: false, log: () => {} });
    const s = await b.open("c");
    await refusedBeforeWire(xend, s.send(define("prod-db2"), "t"), /only defines domains whose names start with 'xc-' \(got 'prod-db2'\)/);
    const n = xend.requests.length;
    await expect(s.send(define("xc-pv-utc-v0911"), "t")).rejects.toThrow(/domain 'xc-pv-utc-v0911' already exists on xend at 127\.0\.0\.1:\d+ \(GET detail answers 200\) and was not created by this run/);
    // Only the free-name check went out.
    expect(xend.requests.slice(n).map((r) => r.method)).toEqual(["GET"]);
    // A custom prefix.
    const b2 = await startLiveBackend({ url: xend.url, prefix: "ci-", handleSignals: false, log: () => {} });
    await refusedBeforeWire(xend, (await b2.open("c")).send(define("xc-a"), "t"), /start with 'ci-'/);
    await b.close();
    await b2.close();
    expect(mutationsOn(xend, FOREIGN.map((f) => f.name))).toEqual([]);
  });

  it("a name is free on 404 and on xend 3.2's empty 500; any other answer refuses", async () => {
    xend = await startFaultXend({ version: "3.2.0", unknownDomain: "empty-500" });
    const b = await startLiveBackend({ url: xend.url, xendVersion: "3.2", handleSignals: false, log: () => {} });
    const s = await b.open("c");
    expect((await s.send(define("xc-a"), "t")).status).toBe(200);
    xend.addFault({ method: "GET", domain: "xc-b", fault: "xend-err", message: "boom" });
    await expect(s.send(define("xc-b"), "t")).rejects.toThrow(/GET detail answers 500: \(xend\.err 'boom'\)/);
    await s.end();
    expect([...xend.domains.keys()]).toEqual([]);
    await b.close();
  });

  it("gives each define a fresh uuid, keeping every other byte (both wire encodings)", async () => {
    xend = await startFaultXend();
    let k = 0;
    const fresh = ["12345678-9abc-4def-8123-456789abcdef", "fedcba98-7654-4321-8fed-cba987654321"];
    const b = await startLiveBackend({ url: xend.url, handleSignals: false, log: () => {}, newUuid: () => fresh[k++] });
    const s = await b.open("c");
    await s.send(define("xc-u1"), "t");
    await s.send(define("xc-u2", undefined, "raw"), "t");
    expect(xend.domains.get("xc-u1")!.uuid).toBe(fresh[0]);
    expect(xend.domains.get("xc-u2")!.uuid).toBe(fresh[1]);
    const body = define("xc-u1").body!;
    expect(replaceUuid(body, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", fresh[0])).toBe(body.replace("aaaaaaaa%2dbbbb%2d4ccc%2d8ddd%2deeeeeeeeeeee", "12345678%2d9abc%2d4def%2d8123%2d456789abcdef"));
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

describe("live backend: cleans up", () => {
  it("end() deletes what the session defined (destroying it first when started); close() deletes what is left", async () => {
    xend = await startFaultXend({ foreign: FOREIGN });
    const b = await startLiveBackend({ url: xend.url, handleSignals: false, log: () => {} });
    const s1 = await b.open("c1");
    await s1.send(define("xc-one"), "t");
    await s1.send(libvirtPost("/xend/domain/xc-one", "op=start"), "t");
    expect(xend.domains.get("xc-one")!.state).toBe("running");
    await s1.end();
    expect(xend.domains.has("xc-one")).toBe(false);
    const s2 = await b.open("c2");
    await s2.send(define("xc-two"), "t");
    expect(b.leftovers()).toEqual(["xc-two"]);
    await b.close();
    expect([...xend.domains.keys()].sort()).toEqual(FOREIGN.map((f) => f.name).sort());
    expect(mutationsOn(xend, FOREIGN.map((f) => f.name))).toEqual([]);
  });

  it("an aborted signal stops new defines and deletes what was defined", async () => {
    xend = await startFaultXend();
    const ac = new AbortController();
    const b = await startLiveBackend({ url: xend.url, handleSignals: false, log: () => {}, signal: ac.signal });
    const s = await b.open("c");
    await s.send(define("xc-a"), "t");
    const gone = xend.waitFor((r) => r.op === "delete" && r.domain === "xc-a");
    ac.abort();
    await gone;
    await refusedBeforeWire(xend, s.send(define("xc-b"), "t"), /refuses to define 'xc-b': the run was aborted/);
    await b.close();
    expect([...xend.domains.keys()]).toEqual([]);
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
    xend.addFault({ method: "GET", domain: "xc-hvm-utc-start-v0911", pathIncludes: "detail", skip: 1, fault: "garbage" });
    const r = await runCli(["run", "--backend", "live", "--url", xend.url, "--xend", "4.1.2", "--libvirt", "0.9.11", "--reporter", "json"], { cwd: ROOT });
    const cells = cellsById(r.stdout);
    expect(cells.get("4.1.2/0.9.11/pv-utc")!.reason).toMatch(/already exists on xend .* not created by this run/);
    expect(cells.get("4.1.2/0.9.11/hvm-utc-start")!.verdict).toBe("error");
    // Guest steps cannot be done on a real host: skipped with the reason, never started.
    expect(cells.get("4.1.2/0.9.11/hvm-guest-sets-rtc")).toMatchObject({ verdict: "skipped", reason: "the live backend cannot imitate the guest (guest-set-rtc, guest-poweroff)" });
    expect(xend.requests.filter((q) => q.domain === "xc-hvm-guest-sets-rtc-v0911")).toEqual([]);
    // Only scenarios with a start step were started.
    expect(new Set(xend.requests.filter((q) => q.op === "start").map((q) => q.domain))).toEqual(new Set(["xc-hvm-utc-start-v0911", "xc-pv-utc-start-v0911"]));
    expect(snapshot(xend)).toEqual(before);
    expect([...xend.domains.keys()].sort()).toEqual(FOREIGN.map((f) => f.name).sort());
    expect(mutationsOn(xend, FOREIGN.map((f) => f.name))).toEqual([]);
  });
});

describe("live backend: interrupted runs (CLI as a child process)", () => {
  const cli = (url: string, extra: string[] = []) =>
    execa(process.execPath, ["--import", "tsx", path.join(ROOT, "harness/cli-dev.ts"), "run", "--backend", "live", "--url", url, "--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-*", ...extra], {
      cwd: ROOT,
      reject: false,
      env: { NO_COLOR: "1", CI: "" },
    });

  it("SIGINT part-way: the defined domain is deleted, foreign ones untouched, the message says so, ends by SIGINT (130 in a shell)", async () => {
    xend = await startFaultXend({ foreign: FOREIGN });
    const before = snapshot(xend);
    // The read-back of the 2nd pv cell hangs: the run is part-way with that domain defined.
    xend.addFault({ method: "GET", domain: "xc-pv-localtime-v0911", pathIncludes: "detail", skip: 1, fault: "hang" });
    const child = cli(xend.url);
    await xend.waitFor((r) => r.domain === "xc-pv-localtime-v0911" && r.fault === "hang");
    expect(xend.domains.has("xc-pv-localtime-v0911")).toBe(true);
    child.kill("SIGINT");
    const r = await child;
    // The process's one signal policy (harness/signals.ts): after the cleanup it ends by the signal itself.
    expect(r.signal).toBe("SIGINT");
    expect(r.stderr).toContain("SIGINT: stopping; deleting the 1 domain(s) this run defined");
    expect(r.stderr).toContain("cleanup done: every domain this run defined is deleted");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(xend.domains.has("xc-pv-localtime-v0911")).toBe(false);
    expect(snapshot(xend)).toEqual(before);
    expect(mutationsOn(xend, FOREIGN.map((f) => f.name))).toEqual([]);
    // Nothing was defined after the interrupt.
    expect(xend.requests.filter((q) => q.op === "new").map((q) => q.domain)).toEqual(["xc-pv-localtime-v0911"]);
  });

  it("a second SIGINT hurries the cleanup (short deadlines, also for requests under way) and names what it left", async () => {
    xend = await startFaultXend({ foreign: FOREIGN });
    xend.addFault({ method: "GET", domain: "xc-pv-localtime-v0911", pathIncludes: "detail", skip: 1, times: 1, fault: "hang" });
    // The cleanup's delete hangs: only the hurried deadline ends it (the run's own deadline is 10 minutes).
    xend.addFault({ method: "POST", op: "delete", domain: "xc-pv-localtime-v0911", fault: "hang" });
    const child = cli(xend.url, ["--timeout-ms", "600000"]);
    await xend.waitFor((r) => r.domain === "xc-pv-localtime-v0911" && r.fault === "hang" && r.method === "GET");
    const deleting = xend.waitFor((r) => r.op === "delete" && r.domain === "xc-pv-localtime-v0911");
    child.kill("SIGINT");
    await deleting;
    child.kill("SIGINT");
    const r = await child;
    // The process's one signal policy (harness/signals.ts): after the cleanup it ends by the signal itself.
    expect(r.signal).toBe("SIGINT");
    expect(r.stderr).toContain("SIGINT again: hurrying the cleanup");
    expect(r.stderr).toMatch(/cleanup incomplete: left xc-pv-localtime-v0911 on xend at 127\.0\.0\.1:\d+; remove them by hand/);
    // It is still there (the delete never completed), and nothing foreign was touched.
    expect(xend.domains.has("xc-pv-localtime-v0911")).toBe(true);
    expect(mutationsOn(xend, FOREIGN.map((f) => f.name))).toEqual([]);
  });
});
