/**
 * Compiled recordings (harness/xend/pack.ts) and conversation matching (harness/xend/recorded.ts):
 * the pack is cached per recordings directory and rebuilt when a source changes (sizes and mtimes,
 * the content hash when only an mtime moved); nothing is written under CI or to a read-only cache;
 * a recording answers any cell that sends the same requests up to the domain's name and uuid, with
 * the cell's own name and uuid put back in the answers.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isHarnessError } from "../harness/errors.js";
import { clearRecordingCache, loadRecording, RecordedBackend, recordingPath, type HttpRequest } from "../harness/xend/index.js";
import { loadPack, normalise, denormalise, packCacheDir } from "../harness/xend/pack.js";

const SHIPPED = path.join(__dirname, "..", "fixtures", "recordings");
const CELL = "4.1.2/0.9.11/hvm-guest-sets-rtc";
const have = fs.existsSync(recordingPath(SHIPPED, CELL));

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "xend-compat-pack-"));
  clearRecordingCache();
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  clearRecordingCache();
});

/** A recordings directory holding copies of the shipped recordings of these cells. */
function copyRecordings(cells: string[]): string {
  const dir = path.join(tmp, "recordings");
  for (const c of cells) {
    const to = recordingPath(dir, c);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(recordingPath(SHIPPED, c), to);
  }
  return dir;
}

describe("where packs are cached", () => {
  it("under XDG_CACHE_HOME, else ~/.cache; nowhere under CI or with XEND_COMPAT_CACHE_DIR=off", () => {
    expect(packCacheDir({ XDG_CACHE_HOME: "/x/cache" })).toBe("/x/cache/xend-compat/packs");
    expect(packCacheDir({ HOME: os.homedir() })).toBe(path.join(os.homedir(), ".cache", "xend-compat", "packs"));
    expect(packCacheDir({ XEND_COMPAT_CACHE_DIR: "/y" })).toBe("/y/packs");
    expect(packCacheDir({ CI: "true", XDG_CACHE_HOME: "/x/cache" })).toBeNull();
    expect(packCacheDir({ XEND_COMPAT_CACHE_DIR: "off" })).toBeNull();
  });
});

describe.skipIf(!have)(`the pack of a recordings directory (${have ? "copies of shipped recordings" : "skipped: no shipped recordings"})`, () => {
  it("is compiled once, then read from the cache until a source changes", () => {
    const dir = copyRecordings([CELL, "4.1.2/0.9.11/hvm-utc"]);
    const cache = path.join(tmp, "cache");
    const first = loadPack(dir, cache);
    expect(first.how).toBe("compiled");
    expect(first.pack.conversations.map((c) => c.cell).sort()).toEqual(["4.1.2/0.9.11/hvm-guest-sets-rtc", "4.1.2/0.9.11/hvm-utc"]);
    expect(first.pack.errors).toEqual([]);
    expect(fs.readdirSync(path.join(cache)).filter((f) => f.endsWith(".json"))).toHaveLength(1);
    expect(loadPack(dir, cache).how).toBe("cached");

    // Only the mtime moved (a fresh checkout): in doubt, the content hash decides: still the same pack.
    const f = recordingPath(dir, CELL);
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(f, later, later);
    const touched = loadPack(dir, cache);
    expect(touched.how).toBe("cached");
    expect(touched.pack.contentHash).toBe(first.pack.contentHash);

    // The same size but other bytes: recompiled, another content hash.
    const text = fs.readFileSync(f, "utf8");
    fs.writeFileSync(f, text.replace("hostUtcOffset: 7200", "hostUtcOffset: 7201"));
    const changed = loadPack(dir, cache);
    expect(changed.how).toBe("compiled");
    expect(changed.pack.contentHash).not.toBe(first.pack.contentHash);

    // A new file: recompiled.
    fs.copyFileSync(recordingPath(SHIPPED, "4.1.2/0.9.11/pv-utc"), path.join(dir, "4.1.2", "0.9.11", "pv-utc.yaml"));
    expect(loadPack(dir, cache).pack.conversations).toHaveLength(3);
  });

  it("is compiled in memory when there is no cache or it cannot be written (nothing written)", () => {
    const dir = copyRecordings([CELL]);
    expect(loadPack(dir, null).how).toBe("memory");
    const ro = path.join(tmp, "ro");
    fs.writeFileSync(ro, "a file where the cache directory should be");
    const r = loadPack(dir, path.join(ro, "packs"));
    expect(r.how).toBe("memory");
    expect(r.pack.conversations).toHaveLength(1);
  });

  it("keeps a bad recording as that cell's error (file, line, column), the other cells replay", async () => {
    const dir = copyRecordings([CELL, "4.1.2/0.9.11/hvm-utc"]);
    fs.writeFileSync(recordingPath(dir, "4.1.2/0.9.11/hvm-utc"), "format: 1\ncell: [\n");
    const b = new RecordedBackend({ dir, xendVersion: "4.1.2", packCache: null });
    const e = await b.open("4.1.2/0.9.11/hvm-utc").then(() => undefined, (x: unknown) => x);
    expect(isHarnessError(e, "input.recording")).toBe(true);
    expect((e as { oneLine(): string }).oneLine()).toMatch(/hvm-utc\.yaml:\d+:\d+: recording is not valid YAML/);
    await expect(b.open(CELL)).resolves.toBeDefined();
  });
});

describe("normalising the instance", () => {
  it("replaces every occurrence of the name and uuid, and puts the cell's own back", () => {
    const s = "(domain (name xc-a) (uuid 11111111-2222-3333-4444-555555555555) (path /vm/11111111-2222-3333-4444-555555555555) (n xc-a))";
    const n = normalise(s, "xc-a", "11111111-2222-3333-4444-555555555555");
    expect(n).not.toContain("xc-a");
    expect(n).not.toContain("11111111");
    expect(denormalise(n, "xc-b", "99999999-2222-3333-4444-555555555555")).toBe(s.replaceAll("xc-a", "xc-b").replaceAll("11111111-", "99999999-"));
    expect(denormalise("plain", "x", "y")).toBe("plain");
  });
});

describe.skipIf(!have)("a recording answers every cell with the same conversation", () => {
  const OTHER = { name: "xc-someone-else", uuid: "0badc0de-0000-4000-8000-000000000001" };

  /** The recorded requests and control steps of CELL, with its name and uuid swapped for OTHER's. */
  async function swapped() {
    const rec = await loadRecording(recordingPath(SHIPPED, CELL));
    const def = rec.exchanges.find((x) => x.channel === "xend" && x.request.method === "POST")!;
    const body = def.channel === "xend" ? def.request.body! : "";
    const name = /\(name '?([^' )]+)'?\)/.exec(decodeURIComponent(body))![1];
    const uuid = /\(uuid '?([0-9a-f-]{36})'?\)/.exec(decodeURIComponent(body))![1];
    // libvirt 0.9.5 and later send the define body with every character but letters and digits escaped
    const esc = (s: string) => s.replace(/[^A-Za-z0-9]/g, (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0"));
    const sw = (s: string) => s.split(name).join(OTHER.name).split(uuid).join(OTHER.uuid).split(esc(name)).join(esc(OTHER.name)).split(esc(uuid)).join(esc(OTHER.uuid));
    return { rec, name, uuid, sw };
  }

  it("a cell without its own recording is answered by it, with its own name and uuid in every answer", async () => {
    const { rec, name, uuid, sw } = await swapped();
    const b = new RecordedBackend({ dir: SHIPPED, xendVersion: "4.1.2", packCache: null });
    const s = await b.open("4.1.2/0.9.11/not-recorded-scenario", OTHER);
    for (const x of rec.exchanges) {
      if (x.channel === "xend") {
        const req: HttpRequest = { ...x.request, path: sw(x.request.path), ...(x.request.body !== undefined ? { body: sw(x.request.body) } : {}) };
        if (req.body !== undefined) req.headers = req.headers.map(([k, v]) => [k, k.toLowerCase() === "content-length" ? String(Buffer.byteLength(req.body!)) : v]);
        const res = await s.send(req, x.step);
        // GET /xend/node/ (every recording shares it) may be answered from a recording made on another
        // host kernel: the same answer up to the host's kernel release
        const hostRelease = (t: string) => (x.request.path === "/xend/node/" ? t.replace(/\(release [^)]*\)/, "(release <host>)") : t);
        expect(hostRelease(res.body)).toBe(hostRelease(sw(x.response.body)));
        expect(res.body.includes(name) || res.body.includes(uuid)).toBe(false);
      } else {
        const reply = await s.control({ ...x.control, domain: sw(x.control.domain) }, x.step);
        expect(reply).toEqual(x.reply.detail === undefined ? x.reply : { ...x.reply, detail: sw(x.reply.detail) });
      }
    }
    await s.end();
    // The first answer (GET /xend/node/, which every recording shares) may come from another recording.
    expect(s.notes?.()).toContainEqual(expect.stringMatching(new RegExp(`^replayed from the recording of ${CELL.replace(/\./g, "\\.")}: the same requests up to the domain's name and uuid \\(.*hvm-guest-sets-rtc\\.yaml; this cell has no recording of its own\\)$`)));
  });

  it("a cell whose domain name was recorded is answered by that one recording alone", async () => {
    const { rec, name, uuid } = await swapped();
    const b = new RecordedBackend({ dir: SHIPPED, xendVersion: "4.1.2", packCache: null });
    const s = await b.open("4.1.2/0.9.11/hvm-guest-sets-rtc-again", { name, uuid });
    for (const x of rec.exchanges) {
      if (x.channel === "xend") expect((await s.send(x.request, x.step)).body).toBe(x.response.body);
      else expect(await s.control(x.control, x.step)).toEqual(x.reply);
    }
    await s.end();
    expect(s.notes?.()).toEqual([expect.stringContaining(`replayed from the recording of ${CELL}: the same requests`)]);
  });

  it("a request that differs in anything but the name and uuid is unmatched, saying the cell has no recording", async () => {
    const { rec, sw } = await swapped();
    const b = new RecordedBackend({ dir: SHIPPED, xendVersion: "4.1.2", packCache: null });
    const s = await b.open("4.1.2/0.9.11/not-recorded-scenario", OTHER);
    const [node, def] = rec.exchanges.filter((x) => x.channel === "xend");
    if (node.channel !== "xend" || def.channel !== "xend") throw new Error("unexpected recording");
    await s.send(node.request, node.step);
    const body = sw(def.request.body!).replace("memory%20512", "memory%20513").replace("(memory 512)", "(memory 513)");
    const req: HttpRequest = { ...def.request, body, headers: def.request.headers.map(([k, v]) => [k, k.toLowerCase() === "content-length" ? String(Buffer.byteLength(body)) : v]) };
    const e = await s.send(req, def.step).then(() => undefined, (x: unknown) => x);
    expect(isHarnessError(e, "backend.unmatched")).toBe(true);
    expect((e as Error).message).toMatch(/no recording at .*not-recorded-scenario\.yaml, and no recording of xend 4\.1\.2 sends the same requests/);
    expect((e as Error).message).toContain("xend-compat record");
  });
});
