/**
 * Secrets (`vncpasswd`, `passwd`, `password` anywhere in SXPR or XML, also form-encoded) never reach
 * a recording, a golden, a report (every reporter, stdout or --out), `explain`, or a log line. The
 * domain under test carries `passwd='s3cretPW'`; the stand-in xend echoes it back in its replies.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { execute, backendFactory } from "../harness/run/index.js";
import { redactDeep, REDACTED, loadRecording, recordingPath } from "../harness/xend/index.js";
import { startFaultXend, type FaultXend } from "./support/fault-xend.js";
import { runCli } from "./support/cli.js";
import { listFiles, ROOT } from "./support/project-copy.js";

const SECRET = "s3cretPW";
const MATRIX = "test/support/fixtures/secret.yaml";
const CELL = "4.1.2/0.9.11/hvm-vnc-secret";

let xend: FaultXend | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await xend?.close();
  xend = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "xc-redact-"));
  dirs.push(d);
  return d;
}
function allText(dir: string): string {
  return listFiles(dir)
    .map((f) => fs.readFileSync(path.join(dir, f), "utf8"))
    .join("\n");
}

describe("secrets are redacted on every path out", () => {
  it("the stand-in really saw the secret (so the checks below can fail)", async () => {
    xend = await startFaultXend();
    const r = await runCli(["run", "--matrix", MATRIX, "--backend", "live", "--url", xend.url, "--reporter", "json"], { cwd: ROOT });
    expect(r.code, r.stderr).toBeLessThan(2);
    const defined = xend.requests.find((q) => q.op === "new");
    expect(defined?.logical).toBe("xc-hvm-vnc-secret-v0911");
    // xend echoes it in GET detail: reproduce that reply and find the secret in it.
    xend.domains.clear();
    const again = await runCli(["run", "--matrix", MATRIX, "--backend", "live", "--url", xend.url, "--reporter", "json"], { cwd: ROOT });
    const cell = JSON.parse(again.stdout).cells[0];
    expect(JSON.stringify(cell)).not.toContain(SECRET);
    expect(JSON.stringify(cell)).toContain(REDACTED);
  });

  it("reports: table, json, junit, markdown on stdout and with --out; stderr too", async () => {
    xend = await startFaultXend();
    const out = tmp();
    for (const reporter of ["table", "json", "junit", "markdown"]) {
      const r = await runCli(["run", "--matrix", MATRIX, "--backend", "live", "--url", xend.url, "--reporter", reporter], { cwd: ROOT });
      expect(r.stdout.length).toBeGreaterThan(0);
      expect(r.stdout + r.stderr, reporter).not.toContain(SECRET);
      const f = path.join(out, `report.${reporter}`);
      await runCli(["run", "--matrix", MATRIX, "--backend", "live", "--url", xend.url, "--reporter", reporter, "--out", f], { cwd: ROOT });
      expect(fs.readFileSync(f, "utf8")).not.toContain(SECRET);
    }
    const json = fs.readFileSync(path.join(out, "report.json"), "utf8");
    // The observation kept its shape: the SXPR sent and returned are there, with the value redacted.
    expect(json).toMatch(/vncpasswd '?REDACTED/);
    expect(json).toContain(`passwd='${REDACTED}'`);
  });

  it("goldens", async () => {
    xend = await startFaultXend();
    const goldenDir = tmp();
    const ex = await execute({
      matrix: MATRIX,
      cwd: ROOT,
      env: {},
      golden: { update: true },
      goldenDir,
      backendFor: backendFactory("live", {}, undefined, { url: xend.url, log: () => {} }),
    });
    expect(ex.results[0].golden?.status).toBe("written");
    const text = allText(goldenDir);
    expect(text).toContain("vncpasswd");
    expect(text).not.toContain(SECRET);
  });

  it("recordings (record --backend live into a temp dir; never shipped)", async () => {
    xend = await startFaultXend();
    const out = tmp();
    const r = await runCli(["record", "--backend", "live", "--url", xend.url, "--xend", "4.1.2", "--matrix", MATRIX, "--out", out], { cwd: ROOT });
    expect(r.code, r.stderr).toBe(0);
    const text = allText(out);
    expect(text).toContain("vncpasswd");
    expect(text).not.toContain(SECRET);
    const rec = await loadRecording(recordingPath(out, CELL));
    expect(rec.exchanges.length).toBeGreaterThan(2);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it("log lines and error bodies: a xend error quoting the config; an argument quoting a secret", async () => {
    xend = await startFaultXend();
    xend.addFault({ method: "POST", op: "new", fault: "xend-err", message: `bad config (vncpasswd ${SECRET}) <graphics passwd="${SECRET}"/>` });
    const out = tmp();
    const rec = await runCli(["record", "--backend", "live", "--url", xend.url, "--xend", "4.1.2", "--matrix", MATRIX, "--out", out], { cwd: ROOT });
    expect(rec.stderr + rec.stdout).not.toContain(SECRET);
    const recorded = allText(out);
    expect(recorded).toContain("xend.err");
    expect(recorded).not.toContain(SECRET);
    const run = await runCli(["run", "--matrix", MATRIX, "--backend", "live", "--url", xend.url], { cwd: ROOT });
    expect(run.stdout).toContain("xend refuses");
    expect(run.stdout + run.stderr).not.toContain(SECRET);
    // An error line of the CLI (stderr) that would quote the secret.
    const bad = await runCli(["run", "--matrix", MATRIX, "--xend", `(vncpasswd ${SECRET})`], { cwd: ROOT });
    expect(bad.code).toBe(2);
    expect(bad.err).toEqual([`xend-compat run: --xend '(vncpasswd ${REDACTED})' is not a xend version (e.g. 4.1.2)`]);
  });

  it("explain: the story is rendered from the redacted result (the unredacted one would show the secret)", async () => {
    xend = await startFaultXend();
    const { renderExplain } = await import("../harness/report/index.js");
    const ex = await execute({ matrix: MATRIX, cwd: ROOT, env: {}, golden: null, backendFor: backendFactory("live", {}, undefined, { url: xend.url, log: () => {} }) });
    const info = { description: "d", domainFile: "f", steps: ["define", "read"] };
    expect(renderExplain(ex.results[0], info)).toContain(SECRET);
    const shown = renderExplain(redactDeep(ex.results[0]), info);
    expect(shown).not.toContain(SECRET);
    expect(shown).toContain("vncpasswd");
    expect(fs.readFileSync(path.join(ROOT, "harness/cli/explain.ts"), "utf8")).toContain("renderExplain(redactDeep(r)");
  });

  it("redactDeep: SXPR, XML attributes and elements, form-encoded bodies and secret-named keys", () => {
    const v = redactDeep({
      sxpr: "(vm (image (hvm (vncpasswd 'x1'))) (device (vfb (passwd \"x2\"))))",
      xml: "<graphics passwd='x3'/><password>x4</password>",
      form: "op=new&config=%28vm%20%28vncpasswd%20x5%29%29",
      nested: [{ password: "x6" }, { other: "(password x7)" }],
      n: 3,
    });
    expect(JSON.stringify(v)).not.toMatch(/x[1-7]/);
    expect(v.n).toBe(3);
    expect(v.form.startsWith("op=new&config=")).toBe(true);
  });
});
