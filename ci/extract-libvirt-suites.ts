// Extract libvirt's own Xen SXPR conversion suites (tests/sexpr2xmldata, tests/xml2sexprdata and the
// cases of tests/sexpr2xmltest.c and tests/xml2sexprtest.c) from libvirt git repositories, one suite
// per release, into a content-addressed store:
//
//   OUT/blobs/<sha256>                  every distinct data file, once
//   OUT/releases/<tag>/cases.tsv        the DO_TEST rows of the tag's two drivers, in their order
//   OUT/releases/<tag>/manifest.json    file name -> blob, the commit it came from, loader and compare rules
//   OUT/releases.tsv                    one line per extracted tag
//
// Usage:
//   npx tsx ci/extract-libvirt-suites.ts --git-dir REPO [--git-dir REPO2 ...] [--out DIR] [--tags v0.9.11,v1.2.0]
//   npx tsx ci/extract-libvirt-suites.ts --git-dir REPO --ref COMMIT-ISH --as-dir DIR
//
// The second form writes one commit's suite (e.g. a patched tree's HEAD) as a plain suite directory:
// DIR/cases.tsv, DIR/sexpr2xmldata/, DIR/xml2sexprdata/ and DIR/suite.json (source, commit, loader and
// compare rules), ready for `xend-compat conformance --libvirt V DIR`.
//
// REPO is a bare repository or a checkout (its .git is found). With several, a tag is taken from the
// first repository that has it. Without --tags: every release from v0.6.2 to v4.5.0 (four-part
// maintenance tags included, -rc tags not) that the repositories hold, either as a tag or, for
// releases a mirror never tagged, as the commit "Release of libvirt-X.Y.Z" reachable from a ref; tags
// whose tree lacks either driver are left out. Re-running gives the same bytes; blobs no manifest
// names any more are deleted. Only the project's Node (with tsx, a dev dependency) and the git CLI are needed.
// The C drivers are read by harness/libvirt/build/dotest.ts, the same reader `src:DIR` trees use.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { casesOf, configVersionNames, DIRECTIONS, readDriver, readLoader, type DoTestCase } from "../harness/libvirt/build/dotest.js";

const DEFAULT_FROM = [0, 6, 2];
const DEFAULT_TO = [4, 5, 0];

function usage(msg?: string): never {
  if (msg) console.error(`extract-libvirt-suites: ${msg}`);
  console.error("usage: npx tsx ci/extract-libvirt-suites.ts --git-dir REPO [--git-dir REPO ...] [--out DIR] [--tags T1,T2,...]\n       npx tsx ci/extract-libvirt-suites.ts --git-dir REPO --ref COMMIT-ISH --as-dir DIR");
  process.exit(2);
}

interface Options {
  gitDirs: string[];
  out: string;
  tags?: string[];
  ref?: string;
  asDir?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { gitDirs: [], out: "fixtures/libvirt-tests", tags: undefined, ref: undefined, asDir: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--git-dir") o.gitDirs.push(val());
    else if (a === "--out") o.out = val();
    else if (a === "--ref") o.ref = val();
    else if (a === "--as-dir") o.asDir = val();
    else if (a === "--tags") o.tags = val().split(",").map((s) => s.trim()).filter(Boolean);
    else if (a === "--help" || a === "-h") usage();
    else usage(`unknown argument ${a}`);
  }
  if (!o.gitDirs.length) usage("at least one --git-dir is needed");
  if ((o.ref === undefined) !== (o.asDir === undefined)) usage("--ref and --as-dir go together");
  if (o.ref !== undefined && (o.tags || o.gitDirs.length > 1)) usage("--ref/--as-dir take one --git-dir and no --tags");
  return o;
}

/** A bare repository or a checkout's .git. */
function gitDirOf(p: string): string {
  const abs = resolve(p);
  if (existsSync(join(abs, "HEAD")) && existsSync(join(abs, "objects"))) return abs;
  if (existsSync(join(abs, ".git"))) return join(abs, ".git");
  usage(`${p}: not a git repository (no HEAD/objects, no .git)`);
}

/** Where a repository came from, for the attribution: github.com/owner/name for our mirrors' owner+name folders. */
function sourceLabel(dir: string): string {
  const url = spawnSync("git", ["--git-dir", dir, "config", "--get", "remote.origin.url"], { encoding: "utf8" }).stdout.trim();
  if (url) return url;
  const m = dir.split("/").find((s) => /^[A-Za-z0-9_.-]+\+[A-Za-z0-9_.-]+$/.test(s));
  return m ? `github.com/${m.replace("+", "/")}` : basename(dir);
}

const git = (dir: string, args: string[]): string => execFileSync("git", ["--git-dir", dir, ...args], { encoding: "utf8", maxBuffer: 256 << 20 });

function parseVersion(s: string): number[] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:\.(\d+))?$/.exec(s);
  return m ? m.slice(1).filter((x) => x !== undefined).map(Number) : undefined;
}
function cmpVersion(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d) return d;
  }
  return 0;
}

/** The releases a repository holds: tag name -> { commit, ref }. */
interface Release {
  commit: string;
  ref: string;
}

function releasesOf(dir: string): Map<string, Release> {
  const out = new Map<string, Release>();
  for (const line of git(dir, ["for-each-ref", "--format=%(refname:short) %(objectname) %(*objectname)", "refs/tags"]).split("\n")) {
    if (!line.trim()) continue;
    const [name, obj, peeled] = line.split(" ");
    if (!parseVersion(name) || !name.startsWith("v")) continue;
    out.set(name, { commit: peeled || obj, ref: `tag ${name}` });
  }
  // releases a mirror never tagged: the upstream release commit, by its subject
  const log = git(dir, ["log", "--all", "--format=%H %s", "--extended-regexp", "--grep=^Release of libvirt[- ][0-9]+\\.[0-9]+\\.[0-9]+"]);
  for (const line of log.split("\n")) {
    const m = /^([0-9a-f]{40}) Release of libvirt[- ](\d+\.\d+\.\d+)\b/.exec(line);
    if (!m) continue;
    const tag = `v${m[2]}`;
    if (!out.has(tag)) out.set(tag, { commit: m[1], ref: `release commit "${line.slice(41)}"` });
  }
  return out;
}

function catFiles(dir: string, shas: string[]): Map<string, Buffer> {
  // one git process for all blobs of a tag
  const r = spawnSync("git", ["--git-dir", dir, "cat-file", "--batch"], { input: shas.join("\n") + "\n", maxBuffer: 512 << 20 });
  if (r.status !== 0) throw new Error(`git cat-file failed: ${r.stderr}`);
  const buf = r.stdout;
  const out = new Map<string, Buffer>();
  let off = 0;
  for (const sha of shas) {
    const nl = buf.indexOf(10, off);
    const header = buf.subarray(off, nl).toString();
    const [got, type, size] = header.split(" ");
    if (got !== sha || type !== "blob") throw new Error(`git cat-file: unexpected ${header}`);
    const n = Number(size);
    out.set(sha, buf.subarray(nl + 1, nl + 1 + n));
    off = nl + 1 + n + 1;
  }
  return out;
}

interface Extracted {
  tag: string;
  commit: string;
  source: string;
  ref: string;
  cases: DoTestCase[];
  files: number;
  bytes: number;
  compare: { sexpr2xml: string | null; xml2sexpr: string | null };
  loader: { stripContinuations: boolean; maxBytes: number | null };
}

function extractTag(tag: string, src: { dir: string; commit: string; ref: string; label: string }, outDir: string, asDir = false): Extracted | undefined {
  const { dir, commit, ref, label } = src;
  const show = (p: string): string | undefined => {
    const r = spawnSync("git", ["--git-dir", dir, "show", `${commit}:${p}`], { encoding: "utf8", maxBuffer: 64 << 20 });
    return r.status === 0 ? r.stdout : undefined;
  };
  const found = DIRECTIONS.map((d) => show(d.driver));
  if (found.some((d) => d === undefined)) return undefined;
  const drivers = found as string[];
  // XEND_CONFIG_VERSION_* names, for rows that use them (read from the tag's own headers).
  const names = configVersionNames(["src/xenxs/xen_sxpr.h", "src/xenconfig/xen_sxpr.h", "src/xen/xend_internal.h"].map((f) => show(f) ?? "").join("\n"));
  const parsed = DIRECTIONS.map((d, k) => readDriver(drivers[k], `${tag}:${d.driver}`, names));
  const loader = readLoader(show("tests/testutils.c"), tag, drivers);
  const cases = DIRECTIONS.flatMap((d, k) => casesOf(tag, d, parsed[k]));

  const tree = git(dir, ["ls-tree", "-r", commit, "tests/sexpr2xmldata", "tests/xml2sexprdata"]);
  const entries: { path: string; gitSha: string }[] = [];
  for (const line of tree.split("\n")) {
    const m = /^(\d+) (\w+) ([0-9a-f]{40})\t(.*)$/.exec(line);
    if (!m || m[2] !== "blob") continue;
    entries.push({ path: m[4].replace(/^tests\//, ""), gitSha: m[3] });
  }
  const contents = catFiles(dir, [...new Set(entries.map((e) => e.gitSha))]);
  const files: Record<string, string> = {};
  let bytes = 0;
  for (const e of entries.sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const data = contents.get(e.gitSha)!;
    const sha = createHash("sha256").update(data).digest("hex");
    if (asDir) {
      mkdirSync(join(outDir, e.path, ".."), { recursive: true });
      writeFileSync(join(outDir, e.path), data);
    } else {
      const blob = join(outDir, "blobs", sha);
      if (!existsSync(blob)) writeFileSync(blob, data);
    }
    files[e.path] = sha;
    bytes += data.length;
  }
  for (const c of cases) {
    const dirName = c.direction === "sexpr2xml" ? "sexpr2xmldata" : "xml2sexprdata";
    for (const f of [c.input, c.expected]) {
      if (!files[`${dirName}/${f}`]) console.error(`extract-libvirt-suites: ${tag}: ${dirName}/${f} is named by the driver but not in the tree (the case fails in libvirt too)`);
    }
  }
  if (loader.maxBytes !== null) {
    for (const [p, sha] of Object.entries(files)) {
      if (statSync(asDir ? join(outDir, p) : join(outDir, "blobs", sha)).size > loader.maxBytes) console.error(`extract-libvirt-suites: ${tag}: ${p} is larger than the driver's buffer (${loader.maxBytes} bytes)`);
    }
  }
  const relDir = asDir ? outDir : join(outDir, "releases", tag);
  if (!asDir) rmSync(relDir, { recursive: true, force: true });
  mkdirSync(relDir, { recursive: true });
  const header = "direction\tinput\texpected\txend_config_version\tdomain_name\tbuild_condition\n";
  writeFileSync(join(relDir, "cases.tsv"), header + cases.map((c) => [c.direction, c.input, c.expected, c.version, c.name, c.build].join("\t") + "\n").join(""));
  const manifest = {
    tag,
    version: tag.slice(1),
    source: label,
    commit,
    ref,
    loader: loader,
    compare: { sexpr2xml: parsed[0].compare, xml2sexpr: parsed[1].compare },
    files,
  };
  if (asDir) {
    const { files: _files, ...meta } = manifest;
    writeFileSync(join(relDir, "suite.json"), JSON.stringify(meta, null, 2) + "\n");
  } else writeFileSync(join(relDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  return { tag, commit, source: label, ref, cases, files: Object.keys(files).length, bytes, compare: manifest.compare, loader };
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.ref !== undefined) {
    const dir = gitDirOf(o.gitDirs[0]);
    const r = spawnSync("git", ["--git-dir", dir, "rev-parse", "--verify", "--quiet", `${o.ref}^{commit}`], { encoding: "utf8" });
    if (r.status !== 0) usage(`${o.ref}: no such commit in ${o.gitDirs[0]}`);
    const commit = r.stdout.trim();
    const out = resolve(o.asDir!);
    if (existsSync(out) && readdirSync(out).length) usage(`${o.asDir}: exists and is not empty`);
    mkdirSync(out, { recursive: true });
    const tag = parseVersion(o.ref) ? (o.ref.startsWith("v") ? o.ref : `v${o.ref}`) : o.ref;
    const res = extractTag(tag, { dir, commit, ref: o.ref, label: sourceLabel(dir) }, out, true);
    if (!res) usage(`${o.ref}: its tree has no tests/sexpr2xmltest.c or tests/xml2sexprtest.c`);
    process.stderr.write(`${o.ref} (${commit}): ${res.cases.length} cases, ${res.files} files in ${o.asDir}\n`);
    return;
  }
  const repos = o.gitDirs.map((p) => {
    const dir = gitDirOf(p);
    return { dir, label: sourceLabel(dir), releases: releasesOf(dir) };
  });
  let tags = o.tags;
  if (!tags) {
    const all = new Set(repos.flatMap((r) => [...r.releases.keys()]));
    tags = [...all].filter((t) => {
      const v = parseVersion(t);
      return v && cmpVersion(v, DEFAULT_FROM) >= 0 && cmpVersion(v, DEFAULT_TO) <= 0;
    });
  }
  tags = [...new Set(tags)].sort((a, b) => cmpVersion(parseVersion(a) ?? [], parseVersion(b) ?? []) || (a < b ? -1 : 1));
  const outDir = resolve(o.out);
  mkdirSync(join(outDir, "blobs"), { recursive: true });
  const done = [];
  for (const tag of tags) {
    const repo = repos.find((r) => r.releases.has(tag));
    if (!repo) {
      if (o.tags) usage(`${tag}: no such release in ${o.gitDirs.join(", ")}`);
      continue;
    }
    const { commit, ref } = repo.releases.get(tag)!;
    const r = extractTag(tag, { dir: repo.dir, commit, ref, label: repo.label }, outDir);
    if (!r) {
      if (o.tags) usage(`${tag}: its tree has no tests/sexpr2xmltest.c or tests/xml2sexprtest.c`);
      continue;
    }
    done.push(r);
    process.stderr.write(`${tag}\t${r.cases.length} cases\t${r.files} files\n`);
  }
  // the index of every suite in the store (including ones extracted by earlier runs)
  const relRoot = join(outDir, "releases");
  const present = readdirSync(relRoot).filter((t) => existsSync(join(relRoot, t, "manifest.json")));
  present.sort((a, b) => cmpVersion(parseVersion(a) ?? [], parseVersion(b) ?? []) || (a < b ? -1 : 1));
  const referenced = new Set();
  const index = ["tag\tcommit\tsource\tref\tsexpr2xml_cases\txml2sexpr_cases\trhel5_only_rows\tcompare_sexpr2xml\tcompare_xml2sexpr\tloader\n"];
  for (const t of present) {
    const m = JSON.parse(readFileSync(join(relRoot, t, "manifest.json"), "utf8"));
    Object.values(m.files).forEach((s) => referenced.add(s));
    const rows = readFileSync(join(relRoot, t, "cases.tsv"), "utf8").split("\n").slice(1).filter(Boolean).map((l) => l.split("\t"));
    const count = (d: string) => rows.filter((r) => r[0] === d).length;
    const rhel = rows.filter((r) => r[5] === "WITH_RHEL5_API").length;
    const loader = (m.loader.stripContinuations ? "strips-backslash-newline" : "raw") + (m.loader.maxBytes !== null ? `,max-${m.loader.maxBytes}-bytes` : "");
    index.push([t, m.commit, m.source, m.ref, count("sexpr2xml"), count("xml2sexpr"), rhel, m.compare.sexpr2xml, m.compare.xml2sexpr, loader].join("\t") + "\n");
  }
  writeFileSync(join(outDir, "releases.tsv"), index.join(""));
  let removed = 0;
  for (const b of readdirSync(join(outDir, "blobs"))) {
    if (!referenced.has(b)) {
      rmSync(join(outDir, "blobs", b));
      removed++;
    }
  }
  process.stderr.write(`${done.length} suites extracted, ${present.length} in the store, ${referenced.size} distinct files${removed ? `, ${removed} unreferenced blobs removed` : ""}\n`);
}

try {
  main();
} catch (e) {
  console.error(`extract-libvirt-suites: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
}
