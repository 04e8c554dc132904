#!/usr/bin/env node
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
//   node ci/extract-libvirt-suites.mjs --git-dir REPO [--git-dir REPO2 ...] [--out DIR] [--tags v0.9.11,v1.2.0]
//   node ci/extract-libvirt-suites.mjs --git-dir REPO --ref COMMIT-ISH --as-dir DIR
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
// names any more are deleted. Only the project's Node and the git CLI are needed.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";

const DEFAULT_FROM = [0, 6, 2];
const DEFAULT_TO = [4, 5, 0];

function usage(msg) {
  if (msg) console.error(`extract-libvirt-suites: ${msg}`);
  console.error("usage: node ci/extract-libvirt-suites.mjs --git-dir REPO [--git-dir REPO ...] [--out DIR] [--tags T1,T2,...]\n       node ci/extract-libvirt-suites.mjs --git-dir REPO --ref COMMIT-ISH --as-dir DIR");
  process.exit(2);
}

function parseArgs(argv) {
  const o = { gitDirs: [], out: "fixtures/libvirt-tests", tags: undefined, ref: undefined, asDir: undefined };
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
function gitDirOf(p) {
  const abs = resolve(p);
  if (existsSync(join(abs, "HEAD")) && existsSync(join(abs, "objects"))) return abs;
  if (existsSync(join(abs, ".git"))) return join(abs, ".git");
  usage(`${p}: not a git repository (no HEAD/objects, no .git)`);
}

/** Where a repository came from, for the attribution: github.com/owner/name for our mirrors' owner+name folders. */
function sourceLabel(dir) {
  const url = spawnSync("git", ["--git-dir", dir, "config", "--get", "remote.origin.url"], { encoding: "utf8" }).stdout.trim();
  if (url) return url;
  const m = dir.split("/").find((s) => /^[A-Za-z0-9_.-]+\+[A-Za-z0-9_.-]+$/.test(s));
  return m ? `github.com/${m.replace("+", "/")}` : basename(dir);
}

const git = (dir, args) => execFileSync("git", ["--git-dir", dir, ...args], { encoding: "utf8", maxBuffer: 256 << 20 });

function parseVersion(s) {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:\.(\d+))?$/.exec(s);
  return m ? m.slice(1).filter((x) => x !== undefined).map(Number) : undefined;
}
function cmpVersion(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d) return d;
  }
  return 0;
}

/** The releases a repository holds: tag name -> { commit, ref }. */
function releasesOf(dir) {
  const out = new Map();
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

// ---------------------------------------------------------------------------------------------
// Reading the C drivers (our own small reader of the few constructs the two test drivers use).

function stripComments(src) {
  // block and line comments, outside string literals
  let out = "";
  for (let i = 0; i < src.length; ) {
    const c = src[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === "\\" ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
    } else if (src.startsWith("/*", i)) {
      const j = src.indexOf("*/", i + 2);
      const body = src.slice(i, j < 0 ? src.length : j + 2);
      out += body.replace(/[^\n]/g, " ");
      i = j < 0 ? src.length : j + 2;
    } else if (src.startsWith("//", i)) {
      const j = src.indexOf("\n", i);
      i = j < 0 ? src.length : j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function splitArgs(s) {
  const args = [];
  let cur = "";
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
      cur += s.slice(i, j + 1);
      i = j;
    } else if (c === "(") (depth++, (cur += c));
    else if (c === ")") (depth--, (cur += c));
    else if (c === "," && depth === 0) (args.push(cur.trim()), (cur = ""));
    else cur += c;
  }
  if (cur.trim()) args.push(cur.trim());
  return args;
}

/** A C argument: adjacent string literals joined, or an integer. */
function cValue(arg, where) {
  if (/^-?\d+$/.test(arg)) return Number(arg);
  const parts = [...arg.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
  if (parts.length && arg.replace(/"((?:[^"\\]|\\.)*)"/g, "").trim() === "") return parts.join("").replace(/\\(.)/g, "$1");
  throw new Error(`${where}: cannot read argument ${arg}`);
}

/**
 * The DO_TEST rows of one driver: each call's arguments mapped to the fields of `struct testInfo`
 * (through the macro's parameter list and its `struct testInfo info = { ... }`), with the
 * preprocessor condition it sits under.
 */
function readDriver(src, where) {
  const code = stripComments(src);
  const structM = /struct\s+testInfo\s*\{([^}]*)\}/.exec(code);
  if (!structM) throw new Error(`${where}: no struct testInfo`);
  const fields = structM[1].split(";").map((d) => d.trim()).filter(Boolean).map((d) => /(\w+)\s*$/.exec(d)[1]);
  const defM = /#\s*define\s+DO_TEST\s*\(([^)]*)\)((?:[^\n]*\\\n)*[^\n]*)/.exec(code);
  if (!defM) throw new Error(`${where}: no #define DO_TEST`);
  const params = defM[1].split(",").map((s) => s.trim());
  const initM = /struct\s+testInfo\s+info\s*=\s*\{([^}]*)\}/.exec(defM[2]);
  if (!initM) throw new Error(`${where}: DO_TEST does not initialise struct testInfo`);
  const inits = initM[1].split(",").map((s) => s.trim()).filter(Boolean);
  // field -> macro parameter index
  const fieldParam = {};
  inits.forEach((p, k) => {
    const idx = params.indexOf(p);
    if (idx < 0) throw new Error(`${where}: DO_TEST initialiser ${p} is not a parameter`);
    fieldParam[fields[k]] = idx;
  });
  const body = code.slice(defM.index + defM[0].length);
  const rows = [];
  const conds = [];
  const lines = body.split("\n");
  let pending = "";
  for (const line of lines) {
    const pp = /^\s*#\s*(ifdef|ifndef|if|else|elif|endif)\b\s*(.*)$/.exec(line);
    if (pp) {
      const [, kw, rest] = pp;
      if (kw === "ifdef") conds.push({ name: rest.trim(), negated: false });
      else if (kw === "ifndef") conds.push({ name: rest.trim(), negated: true });
      else if (kw === "if") conds.push({ name: rest.trim(), negated: false });
      else if (kw === "else") {
        if (!conds.length) throw new Error(`${where}: #else without #if`);
        conds[conds.length - 1].negated = !conds[conds.length - 1].negated;
      } else if (kw === "elif") throw new Error(`${where}: #elif is not understood`);
      else conds.pop();
      continue;
    }
    pending += (pending ? "\n" : "") + line;
    // complete calls of DO_TEST(...) on the pending text
    for (;;) {
      const m = /\bDO_TEST\s*\(/.exec(pending);
      if (!m) {
        pending = "";
        break;
      }
      let depth = 0;
      let end = -1;
      for (let i = m.index + m[0].length - 1; i < pending.length; i++) {
        const c = pending[i];
        if (c === '"') {
          i++;
          while (i < pending.length && pending[i] !== '"') i += pending[i] === "\\" ? 2 : 1;
        } else if (c === "(") depth++;
        else if (c === ")" && --depth === 0) {
          end = i;
          break;
        }
      }
      if (end < 0) {
        pending = pending.slice(m.index);
        break;
      }
      const args = splitArgs(pending.slice(m.index + m[0].length, end)).map((a) => cValue(a, where));
      if (args.length !== params.length) throw new Error(`${where}: DO_TEST with ${args.length} arguments, the macro takes ${params.length}`);
      const info = {};
      for (const [f, idx] of Object.entries(fieldParam)) info[f] = args[idx];
      // "#if 0" rows are never compiled
      if (!conds.some((c) => c.name === "0" && !c.negated)) {
        const active = conds.filter((c) => !c.negated).map((c) => c.name);
        const inactive = conds.filter((c) => c.negated).map((c) => c.name);
        rows.push({ info, condition: [...active, ...inactive.map((n) => `!${n}`)].join(" && ") });
      }
      pending = pending.slice(end + 1);
    }
  }
  // the helper's file names: "%s/<dir>/<prefix>%s<suffix>", abs_srcdir, info-><field>
  const paths = [...code.matchAll(/"%s\/(\w+)\/([\w-]*)%s(\.\w+)"\s*,\s*abs_srcdir\s*,\s*info->(\w+)/g)].map((m) => ({
    dir: m[1],
    prefix: m[2],
    ext: m[3],
    field: m[4],
  }));
  const compare = /\bvirt?TestCompareToFile\s*\(/.test(code) ? "file" : /\bSTRNEQ\s*\(/.test(code) ? "exact" : undefined;
  if (!compare) throw new Error(`${where}: cannot tell how the driver compares (neither STRNEQ nor virTestCompareToFile)`);
  return { rows, paths, compare };
}

/** The loader of tests/testutils.c at a tag: strips trailing backslash-newline pairs or not, fixed buffer or not. */
function readLoader(src, where, driverSources) {
  if (!src) throw new Error(`${where}: no tests/testutils.c`);
  const strips = /remove trailing backslash-newline pair/.test(src) || /tmp\[len-2\]\s*==\s*'\\\\'/.test(src);
  const maxFile = driverSources.map((s) => /#define\s+MAX_FILE\s+(\d+)/.exec(s)).find(Boolean);
  return { stripContinuations: strips, maxBytes: maxFile ? Number(maxFile[1]) - 1 : null };
}

// ---------------------------------------------------------------------------------------------

const DIRECTIONS = [
  { direction: "sexpr2xml", driver: "tests/sexpr2xmltest.c", dir: "sexpr2xmldata", inputExt: ".sexpr", expectedExt: ".xml", hasName: false },
  { direction: "xml2sexpr", driver: "tests/xml2sexprtest.c", dir: "xml2sexprdata", inputExt: ".xml", expectedExt: ".sexpr", hasName: true },
];

function casesOf(tag, dirSpec, driver) {
  const where = `${tag}:${dirSpec.driver}`;
  const pathOf = (ext) => {
    const p = driver.paths.find((x) => x.dir === dirSpec.dir && x.ext === ext);
    if (!p) throw new Error(`${where}: no file name pattern for ${dirSpec.dir}/*${ext}`);
    return p;
  };
  const pIn = pathOf(dirSpec.inputExt);
  const pExp = pathOf(dirSpec.expectedExt);
  return driver.rows.map(({ info, condition }) => {
    if (condition && condition !== "WITH_RHEL5_API" && condition !== "!WITH_RHEL5_API") throw new Error(`${where}: DO_TEST under an unknown condition ${condition}`);
    const version = info.version;
    return {
      direction: dirSpec.direction,
      input: `${pIn.prefix}${info[pIn.field]}${pIn.ext}`,
      expected: `${pExp.prefix}${info[pExp.field]}${pExp.ext}`,
      version: version === undefined ? "-" : String(version),
      name: dirSpec.hasName && info.name !== undefined ? String(info.name) : "-",
      build: condition === "WITH_RHEL5_API" ? "WITH_RHEL5_API" : "-",
    };
  });
}

function catFiles(dir, shas) {
  // one git process for all blobs of a tag
  const r = spawnSync("git", ["--git-dir", dir, "cat-file", "--batch"], { input: shas.join("\n") + "\n", maxBuffer: 512 << 20 });
  if (r.status !== 0) throw new Error(`git cat-file failed: ${r.stderr}`);
  const buf = r.stdout;
  const out = new Map();
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

function extractTag(tag, src, outDir, asDir = false) {
  const { dir, commit, ref, label } = src;
  const show = (p) => {
    const r = spawnSync("git", ["--git-dir", dir, "show", `${commit}:${p}`], { encoding: "utf8", maxBuffer: 64 << 20 });
    return r.status === 0 ? r.stdout : undefined;
  };
  const drivers = DIRECTIONS.map((d) => show(d.driver));
  if (drivers.some((d) => d === undefined)) return undefined;
  const parsed = DIRECTIONS.map((d, k) => readDriver(drivers[k], `${tag}:${d.driver}`));
  const loader = readLoader(show("tests/testutils.c"), tag, drivers);
  const cases = DIRECTIONS.flatMap((d, k) => casesOf(tag, d, parsed[k]));

  const tree = git(dir, ["ls-tree", "-r", commit, "tests/sexpr2xmldata", "tests/xml2sexprdata"]);
  const entries = [];
  for (const line of tree.split("\n")) {
    const m = /^(\d+) (\w+) ([0-9a-f]{40})\t(.*)$/.exec(line);
    if (!m || m[2] !== "blob") continue;
    entries.push({ path: m[4].replace(/^tests\//, ""), gitSha: m[3] });
  }
  const contents = catFiles(dir, [...new Set(entries.map((e) => e.gitSha))]);
  const files = {};
  let bytes = 0;
  for (const e of entries.sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const data = contents.get(e.gitSha);
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
    const out = resolve(o.asDir);
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
    const { commit, ref } = repo.releases.get(tag);
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
    const count = (d) => rows.filter((r) => r[0] === d).length;
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
  console.error(`extract-libvirt-suites: ${e.message}`);
  process.exit(2);
}
