/**
 * Nothing lost: goldens, recordings and reports are written with harness/fsutil.ts writeFileAtomic
 * (temp file in the same directory, fsync, rename). Killing the CLI part-way through
 * `run --update-golden` or `record` leaves every previous file intact and no temp file behind.
 * The recordings made here come from the fault stand-in: they live in a temp dir and are deleted.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { isAtomicTemp, writeFileAtomic } from "../harness/fsutil.js";
import { goldenDigest } from "../harness/run/index.js";
import { loadRecording, recordingPath } from "../harness/xend/index.js";
import { startFaultXend, type FaultXend } from "./support/fault-xend.js";
import { copyProject, listFiles, ROOT, type ProjectCopy } from "./support/project-copy.js";

let xend: FaultXend | undefined;
let project: ProjectCopy | undefined;
const tmpDirs: string[] = [];
afterEach(async () => {
  await xend?.close();
  xend = undefined;
  project?.remove();
  project = undefined;
  for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "xc-atomic-"));
  tmpDirs.push(d);
  return d;
}

describe("writeFileAtomic", () => {
  it("replaces the whole file and leaves no temp file", () => {
    const d = tmp();
    const f = path.join(d, "sub", "a.txt");
    writeFileAtomic(f, "one\n");
    writeFileAtomic(f, "two\n");
    expect(fs.readFileSync(f, "utf8")).toBe("two\n");
    expect(listFiles(d)).toEqual(["sub/a.txt"]);
  });

  it("a failed write keeps the previous file and removes its temp file", () => {
    const d = tmp();
    const f = path.join(d, "dir-in-the-way");
    fs.mkdirSync(f);
    fs.writeFileSync(path.join(f, "keep"), "previous");
    expect(() => writeFileAtomic(f, "new")).toThrow(/EISDIR|ENOTEMPTY|EEXIST|directory/i);
    expect(listFiles(d)).toEqual(["dir-in-the-way/keep"]);
    expect(fs.readFileSync(path.join(f, "keep"), "utf8")).toBe("previous");
  });

  it("SIGKILL during a stream of writes: the file is always one whole version; only hidden .tmp names can remain", async () => {
    const d = tmp();
    const target = path.join(d, "big.txt");
    const A = "A".repeat(4 << 20);
    const B = "B".repeat(4 << 20);
    writeFileAtomic(target, A);
    const script = path.join(d, "writer.mts");
    fs.writeFileSync(
      script,
      `import { writeFileAtomic } from ${JSON.stringify(path.join(ROOT, "harness/fsutil.ts"))};\n` +
        `const A = "A".repeat(4 << 20), B = "B".repeat(4 << 20);\n` +
        `for (let i = 0; ; i++) { writeFileAtomic(${JSON.stringify(target)}, i % 2 ? A : B); process.stdout.write(i + "\\n"); }\n`,
    );
    const child = execa(process.execPath, ["--import", "tsx", script], { cwd: ROOT, reject: false });
    await new Promise<void>((res) => {
      let seen = "";
      child.stdout!.on("data", (c: Buffer) => {
        seen += c.toString();
        if (seen.split("\n").length > 6) res();
      });
    });
    child.kill("SIGKILL");
    await child;
    const now = fs.readFileSync(target, "utf8");
    expect(now === A || now === B).toBe(true);
    const others = listFiles(d).filter((f) => f !== "big.txt" && f !== "writer.mts");
    for (const o of others) expect(isAtomicTemp(o), o).toBe(true);
  });
});

/** The 6 pv-* cells of 4.1.2 × 0.9.11, in the order the runner runs them. */
const CELLS = ["pv-utc", "pv-localtime", "pv-localtime-bootloader", "pv-utc-start", "pv-args-special", "pv-args-plus-percent"].map((s) => `4.1.2/0.9.11/${s}`);
const HANG_DOMAIN = "xc-pv-localtime-bootloader-v0911";

async function untilHang(x: FaultXend) {
  await x.waitFor((r) => r.logical === HANG_DOMAIN && r.fault === "hang");
}

describe("killed part-way, the previous files are intact and no temp file remains", () => {
  it("run --update-golden, SIGTERM at the 3rd cell: the goldens as they were (the index is written after the run), the texts written so far whole", async () => {
    project = copyProject();
    const goldenDir = path.join(project.dir, "fixtures", "golden");
    const old = (id: string) => `# previous golden of ${id}\nverdict: preserved\n`;
    for (const id of CELLS) fs.mkdirSync(path.dirname(path.join(goldenDir, `${id}.txt`)), { recursive: true });
    for (const id of CELLS) fs.writeFileSync(path.join(goldenDir, `${id}.txt`), old(id));
    xend = await startFaultXend();
    xend.addFault({ method: "GET", domain: HANG_DOMAIN, pathIncludes: "detail", skip: 1, times: 1, fault: "hang" });
    const child = execa(process.execPath, ["--import", "tsx", project.cli, "run", "--backend", "live", "--url", xend.url, "--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-*", "--update-golden"], {
      cwd: project.dir,
      reject: false,
      env: { CI: "", NO_COLOR: "1" },
    });
    await untilHang(xend);
    child.kill("SIGTERM");
    const r = await child;
    // After its cleanup the process ends by the signal itself (harness/signals.ts; 143 in a shell).
    expect(r.signal).toBe("SIGTERM");
    expect(r.stderr).toContain("cleanup done");
    // Content-addressed goldens: the texts of cells 1-2 are written at once (atomically, each whole and
    // named by its digest); the index that would point the cells at them only after the run, so an
    // interrupted --update-golden changes no cell's golden: the per-cell files are all as they were.
    for (const id of CELLS) expect(fs.readFileSync(path.join(goldenDir, `${id}.txt`), "utf8")).toBe(old(id));
    const objects = listFiles(goldenDir).filter((f) => f.startsWith("objects/"));
    expect(objects.length).toBeGreaterThanOrEqual(1);
    for (const o of objects) {
      const text = fs.readFileSync(path.join(goldenDir, o), "utf8");
      expect(goldenDigest(text), o).toBe(path.basename(o, ".txt"));
      expect(text).toMatch(/\nverdict: preserved\nreason: [^\n]+\n$/);
    }
    expect(listFiles(goldenDir).filter((f) => !f.startsWith("objects/"))).toEqual(CELLS.map((id) => `${id}.txt`).sort());
  });

  it("record --backend live into a temp dir, SIGTERM at the 3rd cell: earlier recordings whole, later ones untouched", async () => {
    const out = tmp();
    const old = (id: string) => `# previous recording of ${id} (not YAML on purpose)\n`;
    for (const id of CELLS) {
      const f = recordingPath(out, id);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, old(id));
    }
    xend = await startFaultXend();
    xend.addFault({ method: "GET", domain: HANG_DOMAIN, pathIncludes: "detail", skip: 1, times: 1, fault: "hang" });
    const child = execa(process.execPath, ["--import", "tsx", path.join(ROOT, "harness/cli-dev.ts"), "record", "--backend", "live", "--url", xend.url, "--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-*", "--out", out], {
      cwd: ROOT,
      reject: false,
      env: { CI: "", NO_COLOR: "1" },
    });
    await untilHang(xend);
    child.kill("SIGTERM");
    const r = await child;
    // After its cleanup the process ends by the signal itself (harness/signals.ts; 143 in a shell).
    expect(r.signal).toBe("SIGTERM");
    for (const id of CELLS.slice(0, 2)) {
      const rec = await loadRecording(recordingPath(out, id));
      expect(rec.cell).toBe(id);
      expect(rec.exchanges.length).toBeGreaterThan(2);
    }
    for (const id of CELLS.slice(2)) expect(fs.readFileSync(recordingPath(out, id), "utf8")).toBe(old(id));
    expect(listFiles(out)).toEqual(CELLS.map((id) => path.relative(out, recordingPath(out, id))).sort());
  });
});
