import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { command, recordCells } from "../harness/cli/record.js";
import type { CliIO } from "../harness/cli.js";
import { expandCells, loadMatrix, fromRoot, DEFAULT_MATRIX } from "../harness/matrix/index.js";
import { runCells } from "../harness/run/index.js";
import { RecordedBackend, clearRecordingCache, loadRecording, parseForm } from "../harness/xend/index.js";
import { readConfigTree } from "../harness/xend/form.js";
import type { Backend, BackendSession, ControlReply, HttpRequest, HttpResponse } from "../harness/xend/types.js";
import { HarnessError } from "../harness/errors.js";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-record-"));
  clearRecordingCache();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function io(env: NodeJS.ProcessEnv = {}): CliIO & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { out: (s) => void outLines.push(s), err: (s) => void errLines.push(s), isTTY: false, env, cwd: dir, outLines, errLines };
}

/**
 * A scripted stand-in for xend, only to exercise the record plumbing in this test (its answers are
 * never committed as recordings): it keeps the defined config and returns it as `(domain ...)`.
 * Cells whose domain name is in `failFor` get a transport fault at read-back.
 */
function scriptedBackend(failFor: (name: string) => boolean): Backend {
  const configs = new Map<string, string>();
  const reply = (status: number, body = ""): HttpResponse => ({
    status,
    reason: status === 200 ? "OK" : "Error",
    headers: [["Content-Length", String(Buffer.byteLength(body))]],
    body,
  });
  return {
    kind: "sandbox",
    xendVersion: "4.1.2",
    concurrency: 4,
    guestControl: false,
    provenance: () => ({ xendVersion: "4.1.2", tree: "test:scripted", commit: "0000000", tz: "UTC0", notes: ["scripted stand-in for a test"] }),
    async open(): Promise<BackendSession> {
      return {
        async send(req: HttpRequest): Promise<HttpResponse> {
          if (req.method === "GET" && req.path === "/xend/node/") return reply(200, "(node (xend_config_format 4))");
          if (req.method === "POST" && req.path === "/xend/domain/") {
            const config = parseForm(req.body ?? "").get("config")?.[0] ?? "";
            const tree = readConfigTree(config) ?? [];
            const name = ((tree[0] as string[][]).find((x) => x[0] === "name") ?? [])[1] ?? "";
            configs.set(name, config.replace(/^\(vm/, "(domain"));
            return reply(200);
          }
          const m = /^\/xend\/domain\/([^?]+)/.exec(req.path);
          if (m && req.method === "GET") {
            if (failFor(m[1])) throw new HarnessError("backend.connect", "scripted: connection reset");
            const c = configs.get(m[1]);
            return c ? reply(200, c) : reply(404, "<Fault 3: 'x'>");
          }
          if (m && req.method === "POST") {
            configs.delete(m[1]);
            return reply(200);
          }
          return reply(500, "(xend.err 'unexpected')");
        },
        async control(): Promise<ControlReply> {
          throw new HarnessError("backend.unavailable", "no guest control here");
        },
        async end() {},
      };
    },
    async close() {},
  };
}

describe("xend-compat record", () => {
  it("refuses to write under CI with exit 2 and one clear line", async () => {
    const t = io({ CI: "true" });
    expect(await command.run(["--backend", "sandbox", "--xend", "4.1.2", "--xen-src", "/x"], t)).toBe(2);
    expect(t.errLines).toHaveLength(1);
    expect(t.errLines[0]).toMatch(/refusing to write recordings under CI/);
  });

  it("refuses the recorded backend and missing arguments as usage errors", async () => {
    await expect(command.run(["--xend", "4.1.2"], io())).rejects.toMatchObject({ code: "input.usage", message: expect.stringMatching(/--backend is required/) });
    await expect(command.run(["--backend", "recorded", "--xend", "4.1.2"], io())).rejects.toMatchObject({ message: expect.stringMatching(/needs a real xend/) });
    await expect(command.run(["--backend", "sandbox", "--xend", "4.1.2"], io())).rejects.toMatchObject({ message: expect.stringMatching(/needs --xen-src/) });
    await expect(command.run(["--backend", "live", "--xend", "4.1.2"], io())).rejects.toMatchObject({ message: expect.stringMatching(/needs --url/) });
    await expect(command.run(["--backend", "sandbox", "--xend", "four"], io())).rejects.toMatchObject({ code: "input.usage" });
  });

  it("writes one recording per completed cell, nothing for a failed one, and the recordings replay", async () => {
    const matrix = loadMatrix(fromRoot(DEFAULT_MATRIX));
    const cells = expandCells(matrix, { xend: ["4.1.2"], libvirt: ["0.9.10"], scenario: "{pv-utc,hvm-utc}" });
    expect(cells.map((c) => c.id).sort()).toEqual(["4.1.2/0.9.10/hvm-utc", "4.1.2/0.9.10/pv-utc"]);
    const hvm = cells.find((c) => c.id.endsWith("hvm-utc"))!;
    const t = io();
    const r = await recordCells({
      cells,
      backendFor: async () => scriptedBackend((name) => name === hvm.instance.name),
      xend: "4.1.2",
      outDir: dir,
      io: t,
      recordedAt: new Date("2026-11-25T07:00:00Z"),
    });
    expect(r.failed.map((f) => f.id)).toEqual(["4.1.2/0.9.10/hvm-utc"]);
    expect(r.failed[0].why).toMatch(/backend\.connect/);
    expect(r.written).toEqual([path.join(dir, "4.1.2", "0.9.10", "pv-utc.yaml")]);
    expect(fs.existsSync(path.join(dir, "4.1.2", "0.9.10", "hvm-utc.yaml"))).toBe(false);
    expect(t.errLines.join("\n")).toMatch(/FAILED 4\.1\.2\/0\.9\.10\/hvm-utc: .*\(nothing written\)/);

    const rec = await loadRecording(r.written[0]);
    expect(rec.provenance).toMatchObject({ xendVersion: "4.1.2", backend: "sandbox", recordedAt: "2026-11-25T07:00:00Z", harnessVersion: expect.any(String) });
    expect(rec.exchanges.map((x) => x.step)).toEqual(["0-node", "1-define", "2-read", "cleanup-delete"]);

    // Replaying what was recorded gives the same verdict as the recording run.
    const pv = cells.filter((c) => c.id.endsWith("pv-utc"));
    const replayed = await runCells(pv, { backendFor: async (x) => new RecordedBackend({ dir, xendVersion: x }) });
    expect(replayed[0].verdict, replayed[0].reason).not.toBe("error");
    expect(replayed[0].observation.notes.join("\n")).not.toMatch(/unmatched/);
    expect(replayed[0].observation.sxprReturned).toBe(rec.exchanges[2].channel === "xend" ? rec.exchanges[2].response.body : "");
  });
});
