/**
 * Record what a real libvirt build answers, so CI (which has no libvirt trees) can check the model
 * profiles against it: every conversion the default matrix needs (its cells replayed against the
 * recorded xends, through the built tree) and every case of the shipped libvirt suites
 * (fixtures/libvirt-tests/v*), run through the tree's own C code by our driver.
 *
 *   npx tsx ci/record-libvirt-build.ts src:DIR [--out fixtures/libvirt-builds] [--source github:owner/repo]
 *                                      [--as 0.8.7+rfc-localtime]   (a patched tree: the model it stands for)
 *
 * Writes <out>/<release>.json with the provenance (tree, commit, uncommitted changes, gnulib commit,
 * configure flags, compiler, the tree's own test results, the driver's API era). Refuses under CI.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { type BuildRecording, type BuiltProfile, type Conversion, type RecordedConversion } from "../harness/libvirt/build/index.js";
import { resolveProfile } from "../harness/libvirt/index.js";
import { projectRoot } from "../harness/matrix/index.js";
import { execute } from "../harness/run/index.js";
import { stripContinuations } from "../harness/sxp/index.js";

export type { RecordedConversion };

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

function sh(cmd: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const spec = args.find((a) => a.startsWith("src:"));
  if (!spec) throw new Error("usage: npx tsx ci/record-libvirt-build.ts src:DIR [--out DIR] [--source github:owner/repo]");
  if (process.env.CI) throw new Error("refusing to write recordings under CI");
  const at = (k: string) => (args.indexOf(k) >= 0 ? args[args.indexOf(k) + 1] : undefined);
  const root = projectRoot();
  const out = path.resolve(at("--out") ?? path.join(root, "fixtures/libvirt-builds"));
  const p = resolveProfile(spec) as BuiltProfile;
  if (!p.prepare || !("tree" in p)) throw new Error(`${spec} is not a source tree`);
  await p.prepare((l) => process.stderr.write(l + "\n"));
  // A patched tree standing for a patch profile replays that profile's recordings (same domain names).
  if (at("--as")) (p as { replayAs?: string }).replayAs = resolveProfile(at("--as")!).id;
  const conversions = new Map<string, RecordedConversion>();
  let context = "";
  // Suite files by the text the driver receives (loader rule applied), to name them instead of copying.
  const suiteFiles = new Map<string, string>();
  p.onConversion = (c: Conversion) => {
    const key = `${c.op}\0${c.version}\0${sha(c.input)}`;
    let r = conversions.get(key);
    if (!r) {
      const file = suiteFiles.get(sha(c.input));
      r = { op: c.op, version: c.version, input: file ? { file, sha256: sha(c.input) } : { text: c.input }, result: c.result, for: [] };
      conversions.set(key, r);
    }
    if (!r.for.includes(context)) r.for.push(context);
  };

  // 1. The shipped suites, each case as the tag's own driver runs it.
  const suitesDir = path.join(root, "fixtures/libvirt-tests");
  const tags = fs.readdirSync(suitesDir).filter((t) => /^v\d/.test(t) && fs.existsSync(path.join(suitesDir, t, "cases.tsv")));
  for (const tag of tags) {
    const rows = fs.readFileSync(path.join(suitesDir, tag, "cases.tsv"), "utf8").trim().split("\n").slice(1);
    context = `suite ${tag}`;
    for (const row of rows) {
      const [direction, input, , version] = row.split("\t");
      const rel = `fixtures/libvirt-tests/${tag}/${direction}data/${input}`;
      const text = stripContinuations(fs.readFileSync(path.join(root, rel), "utf8"));
      suiteFiles.set(sha(text), rel);
      const opts = { xendConfigVersion: version === "-" ? 4 : Number(version), file: rel };
      try {
        if (direction === "sexpr2xml") await p.parse(text, opts);
        else await p.format(text, opts);
      } catch {
        /* a refusal or crash is recorded by the tap (crashes are not: they are findings for the log) */
      }
    }
  }

  // 2. The default matrix's cells, replayed against the recorded xends through this build.
  context = "matrix";
  const realTap = p.onConversion;
  const ex = await execute({
    libvirt: [spec],
    backend: "recorded",
    cwd: root,
    env: process.env,
    log: (l) => process.stderr.write(l + "\n"),
    select: (cells) => cells,
    onProgress: ({ result }) => void result,
  });
  void realTap;
  p.onConversion = undefined;
  // The define body of every matrix domain, through the release's own encoder (when it has a xend client).
  for (const c of conversions.values()) {
    if (c.op !== "to-sxpr" || c.result.kind !== "ok" || !c.for.includes("matrix") || !("text" in c.input)) continue;
    const w = await p.defineBody(c.input.text, { xendConfigVersion: c.version });
    if (w.kind === "ok") c.wire = w.body;
  }
  const byVerdict: Record<string, number> = {};
  for (const r of ex.results) byVerdict[r.verdict] = (byVerdict[r.verdict] ?? 0) + 1;

  const t = p.tree;
  const log = fs.readFileSync(p.built!.build.logFile, "utf8");
  const configure = (/^configure (--.*)$/m.exec(log) ?? [])[1] ?? "";
  // The last run of the tree's own tests: "== sexpr2xmltest" then libvirt's "... 51  OK" (or FAIL).
  const lastTest = log.slice(log.lastIndexOf("### test"));
  const ownTests = [...lastTest.matchAll(/^== (\w+)\n([\s\S]*?)(?=^== |^### |(?![\s\S]))/gm)].map((m) => `${m[1]}: ${(/(\d+)\s+(OK|FAIL)\s*$/m.exec(m[2].trimEnd()) ?? ["", "?", "?"]).slice(1).join(" ")}`);
  const release = at("--as") ?? t.version;
  const file = path.join(out, `${release}.json`);
  // The compiler and OS where the build ran (the build image's, for --build-in container).
  const there = (cmd: string, args: string[]) => {
    const r = p.built!.build.place.spawnSync(cmd, args, { cwd: p.built!.build.copy, vars: {} });
    return r.status === 0 ? (r.stdout ?? "").trim() : "";
  };
  const rec: BuildRecording = {
    format: 1,
    release,
    provenance: {
      source: at("--source") ?? (sh("git", ["-C", t.dir, "config", "--get", "remote.origin.url"]) || t.realDir),
      commit: t.commit,
      uncommittedChanges: t.dirty,
      gnulibCommit: sh("git", ["-C", t.dir, "ls-tree", "HEAD", ".gnulib"]).split(/\s+/)[2] ?? null,
      configure,
      cppflags: "-I/usr/include/tirpc -include nononnull.h (ATTRIBUTE_NONNULL emptied)",
      compiler: there("gcc", ["--version"]).split("\n")[0],
      os: there("sh", ["-c", ". /etc/os-release && echo $PRETTY_NAME"]),
      builtIn: p.built!.build.place.describe(),
      ownTests,
      driver: p.built!.era.summary,
      defines: p.built!.era.defines,
      recordedBy: "ci/record-libvirt-build.ts (xend-compat 0.1.0)",
      recordedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      matrixCells: byVerdict,
    },
    conversions: [...conversions.values()],
  };
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(rec, null, 1) + "\n");
  process.stderr.write(`wrote ${path.relative(process.cwd(), file)}: ${rec.conversions.length} conversions; matrix cells ${JSON.stringify(byVerdict)}\n`);
  p.close();
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`record-libvirt-build: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
