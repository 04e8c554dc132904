/**
 * Real builds keep the models honest: every conversion recorded from a real libvirt build
 * (fixtures/libvirt-builds/<release>.json, made by ci/record-libvirt-build.ts from a tree, with its
 * provenance) is run through the model profile that claims that release, and must give the same text
 * (or, where the build refused, a refusal). Disagreements that are known findings are listed, with
 * their explanation, in fixtures/libvirt-builds/DISAGREEMENTS.tsv; the test fails on any other
 * disagreement and on a listed one that no longer happens (so the list stays exact). No tree needed.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isHarnessError } from "../harness/errors.js";
import type { BuildRecording } from "../harness/libvirt/build/index.js";
import { encodeForm, resolveProfile } from "../harness/libvirt/index.js";
import { stripContinuations } from "../harness/sxp/index.js";

const DIR = "fixtures/libvirt-builds";

type Rec = BuildRecording;

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => /^\d+\.\d+\.\d+(\+[a-z0-9-]+)?\.json$/.test(f)) : [];
const known = new Map<string, string>(
  existsSync(`${DIR}/DISAGREEMENTS.tsv`)
    ? readFileSync(`${DIR}/DISAGREEMENTS.tsv`, "utf8")
        .split("\n")
        .filter((l) => l && !l.startsWith("#") && !l.startsWith("release\t"))
        .map((l) => {
          const [release, op, version, input, why] = l.split("\t");
          return [`${release}\t${op}\t${version}\t${input}`, why];
        })
    : [],
);

/** A conversion's input as a short stable key (the suite file, or the hash of the text). */
function inputKey(i: Rec["conversions"][number]["input"]): string {
  return "file" in i ? i.file : `sha256:${sha(i.text).slice(0, 16)}`;
}

async function modelAnswer(release: string, op: "to-sxpr" | "to-xml", version: number, text: string): Promise<{ kind: "ok" | "err"; text: string }> {
  const p = resolveProfile(release);
  try {
    const opts = { xendConfigVersion: version };
    return op === "to-sxpr" ? { kind: "ok", text: (await p.format(text, opts)).sxpr } : { kind: "ok", text: (await p.parse(text, opts)).xml };
  } catch (e) {
    if (isHarnessError(e, "libvirt")) return { kind: "err", text: e.message };
    return { kind: "err", text: `(harness) ${e instanceof Error ? e.message : String(e)}` };
  }
}

describe("model profiles against recordings of real libvirt builds", () => {
  it("has recordings of the default matrix's releases (fixtures/libvirt-builds)", () => {
    const releases = files.map((f) => f.replace(/\.json$/, ""));
    for (const r of ["0.8.7", "0.9.10", "0.9.11", "1.3.1"]) expect.soft(releases, `no recording of a ${r} build`).toContain(r);
  });

  for (const f of files) {
    it(`${f}: every recorded conversion agrees with the model, except the listed findings`, async () => {
      const rec = JSON.parse(readFileSync(`${DIR}/${f}`, "utf8")) as Rec;
      expect(rec.provenance.commit ?? rec.provenance.source, "recording without provenance").toBeTruthy();
      let agree = 0;
      const unexpected: string[] = [];
      const seenKnown = new Set<string>();
      for (const c of rec.conversions) {
        const text = "file" in c.input ? stripContinuations(readFileSync(c.input.file, "utf8")) : c.input.text;
        if ("file" in c.input) expect(sha(text), `${c.input.file} changed since it was recorded`).toBe(c.input.sha256);
        const m = await modelAnswer(rec.release, c.op, c.version, text);
        // A refusal agrees with a refusal (the C message carries libvirt's error-domain prefix).
        const same = m.kind === c.result.kind && (m.kind === "err" || m.text === c.result.text);
        const key = `${rec.release}\t${c.op}\t${c.version}\t${inputKey(c.input)}`;
        // The define body: the model's wire encoding of the build's own SXPR must give the build's bytes.
        if (c.wire !== undefined) {
          const body = encodeForm(resolveProfile(rec.release).wire, [
            ["op", "new"],
            ["config", c.result.text],
          ]);
          if (body !== c.wire) unexpected.push(`${key}: define body differs from the build's own encoder (model wire ${resolveProfile(rec.release).wire})`);
        }
        if (same) {
          agree++;
          if (known.has(key)) unexpected.push(`listed as a disagreement but now agrees: ${key}`);
          continue;
        }
        if (known.has(key)) {
          seenKnown.add(key);
          continue;
        }
        // Where they part: 30 characters before the first difference, 50 after.
        let i = 0;
        while (i < c.result.text.length && c.result.text[i] === m.text[i]) i++;
        const at = (t: string) => JSON.stringify(t.slice(Math.max(0, i - 30), i + 50));
        unexpected.push(`${key} (${c.for.join(", ")}): build ${c.result.kind} …${at(c.result.text)}…, model ${m.kind} …${at(m.text)}…`);
      }
      // The per-release figure, in the test output.
      console.log(`libvirt ${rec.release} (${rec.provenance.source} @ ${rec.provenance.commit?.slice(0, 12)}): model ${resolveProfile(rec.release).id} agrees on ${agree} of ${rec.conversions.length} recorded conversions; ${seenKnown.size} listed finding(s)`);
      expect(unexpected).toEqual([]);
    });
  }
});
