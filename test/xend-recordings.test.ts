import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  listRecordings,
  loadRecording,
  obsoleteRecordings,
  parseRecording,
  recordingPath,
  serializeRecording,
  writeRecording,
  writeFileAtomic,
  type Recording,
} from "../harness/xend/recording.js";
import { redact, redactForm, REDACTED } from "../harness/xend/redact.js";
import { RecordedBackend, clearRecordingCache } from "../harness/xend/recorded.js";
import { RecordingBackend, type CollectedSession } from "../harness/xend/recorder.js";
import { createBackend } from "../harness/xend/backends.js";
import { libvirtGet, libvirtPost } from "../harness/xend/client.js";
import { encodeForm } from "../harness/libvirt/wire.js";
import type { Backend, BackendSession, HttpRequest } from "../harness/xend/types.js";
import { HarnessError } from "../harness/errors.js";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-rec-"));
  clearRecordingCache();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const CELL = "4.1.2/0.8.7+rfc-localtime/hvm-lt";
const CONFIG = "(vm (name xc-hvm-lt) (image (hvm (kernel /usr/lib/xen/boot/hvmloader) (vncpasswd s3cret) (localtime 1))) (localtime 1))";
const DEFINE_BODY = encodeForm("uri", [["op", "new"], ["config", CONFIG]]);

function sample(): Recording {
  return {
    format: 1,
    cell: CELL,
    provenance: {
      xendVersion: "4.1.2",
      tree: "github:xen-project/xen",
      commit: "eba9045a7dc8",
      tz: "ORC-2",
      notes: ["placeholder files: /usr/lib/xen/boot/hvmloader"],
      backend: "sandbox",
      harnessVersion: "0.1.0",
      recordedAt: "2026-11-25T06:00:00Z",
    },
    exchanges: [
      {
        channel: "xend",
        step: "detect config version",
        request: libvirtGet("/xend/node/"),
        response: { status: 200, reason: "OK", headers: [["Content-Type", "application/sxp"], ["Content-Length", "30"]], body: "(node (xend_config_format 4))\n" },
      },
      {
        channel: "xend",
        step: "define",
        request: libvirtPost("/xend/domain/", DEFINE_BODY),
        response: { status: 200, reason: "OK", headers: [["Content-Length", "0"]], body: "" },
      },
      {
        channel: "xend",
        step: "read back",
        request: libvirtGet("/xend/domain/xc-hvm-lt?detail=1"),
        response: {
          status: 200,
          reason: "OK",
          headers: [["Content-Type", "application/sxp"]],
          body: "(domain\n    (name xc-hvm-lt)\n    (image (hvm (vncpasswd 's3cret') (localtime 1) (rtc_timeoffset 0)))\n)\n''",
        },
      },
      { channel: "control", step: "guest sets RTC", control: { kind: "guest-set-rtc", domain: "xc-hvm-lt", delta: 3600 }, reply: { ok: true, detail: "wrote 3600" } },
      {
        channel: "control",
        step: "effective clock",
        control: { kind: "effective-clock", domain: "xc-hvm-lt" },
        reply: { ok: true, clock: { setTimeOffsetCalls: [7200, null], vmRtcTimeoffset: "3600", dmLocaltime: true, tz: "ORC-2", hostUtcOffset: 7200 } },
      },
    ],
  };
}

describe("redaction", () => {
  it("redacts SXPR values bare or quoted, XML attributes and elements, keeps empty ones", () => {
    expect(redact("(image (hvm (vncpasswd s3cret) (passwd 'a b') (password \"x\\\"y\")))")).toBe(
      `(image (hvm (vncpasswd ${REDACTED}) (passwd ${REDACTED}) (password ${REDACTED})))`,
    );
    expect(redact("(vncpasswd '')(vncpasswdx 1)")).toBe("(vncpasswd '')(vncpasswdx 1)");
    expect(redact("<graphics type='vnc' passwd='s3cret' port='-1'/><password>x</password>")).toBe(
      `<graphics type='vnc' passwd='${REDACTED}' port='-1'/><password>${REDACTED}</password>`,
    );
  });

  it("redacts inside form fields and keeps every other byte of the body", () => {
    const body = encodeForm("uri", [["op", "new"], ["config", "(vm (vncpasswd s3cret))"]]) + "&passwd=abc";
    const red = redactForm(body);
    expect(red.startsWith("op=new&config=")).toBe(true);
    expect(red).not.toContain("s3cret");
    expect(red).not.toContain("abc");
    expect(red.endsWith(`&passwd=${REDACTED}`)).toBe(true);
    expect(redactForm("op=new&config=%28vm%29")).toBe("op=new&config=%28vm%29");
  });
});

describe("recording files", () => {
  it("round-trips through YAML (with secrets redacted) and is reviewable text", async () => {
    const file = writeRecording(dir, sample());
    expect(file).toBe(path.join(dir, "4.1.2", "0.8.7%2Brfc-localtime", "hvm-lt.yaml"));
    expect(recordingPath(dir, CELL)).toBe(file);
    const text = fs.readFileSync(file, "utf8");
    expect(text).not.toContain("s3cret");
    expect(text).toContain("(name xc-hvm-lt)\n"); // the multi-line body is a block literal
    expect(text).toMatch(/form:\n\s+op: new\n\s+config: .*\(localtime 1\)/);
    expect(text).toContain('- "Host: localhost:8000"');
    const back = await loadRecording(file);
    const want = sample();
    // What is expected back: the redacted recording.
    const redactedDefine = want.exchanges[1] as { request: HttpRequest };
    redactedDefine.request = (back.exchanges[1] as { request: HttpRequest }).request;
    (want.exchanges[2] as { response: { body: string } }).response.body =
      "(domain\n    (name xc-hvm-lt)\n    (image (hvm (vncpasswd REDACTED) (localtime 1) (rtc_timeoffset 0)))\n)\n''";
    expect(back).toEqual(want);
    expect(redactedDefine.request.body).toContain(`%28vncpasswd%20${REDACTED}%29`);
    expect(redactedDefine.request.headers.at(-1)).toEqual(["Content-Length", String(redactedDefine.request.body!.length)]);
    // Serializing what was loaded gives the same text again.
    expect(serializeRecording(back)).toBe(text);
  });

  it("lists recordings with their cell ids and finds the ones no cell uses", () => {
    writeRecording(dir, sample());
    writeRecording(dir, { ...sample(), cell: "4.1.2/0.9.11/gone" });
    fs.writeFileSync(path.join(dir, "4.1.2", "README.md"), "not a recording");
    expect(listRecordings(dir).map((r) => r.cellId)).toEqual(["4.1.2/0.8.7+rfc-localtime/hvm-lt", "4.1.2/0.9.11/gone"]);
    expect(obsoleteRecordings(dir, [CELL]).map((r) => r.file)).toEqual([path.join(dir, "4.1.2", "0.9.11", "gone.yaml")]);
    expect(obsoleteRecordings(dir, [CELL], ["3.2"])).toEqual([]);
  });

  it("writes atomically: no temporary file left, an existing file replaced whole, failures leave the old file", () => {
    const file = path.join(dir, "a", "b.yaml");
    writeFileAtomic(file, "one\n");
    writeFileAtomic(file, "two\n");
    expect(fs.readFileSync(file, "utf8")).toBe("two\n");
    expect(fs.readdirSync(path.dirname(file))).toEqual(["b.yaml"]);
    // A directory in the way of the rename: the write fails, the temp file is removed.
    const blocked = path.join(dir, "a", "c.yaml");
    fs.mkdirSync(blocked);
    fs.writeFileSync(path.join(blocked, "x"), "");
    expect(() => writeFileAtomic(blocked, "three\n")).toThrow(HarnessError);
    expect(fs.readdirSync(path.dirname(file)).sort()).toEqual(["b.yaml", "c.yaml"]);
  });

  it("reports YAML syntax errors with file:line:col", async () => {
    const e = await parseRecording("format: 1\ncell: x\nexchanges: [\n  - a: b\n", "r.yaml").then(() => undefined as never, (x) => x as HarnessError);
    expect(e).toBeInstanceOf(HarnessError);
    expect(e.code).toBe("input.recording");
    expect(e.oneLine()).toMatch(/^r\.yaml:\d+:\d+: recording is not valid YAML: /);
  });

  it("reports schema errors naming what is missing, with its line", async () => {
    const text = serializeRecording(sample()).replace(/\n  commit: .*\n/, "\n");
    const e = await parseRecording(text, "r.yaml").then(() => undefined as never, (x) => x as HarnessError);
    expect(e.code).toBe("input.recording");
    expect(e.message).toBe("bad recording: missing provenance.commit");
    expect(e.pos?.file).toBe("r.yaml");
    expect(e.pos?.line).toBeGreaterThan(1);
    const text2 = serializeRecording(sample()).replace("channel: control", "channel: telnet");
    const e2 = await parseRecording(text2, "r.yaml").then(() => undefined as never, (x) => x as HarnessError);
    expect(e2.message).toBe("bad recording: exchanges[3].channel must be 'xend' or 'control', got 'telnet'");
    expect(e2.oneLine()).toMatch(/^r\.yaml:\d+:\d+: /);
  });
});

describe("the recorded backend", () => {
  async function session(): Promise<BackendSession> {
    writeRecording(dir, sample());
    return new RecordedBackend({ dir, xendVersion: "4.1.2" }).open(CELL);
  }

  it("replays a whole cell, matching the define by meaning (other quoting and encoding, real password)", async () => {
    const s = await session();
    expect((await s.send(libvirtGet("/xend/node/"), "node")).body).toBe("(node (xend_config_format 4))\n");
    const requoted = CONFIG.replace("(name xc-hvm-lt)", "(name 'xc-hvm-lt')").replace(/\) \(/g, ")\n  (");
    const res = await s.send(libvirtPost("/xend/domain/", encodeForm("raw", [["op", "new"], ["config", requoted]])), "define");
    expect(res.status).toBe(200);
    expect((await s.send(libvirtGet("/xend/domain/xc-hvm-lt?detail=1"), "read")).body).toContain("(localtime 1)");
    expect(await s.control({ kind: "guest-set-rtc", domain: "xc-hvm-lt", delta: 3600 }, "rtc")).toEqual({ ok: true, detail: "wrote 3600" });
    expect((await s.control({ kind: "effective-clock", domain: "xc-hvm-lt" }, "clock")).clock?.setTimeOffsetCalls).toEqual([7200, null]);
    await s.end();
    expect(s.provenance?.()?.commit).toBe("eba9045a7dc8");
  });

  it("an unmatched request names the recording and the record command", async () => {
    const s = await session();
    await s.send(libvirtGet("/xend/node/"), "node");
    const other = encodeForm("uri", [["op", "new"], ["config", CONFIG.replace("(localtime 1)))", "(localtime 0)))")]]);
    const e = (await s.send(libvirtPost("/xend/domain/", other), "define").catch((x) => x)) as HarnessError;
    expect(e.code).toBe("backend.unmatched");
    expect(e.message).toContain(path.join("4.1.2", "0.8.7%2Brfc-localtime", "hvm-lt.yaml"));
    expect(e.message).toContain("exchange 2 of 5, recorded at step 'define'");
    expect(e.message).toContain("recorded 1, sent 0");
    expect(e.message).toContain(
      "xend-compat record --backend sandbox --xen-src DIR --xend 4.1.2 --libvirt 0.8.7+rfc-localtime --scenario hvm-lt",
    );
    // After a mismatch, the session stays failed; end() does not pile on.
    await expect(s.send(libvirtGet("/xend/node/"), "again")).rejects.toMatchObject({ code: "backend.unmatched" });
    await s.end();
  });

  it("a wrong path, a control step where a request is recorded, or a different delta do not match", async () => {
    const s1 = await session();
    await expect(s1.send(libvirtGet("/xend/node"), "node")).rejects.toThrow(/recording expects GET \/xend\/node\//);
    const s2 = await session();
    await expect(s2.control({ kind: "guest-poweroff", domain: "xc-hvm-lt" }, "off")).rejects.toThrow(/recording expects GET \/xend\/node\//);
    const s3 = await session();
    await s3.send(libvirtGet("/xend/node/"), "node");
    await s3.send(libvirtPost("/xend/domain/", DEFINE_BODY), "define");
    await s3.send(libvirtGet("/xend/domain/xc-hvm-lt?detail=1"), "read");
    await expect(s3.control({ kind: "guest-set-rtc", domain: "xc-hvm-lt", delta: 60 }, "rtc")).rejects.toThrow(/delta 3600/);
  });

  it("a cell that stops early or goes on past the recording is unmatched", async () => {
    const s = await session();
    await s.send(libvirtGet("/xend/node/"), "node");
    await expect(s.end()).rejects.toThrow(/ended after 1 of 5 recorded exchanges/);
    const s2 = await session();
    await s2.send(libvirtGet("/xend/node/"), "node");
    await s2.send(libvirtPost("/xend/domain/", DEFINE_BODY), "define");
    await s2.send(libvirtGet("/xend/domain/xc-hvm-lt?detail=1"), "read");
    await s2.control({ kind: "guest-set-rtc", domain: "xc-hvm-lt", delta: 3600 }, "rtc");
    await s2.control({ kind: "effective-clock", domain: "xc-hvm-lt" }, "clock");
    await expect(s2.send(libvirtGet("/xend/node/"), "more")).rejects.toThrow(/after the last of the 5 recorded exchanges/);
  });

  it("refuses a recording of another xend version", async () => {
    const rec = sample();
    rec.cell = "3.4.3/0.8.7+rfc-localtime/hvm-lt";
    writeRecording(dir, rec); // provenance still says 4.1.2
    const e = (await new RecordedBackend({ dir, xendVersion: "3.4.3" }).open(rec.cell).catch((x) => x)) as HarnessError;
    expect(e.code).toBe("input.recording");
    expect(e.oneLine()).toMatch(/hvm-lt\.yaml:7:16: recording is for xend 4\.1\.2, not 3\.4\.3/);
  });

  it("a missing recording is unmatched and names the record command", async () => {
    const b = await createBackend({ kind: "recorded", xendVersion: "3.2", recordingsDir: dir });
    const e = (await b.open("3.2/0.9.10/pv-lt-top").catch((x) => x)) as HarnessError;
    expect(e.code).toBe("backend.unmatched");
    expect(e.message).toContain("no recording at");
    expect(e.message).toContain(path.join("3.2", "0.9.10", "pv-lt-top.yaml"));
    expect(e.message).toContain("xend-compat record --backend sandbox --xen-src DIR --xend 3.2 --libvirt 0.9.10 --scenario pv-lt-top");
  });

  it("sees a re-recorded file (the cache follows the file)", async () => {
    const s = await session();
    await s.send(libvirtGet("/xend/node/"), "node");
    const rec = sample();
    rec.exchanges[0] = { ...rec.exchanges[0], response: { status: 200, reason: "OK", headers: [], body: "(node (xend_config_format 4) (host re-recorded))\n" } } as Recording["exchanges"][0];
    const file = writeRecording(dir, rec);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(file, later, later);
    const s2 = await new RecordedBackend({ dir, xendVersion: "4.1.2" }).open(CELL);
    expect((await s2.send(libvirtGet("/xend/node/"), "node")).body).toBe("(node (xend_config_format 4) (host re-recorded))\n");
  });
});

describe("the backend factory", () => {
  it("a sandbox needs --xen-src; an unknown kind is a usage error", async () => {
    await expect(createBackend({ kind: "sandbox", xendVersion: "4.1.2" })).rejects.toMatchObject({ code: "input.usage" });
    await expect(createBackend({ kind: "telnet" as "live", xendVersion: "4.1.2" })).rejects.toMatchObject({ code: "input.usage" });
  });
});

describe("the recording wrapper", () => {
  it("passes everything through, collects each session in order, and hands it over at end()", async () => {
    writeRecording(dir, sample());
    const inner: Backend = new RecordedBackend({ dir, xendVersion: "4.1.2" });
    const ended: CollectedSession[] = [];
    const rb = new RecordingBackend(inner, { onSessionEnd: (s) => void ended.push(s) });
    expect(rb.kind).toBe("recorded");
    const s = await rb.open(CELL);
    await s.send(libvirtGet("/xend/node/"), "detect config version");
    await s.send(libvirtPost("/xend/domain/", DEFINE_BODY), "define");
    await s.send(libvirtGet("/xend/domain/xc-hvm-lt?detail=1"), "read back");
    await s.control({ kind: "guest-set-rtc", domain: "xc-hvm-lt", delta: 3600 }, "guest sets RTC");
    await s.control({ kind: "effective-clock", domain: "xc-hvm-lt" }, "effective clock");
    await s.end();
    expect(ended).toHaveLength(1);
    const got = rb.take(CELL)!;
    expect(got.faulted).toBe(false);
    expect(got.ended).toBe(true);
    const rec = rb.toRecording(got, { harnessVersion: "0.1.0", recordedAt: new Date("2026-11-25T06:00:00.123Z") });
    expect(rec.provenance.recordedAt).toBe("2026-11-25T06:00:00Z");
    expect(rec.provenance.backend).toBe("recorded");
    // What was collected is exactly the conversation (the wrapper holds the real password; writing redacts it).
    expect(rec.exchanges.map((x) => x.step)).toEqual(sample().exchanges.map((x) => x.step));
    // The define carried the real password (the wrapper keeps what was sent; writing redacts it);
    // the read-back reply comes from the replayed, already redacted file.
    const want = sample().exchanges;
    const readBack = want[2] as Extract<Recording["exchanges"][0], { channel: "xend" }>;
    readBack.response = { ...readBack.response, body: readBack.response.body.replace("'s3cret'", REDACTED) };
    expect(rec.exchanges).toEqual(want);
    expect(serializeRecording(rec)).not.toContain("s3cret");
  });

  it("marks a session whose backend failed as faulted", async () => {
    writeRecording(dir, sample());
    const rb = new RecordingBackend(new RecordedBackend({ dir, xendVersion: "4.1.2" }));
    const s = await rb.open(CELL);
    await expect(s.send(libvirtGet("/nope"), "x")).rejects.toThrow();
    await s.end();
    const got = rb.take(CELL)!;
    expect(got.faulted).toBe(true);
    expect(got.fault).toMatch(/^backend\.unmatched: /);
  });
});
