/**
 * The store of every release's libvirt suite (fixtures/libvirt-tests/blobs + releases/, written by
 * ci/extract-libvirt-suites.ts) is consistent: every manifest entry has its blob and the blob's
 * SHA-256 is its name, no blob is unreferenced, every file a case names is in its tag's manifest,
 * releases.tsv lists exactly the stored releases, and the four original folders hold the same bytes
 * as the store's suites of those tags. Where the libvirt mirrors are on the machine, re-running the
 * extraction for a few tags gives the stored bytes (the script is deterministic).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "fixtures", "libvirt-tests");
const BLOBS = join(ROOT, "blobs");
const RELEASES = join(ROOT, "releases");

interface Manifest {
  tag: string;
  version: string;
  commit: string;
  source: string;
  compare: { sexpr2xml: string; xml2sexpr: string };
  loader: { stripContinuations: boolean; maxBytes: number | null };
  files: Record<string, string>;
}

const tags = readdirSync(RELEASES).sort();
const manifests = new Map<string, Manifest>(tags.map((t) => [t, JSON.parse(readFileSync(join(RELEASES, t, "manifest.json"), "utf8")) as Manifest]));

describe("libvirt suite store", () => {
  it("holds every release from v0.6.2 to v4.5.0, maintenance releases included", () => {
    for (const t of ["v0.6.2", "v0.8.7", "v0.9.6.1", "v0.9.11.3", "v0.10.2.8", "v1.0.5.9", "v1.1.3.9", "v1.2.1", "v1.2.18.4", "v1.3.3.3", "v2.2.1", "v3.2.1", "v3.7.0", "v4.5.0"]) {
      expect(tags, t).toContain(t);
    }
    expect(tags.filter((t) => /-rc/.test(t))).toEqual([]);
    expect(tags.length).toBeGreaterThanOrEqual(158);
  });

  it("every manifest entry has its blob, and each blob's SHA-256 is its name", () => {
    const bad: string[] = [];
    const checked = new Set<string>();
    for (const [tag, m] of manifests) {
      expect(m.tag).toBe(tag);
      expect(m.commit).toMatch(/^[0-9a-f]{40}$/);
      for (const [file, sha] of Object.entries(m.files)) {
        if (checked.has(sha)) continue;
        const p = join(BLOBS, sha);
        if (!existsSync(p)) {
          bad.push(`${tag}: ${file} -> missing blob ${sha}`);
          continue;
        }
        const got = createHash("sha256").update(readFileSync(p)).digest("hex");
        if (got !== sha) bad.push(`${tag}: ${file} -> blob ${sha} hashes to ${got}`);
        checked.add(sha);
      }
    }
    expect(bad).toEqual([]);
  });

  it("has no blob that no manifest names", () => {
    const referenced = new Set([...manifests.values()].flatMap((m) => Object.values(m.files)));
    expect(readdirSync(BLOBS).filter((b) => !referenced.has(b))).toEqual([]);
  });

  it("every case names files in its tag's manifest, with the cases.tsv columns", () => {
    const bad: string[] = [];
    for (const [tag, m] of manifests) {
      const lines = readFileSync(join(RELEASES, tag, "cases.tsv"), "utf8").split("\n");
      expect(lines[0]).toBe("direction\tinput\texpected\txend_config_version\tdomain_name\tbuild_condition");
      for (const l of lines.slice(1).filter(Boolean)) {
        const [direction, input, expected, version, , build] = l.split("\t");
        expect(["sexpr2xml", "xml2sexpr"]).toContain(direction);
        expect(version).toMatch(/^(\d+|-)$/);
        expect(["-", "WITH_RHEL5_API"]).toContain(build);
        for (const f of [input, expected]) if (!m.files[`${direction}data/${f}`]) bad.push(`${tag}: ${direction}data/${f}`);
      }
      expect(["exact", "file"]).toContain(m.compare.sexpr2xml);
      expect(["exact", "file"]).toContain(m.compare.xml2sexpr);
    }
    expect(bad).toEqual([]);
  });

  it("releases.tsv lists exactly the stored releases", () => {
    const listed = readFileSync(join(ROOT, "releases.tsv"), "utf8").split("\n").slice(1).filter(Boolean).map((l) => l.split("\t")[0]);
    expect([...listed].sort()).toEqual(tags);
  });

  it("the four original folders hold the same bytes and cases as the store's suites of those tags", () => {
    for (const tag of ["v0.8.7", "v0.9.10", "v0.9.11", "v4.5.0"]) {
      const m = manifests.get(tag)!;
      for (const sub of ["sexpr2xmldata", "xml2sexprdata"]) {
        for (const f of readdirSync(join(ROOT, tag, sub))) {
          const sha = createHash("sha256").update(readFileSync(join(ROOT, tag, sub, f))).digest("hex");
          expect(m.files[`${sub}/${f}`], `${tag}/${sub}/${f}`).toBe(sha);
        }
      }
      const old = readFileSync(join(ROOT, tag, "cases.tsv"), "utf8").split("\n").slice(1).filter(Boolean);
      const store = readFileSync(join(RELEASES, tag, "cases.tsv"), "utf8").split("\n").slice(1).filter(Boolean);
      // the original v4.5.0 folder writes the implied version 4 where the driver passes none
      const norm = store.map((l) => l.split("\t").slice(0, 5).map((c, i) => (i === 3 && c === "-" ? "4" : c)).join("\t"));
      expect(norm).toEqual(old);
    }
  });
});

const MIRRORS = ["/work/.mirror/datto+libvirt/repo", "/work/.mirror/open-power-host-os+libvirt/repo/.git"];
const haveMirrors = MIRRORS.every((m) => existsSync(m));

describe.skipIf(!haveMirrors)("extraction is reproducible (needs the libvirt mirrors under /work/.mirror)", () => {
  it("re-extracting v0.8.7, v0.9.11.3, v1.2.15 and v4.5.0 gives the stored cases, manifests and blobs", () => {
    const out = mkdtempSync(join(tmpdir(), "xc-suites-"));
    try {
      const pick = ["v0.8.7", "v0.9.11.3", "v1.2.15", "v4.5.0"];
      const args = ["--import", "tsx", "ci/extract-libvirt-suites.ts", ...MIRRORS.flatMap((m) => ["--git-dir", m]), "--out", out, "--tags", pick.join(",")];
      execFileSync(process.execPath, args, { cwd: join(import.meta.dirname, ".."), stdio: "pipe" });
      for (const t of pick) {
        for (const f of ["cases.tsv", "manifest.json"]) {
          expect(readFileSync(join(out, "releases", t, f), "utf8"), `${t}/${f}`).toBe(readFileSync(join(RELEASES, t, f), "utf8"));
        }
      }
      for (const b of readdirSync(join(out, "blobs"))) expect(existsSync(join(BLOBS, b)), b).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("--ref v0.9.11 --as-dir writes the same suite as a plain directory with suite.json", () => {
    const out = join(mkdtempSync(join(tmpdir(), "xc-asdir-")), "suite");
    try {
      execFileSync(process.execPath, ["--import", "tsx", "ci/extract-libvirt-suites.ts", "--git-dir", MIRRORS[0], "--ref", "v0.9.11", "--as-dir", out], { cwd: join(import.meta.dirname, ".."), stdio: "pipe" });
      expect(readFileSync(join(out, "cases.tsv"), "utf8")).toBe(readFileSync(join(RELEASES, "v0.9.11", "cases.tsv"), "utf8"));
      const m = manifests.get("v0.9.11")!;
      for (const [file, sha] of Object.entries(m.files)) expect(createHash("sha256").update(readFileSync(join(out, file))).digest("hex"), file).toBe(sha);
      const meta = JSON.parse(readFileSync(join(out, "suite.json"), "utf8")) as Manifest;
      expect(meta.commit).toBe(m.commit);
      expect(meta.compare).toEqual(m.compare);
      expect(meta.loader).toEqual(m.loader);
    } finally {
      rmSync(join(out, ".."), { recursive: true, force: true });
    }
  });
});
