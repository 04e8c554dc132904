/**
 * Replay says what the wire would say. libvirt reads at most 256 KiB of a xend reply
 * (XEND_RCV_BUF_MAX_LEN; harness/xend/transport.ts fails a longer one on the wire), so a recorded
 * reply over the cap fails in replay too, in the same words. A recording whose own GET /xend/node/
 * answer names another Xen version than its provenance claims is refused when it is loaded, naming
 * the file and line, instead of replaying one xend's behaviour under another's name.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { execute } from "../harness/run/index.js";
import { clearRecordingCache, loadRecording, parseRecording, recordingPath, serializeRecording, writeRecording, XEND_MAX_REPLY_BYTES, type Recording } from "../harness/xend/index.js";
import { isHarnessError } from "../harness/errors.js";
import { ROOT } from "./support/project-copy.js";

const SHIPPED = path.join(ROOT, "fixtures", "recordings");
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  clearRecordingCache();
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "xc-replay-honesty-"));
  dirs.push(d);
  return d;
}

async function replay(dir: string, xend: string, libvirt: string, scenario: string) {
  const ex = await execute({ cwd: ROOT, env: {}, golden: null, recordingsDir: dir, xend: [xend], libvirt: [libvirt], scenario });
  expect(ex.results).toHaveLength(1);
  return ex.results[0];
}

describe("libvirt's 256 KiB reply cap holds in replay as on the wire", () => {
  it("a recorded read-back over the cap is the cell's error with libvirt's words, not preserved", async () => {
    const cell = "4.1.2/0.9.11/pv-utc";
    const rec = await loadRecording(recordingPath(SHIPPED, cell));
    const dir = tmp();
    // Unchanged, the copy replays as preserved (so the check below can fail).
    writeRecording(dir, rec);
    expect((await replay(dir, "4.1.2", "0.9.11", "pv-utc")).verdict).toBe("preserved");

    // The read-back padded with white space past the cap: the same SXPR to any reader, too long for libvirt.
    const i = rec.exchanges.findIndex((x) => x.channel === "xend" && x.request.path.includes("?detail=1") && x.step.includes("read"));
    expect(i).toBeGreaterThan(0);
    const x = rec.exchanges[i];
    if (x.channel !== "xend") throw new Error("not an HTTP exchange");
    const body = x.response.body + " ".repeat(XEND_MAX_REPLY_BYTES);
    const n = Buffer.byteLength(body, "utf8");
    x.response = { ...x.response, body, headers: x.response.headers.map(([k, v]) => [k, k.toLowerCase() === "content-length" ? String(n) : v] as [string, string]) };
    clearRecordingCache();
    writeRecording(dir, rec);
    const r = await replay(dir, "4.1.2", "0.9.11", "pv-utc");
    expect(r.verdict).toBe("error");
    expect(r.reason).toContain(`backend.protocol: Xend returned HTTP Content-Length of ${n}, which exceeds maximum of 262144`);
  });
});

describe("a recording's provenance is checked against what its xend said", () => {
  /** The 3.2 recording of a cell, relabelled as one of xend 4.1.2. */
  async function relabelled(): Promise<{ dir: string; rec: Recording }> {
    const rec = await loadRecording(recordingPath(SHIPPED, "3.2/0.9.11/pv-utc"));
    rec.cell = "4.1.2/0.9.11/pv-utc";
    rec.provenance = { ...rec.provenance, xendVersion: "4.1.2" };
    const dir = tmp();
    const file = recordingPath(dir, rec.cell);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, serializeRecording(rec));
    return { dir, rec };
  }

  it("loading refuses it, naming the file, the line of the node answer and both versions", async () => {
    const { dir } = await relabelled();
    const file = recordingPath(dir, "4.1.2/0.9.11/pv-utc");
    const text = fs.readFileSync(file, "utf8");
    const line = text.split("\n").findIndex((l) => l.includes("(xen_major 3) (xen_minor 2)")) + 1;
    expect(line).toBeGreaterThan(0);
    const e = await loadRecording(file).then(
      () => null,
      (x: unknown) => x,
    );
    expect(isHarnessError(e, "input.recording")).toBe(true);
    const err = e as import("../harness/errors.js").HarnessError;
    expect(err.pos).toMatchObject({ file, line });
    expect(err.message).toMatch(/says Xen 3\.2\.sandbox .*but its provenance says xendVersion 4\.1\.2/);
  });

  it("a run replaying that cell stops with that one error (bad input, exit 2), never a verdict about libvirt", async () => {
    const { dir } = await relabelled();
    await expect(replay(dir, "4.1.2", "0.9.11", "pv-utc")).rejects.toMatchObject({
      code: "input.recording",
      message: expect.stringMatching(/the recording's own GET \/xend\/node\/ answer says Xen 3\.2/),
    });
    const { runCli } = await import("./support/cli.js");
    const r = await runCli(["run", "--recordings", dir, "--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-utc"], { cwd: ROOT });
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^xend-compat run: .*pv-utc\.yaml:\d+:\d+: bad recording: the recording's own GET \/xend\/node\/ answer says Xen 3\.2/);
  });

  it("a xend_config_format other than 4 under a 3.1+ provenance is refused too", async () => {
    const rec = await loadRecording(recordingPath(SHIPPED, "4.1.2/0.9.11/pv-utc"));
    const text = serializeRecording(rec).replace("(xend_config_format 4)", "(xend_config_format 2)");
    await expect(parseRecording(text, "x.yaml")).rejects.toMatchObject({ code: "input.recording", message: expect.stringContaining("xend_config_format 2") });
  });

  it("every shipped recording agrees with its own node answer", async () => {
    const { listRecordings } = await import("../harness/xend/index.js");
    const all = listRecordings(SHIPPED);
    expect(all.length).toBeGreaterThan(200);
    for (const { file } of all) await loadRecording(file);
  });
});
