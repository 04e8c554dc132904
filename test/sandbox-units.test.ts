/**
 * Parts of the sandbox backend that need no Xen tree: tree detection and provenance, request →
 * domain-name bookkeeping, and (with a Python 2.7) the fake xenstore's xenstored-like semantics.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  domainNamesOf,
  familyOfVersion,
  seriesRangeOfTree,
  checkTreeSeries,
  findPython2,
  openTree,
  parseOriginFile,
  prepareDockerContext,
  IN_CONTAINER_ENV,
  launch,
  placeholderModeRefusal,
  privateMountNamespace,
  PY_DIR,
  startSandbox,
} from "../harness/sandbox/index.js";
import { encodeForm } from "../harness/libvirt/index.js";
import { libvirtGet, libvirtPost } from "../harness/xend/index.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "xc-sandbox-units-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function fakeTree(name: string, lowlevel: string[]): string {
  const root = path.join(tmp, name);
  fs.mkdirSync(path.join(root, "tools", "python", "xen", "xend"), { recursive: true });
  fs.writeFileSync(path.join(root, "tools", "python", "xen", "xend", "XendDomain.py"), "# not real\n");
  for (const l of lowlevel) fs.mkdirSync(path.join(root, "tools", "python", "xen", "lowlevel", l), { recursive: true });
  return root;
}

describe("Xen tree detection and provenance", () => {
  it("parses origin files (key=value, comments, unknown keys ignored)", () => {
    expect(parseOriginFile("# x\nrepo=github:a/b\ncommit=abc\nref = R-1\nversion=4.1.2\nnote=n = m\n\nbogus")).toEqual({
      repo: "github:a/b",
      commit: "abc",
      ref: "R-1",
      note: "n = m",
    });
  });

  it("maps version strings to xend families", () => {
    expect(familyOfVersion("3.2")).toBe("3.2");
    expect(familyOfVersion("3.2.2")).toBe("3.2");
    expect(familyOfVersion("3.4.3")).toBe("3.4");
    expect(familyOfVersion("4.1.2")).toBe("4.1");
    expect(familyOfVersion("3.0.0")).toBe("3.0");
    expect(familyOfVersion("4.0.1")).toBe("4.0");
    expect(familyOfVersion("4.4.4")).toBe("4.4");
    expect(familyOfVersion("custom")).toBeUndefined();
  });

  it("finds tools/python, tells the family from the tree, and takes provenance from an origin file", () => {
    const t41 = fakeTree("t41", ["xc", "checkpoint", "xl", "acm"]);
    fs.writeFileSync(path.join(t41, ".xend-compat-origin"), "repo=github:x/y\ncommit=0123\nref=RELEASE-4.1.2\n");
    const t = openTree(t41);
    expect(t.pythonDir).toBe(path.join(t41, "tools", "python"));
    expect(t.family).toBe("4.1");
    expect(t.origin).toMatchObject({ repo: "github:x/y", commit: "0123", ref: "RELEASE-4.1.2" });
    expect(t.originSource).toMatch(/^origin-file /);
    // the option wins over the file; tools/python itself may be given
    const t2 = openTree(path.join(t41, "tools", "python"), { repo: "tarball xen-4.1.2.tar.gz", commit: "sha256:ff" });
    expect(t2.origin).toMatchObject({ repo: "tarball xen-4.1.2.tar.gz", commit: "sha256:ff" });
    expect(t2.originSource).toBe("option");
    expect(openTree(fakeTree("t34", ["xc", "process"])).family).toBe("3.4");
    const t32 = openTree(fakeTree("t32", ["xc", "acm", "flask"]));
    expect(t32.family).toBe("3.2");
    expect(seriesRangeOfTree(t32.pythonDir)).toEqual({ min: "3.2", max: "3.3" });
    expect(seriesRangeOfTree(fakeTree("t40", ["xc", "checkpoint", "acm"]) + "/tools/python")).toEqual({ min: "4.0", max: "4.0" });
    expect(seriesRangeOfTree(fakeTree("t44", ["xc", "checkpoint", "xl"]) + "/tools/python")).toEqual({ min: "4.2", max: "4.4" });
    expect(seriesRangeOfTree(fakeTree("t30", ["xc", "xs"]) + "/tools/python")).toEqual({ min: "3.0", max: "3.0" });
    expect(() => checkTreeSeries(openTree(fakeTree("t40b", ["xc", "checkpoint"])), "4.1.2")).toThrow(/holds a 4\.0\.x xend/);
    expect(t32.origin.commit).toBe("unknown");
    expect(t32.originSource).toBe("none");
  });

  const hasGit = spawnSync("git", ["--version"]).status === 0;
  it.skipIf(!hasGit)(`takes provenance from a git work tree that tracks the tree (and not from an unrelated one)${hasGit ? "" : " (skipped: no git)"}`, () => {
    const root = fakeTree("tgit", ["checkpoint"]);
    const git = (...a: string[]) => spawnSync("git", a, { cwd: root, encoding: "utf8" });
    expect(git("init", "-q").status).toBe(0);
    git("-c", "user.email=x@y", "-c", "user.name=x", "add", ".");
    git("-c", "user.email=x@y", "-c", "user.name=x", "commit", "-qm", "tree");
    git("remote", "add", "origin", "https://example.invalid/xen.git");
    const head = git("rev-parse", "HEAD").stdout.trim();
    const t = openTree(root);
    expect(t.origin).toMatchObject({ repo: "https://example.invalid/xen.git", commit: head });
    expect(t.originSource).toBe(`git ${root}`);
    // an untracked tree inside that repository is not described by it
    const inner = fakeTree(path.join("tgit", "inner"), ["process"]);
    expect(openTree(inner).originSource).toBe("none");
  });

  it("rejects a directory that holds no xend, naming it (input.usage)", async () => {
    const empty = path.join(tmp, "empty");
    fs.mkdirSync(empty);
    expect(() => openTree(empty)).toThrow(/no Xen tree at .*empty: expected tools\/python\/xen\/xend/);
    expect(() => openTree(path.join(tmp, "missing"))).toThrow(/does not exist/);
    await expect(startSandbox({ xenSrc: empty, xendVersion: "4.1.2" })).rejects.toMatchObject({ code: "input.usage" });
    await expect(startSandbox({ xenSrc: fakeTree("t34b", ["process"]), xendVersion: "4.1.2" })).rejects.toThrow(
      /does not match the Xen tree .* holds a 3\.4\.x xend/,
    );
  });

  it("prepares a Docker build context with the tree's tools/python and its origin", () => {
    const t = fakeTree("tctx", ["checkpoint"]);
    fs.writeFileSync(path.join(t, ".xend-compat-origin"), "repo=github:x/y\ncommit=0123\n");
    const ctx = prepareDockerContext({ xenSrc: t, dir: path.join(tmp, "ctx") });
    expect(fs.existsSync(path.join(ctx.dir, "Dockerfile"))).toBe(true);
    expect(fs.existsSync(path.join(ctx.dir, "py", "sandbox_main.py"))).toBe(true);
    expect(fs.existsSync(path.join(ctx.dir, "xen-tree", "tools", "python", "xen", "xend", "XendDomain.py"))).toBe(true);
    expect(fs.readFileSync(path.join(ctx.dir, "xen-tree", ".xend-compat-origin"), "utf8")).toMatch(/^repo=github:x\/y\ncommit=0123\n/);
    expect(fs.readFileSync(path.join(ctx.dir, "Dockerfile"), "utf8")).toMatch(/LABEL org\.xend-compat=true/);
  });
});

describe("which domains a request touches", () => {
  it("reads the name from the path or from a posted config, whatever the wire encoding", () => {
    expect(domainNamesOf(libvirtGet("/xend/domain/a%20b?detail=1"))).toEqual({ touched: ["a b"], defined: [] });
    expect(domainNamesOf(libvirtPost("/xend/domain/x1", "op=start"))).toEqual({ touched: ["x1"], defined: [] });
    const cfg = "(vm (name xc-hvm) (memory 64) (image (hvm (localtime 1))))";
    for (const enc of ["uri", "raw"] as const) {
      expect(domainNamesOf(libvirtPost("/xend/domain/", encodeForm(enc, [["op", "new"], ["config", cfg]])))).toEqual({
        touched: ["xc-hvm"],
        defined: ["xc-hvm"],
      });
    }
    expect(domainNamesOf(libvirtGet("/xend/node/"))).toEqual({ touched: [], defined: [] });
    expect(domainNamesOf(libvirtPost("/xend/domain/", "op=new&config=(vm"))).toEqual({ touched: [], defined: [] });
  });
});

// ---- the fake xenstore behaves like xenstored where xend depends on it
let py: string | undefined;
let pyWhy = "";
try {
  py = findPython2().path;
} catch (e) {
  pyWhy = (e as Error).message;
}

const XS_CHECK = String.raw`
import json, sys
sys.path.insert(0, sys.argv[1])
import fake_xs
out = {}
h = fake_xs.xs()
st = fake_xs.store()
def drain():
    ev = []
    while h._events:
        p, t = h._events.pop(0)
        ev.append([p, t])
    return ev
h.watch('/vm/u1', 'A')
out['on_register'] = drain()
h.write('', '/vm/u1/rtc/timeoffset', '3600')
out['below'] = drain()
h.write('', '/vm/u2', 'x')
out['elsewhere'] = drain()
h.watch('/vm/u1/rtc/timeoffset', 'B'); drain()
h.rm('', '/vm/u1')
out['rm_ancestor'] = sorted(drain())
out['read_missing'] = h.read('', '/vm/u1/rtc/timeoffset')
out['ls_missing'] = h.ls('', '/vm/u1')
h.watch('@releaseDomain', 'R'); drain()
h.write('', '/local/domain/3/x', '1')
out['special_not_prefix'] = [e for e in drain() if e[1] == 'R']
h.release_domain(3)
out['release'] = [e for e in drain() if e[1] == 'R']
h.watch('/tx', 'T'); drain()
t = h.transaction_start()
h.write(t, '/tx/a', '1')
out['tx_held'] = drain()
out['tx_read_inside'] = h.read(t, '/tx/a')
h.transaction_end(t, False)
out['tx_commit'] = drain()
t = h.transaction_start()
h.write(t, '/tx/a', '2'); h.write(t, '/tx/b', '3')
h.transaction_end(t, True)
out['tx_abort'] = [drain(), h.read('', '/tx/a'), h.read('', '/tx/b')]
h.write('', 'relative/key', 'v')
out['relative'] = h.read('', '/local/domain/0/relative/key')
h.mkdir('', '/perm')
h.set_permissions('', '/perm', [{'dom': 5, 'read': True}])
h.write('', '/perm/child', 'c')
out['perm_owner_forced'] = h.get_permissions('', '/perm')
out['perm_inherited'] = h.get_permissions('', '/perm/child')
try:
    h.get_permissions('', '/nope'); out['perm_missing'] = 'no error'
except fake_xs.Error, e:
    out['perm_missing'] = [e.args[0], isinstance(e, RuntimeError)]
try:
    h.unwatch('/never', 'Z'); out['unwatch_unknown'] = 'no error'
except fake_xs.Error, e:
    out['unwatch_unknown'] = e.args[0]
print json.dumps(out)
`;

describe.skipIf(!py)(`fake xenstore semantics${py ? "" : ` (skipped: ${pyWhy})`}`, () => {
  it("fires watches like xenstored, holds transaction events until commit, undoes aborts", () => {
    const r = spawnSync(py!, ["-c", XS_CHECK, PY_DIR], { encoding: "utf8", env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(o.on_register).toEqual([["/vm/u1", "A"]]);
    expect(o.below).toEqual([["/vm/u1/rtc/timeoffset", "A"]]);
    expect(o.elsewhere).toEqual([]);
    expect(o.rm_ancestor).toEqual([
      ["/vm/u1", "A"],
      ["/vm/u1/rtc/timeoffset", "B"],
    ]);
    expect(o.read_missing).toBeNull();
    expect(o.ls_missing).toBeNull();
    expect(o.special_not_prefix).toEqual([]);
    expect(o.release).toEqual([["@releaseDomain", "R"]]);
    expect(o.tx_held).toEqual([]);
    expect(o.tx_read_inside).toBe("1");
    expect(o.tx_commit).toEqual([["/tx/a", "T"]]);
    expect(o.tx_abort).toEqual([[], "1", null]);
    expect(o.relative).toBe("v");
    expect(o.perm_owner_forced).toEqual([
      { dom: 0, read: 0, write: 0 },
      { dom: 5, read: 1, write: 0 },
    ]);
    expect(o.perm_inherited).toEqual(o.perm_owner_forced);
    expect(o.perm_missing).toEqual([2, true]);
    expect(o.unwatch_unknown).toBe(2);
  });
});

describe("placeholder modes that could write the host's directories are refused", () => {
  it("namespace without unshare, and direct outside the sandbox image, are refused with the fix named", () => {
    expect(placeholderModeRefusal({ placeholders: "namespace" }, {})).toMatch(/needs a private mount namespace, and no unshare .*run as root with util-linux's unshare/);
    expect(placeholderModeRefusal({ placeholders: "namespace", unshare: "/usr/bin/unshare" }, {})).toBeUndefined();
    expect(placeholderModeRefusal({ placeholders: "direct" }, {})).toMatch(/only allowed inside the sandbox container image \(XEND_COMPAT_IN_CONTAINER=1/);
    expect(placeholderModeRefusal({ placeholders: "direct" }, { [IN_CONTAINER_ENV]: "1" })).toBeUndefined();
    expect(placeholderModeRefusal({ placeholders: "none" }, {})).toBeUndefined();
    // The sandbox image's Dockerfile is what sets it.
    expect(fs.readFileSync(path.join(PY_DIR, "..", "Dockerfile"), "utf8")).toMatch(/^ENV .*\bXEND_COMPAT_IN_CONTAINER=1\b/m);
  });

  it("launch() refuses namespace mode without unshare before starting anything", async () => {
    const base = { python: "/nonexistent/python2.7", pythonDir: tmp, stateDir: tmp, tz: "UTC", listen: "tcp" as const, host: "127.0.0.1", extraPlaceholders: [], startTimeoutMs: 1000 };
    await expect(launch({ ...base, placeholders: "namespace" })).rejects.toMatchObject({ code: "backend.unavailable", message: expect.stringMatching(/no unshare/) });
    const saved = process.env[IN_CONTAINER_ENV];
    delete process.env[IN_CONTAINER_ENV];
    try {
      await expect(launch({ ...base, placeholders: "direct" })).rejects.toMatchObject({ code: "backend.unavailable", message: expect.stringMatching(/'direct' creates files at host paths/) });
    } finally {
      if (saved !== undefined) process.env[IN_CONTAINER_ENV] = saved;
    }
  });
});

describe.skipIf(!py)(`placeholder modes, Python side${py ? "" : ` (skipped: ${pyWhy})`}`, () => {
  const CHECK = `
import json, sys
sys.path.insert(0, sys.argv[1])
import placeholders as p
print json.dumps({'ns': p.private_mount_namespace(), 'namespace': p.mode_refusal('namespace'),
                  'direct': p.mode_refusal('direct', {}), 'directIn': p.mode_refusal('direct', {'XEND_COMPAT_IN_CONTAINER': '1'})})
`;
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: "1" };
  delete env[IN_CONTAINER_ENV];

  it("in the host's mount namespace: namespace mode is refused (no overlay may be mounted); direct only with XEND_COMPAT_IN_CONTAINER=1", () => {
    const r = spawnSync(py!, ["-c", CHECK, PY_DIR], { encoding: "utf8", env });
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as Record<string, string | null>;
    expect(o.ns).toMatch(/shares the mount namespace of (pid 1|the parent process)/);
    expect(o.namespace).toMatch(/needs a private mount namespace.*unshare --mount --propagation private/);
    expect(o.direct).toMatch(/only allowed inside the sandbox container image/);
    expect(o.directIn).toBeNull();
  });

  const ns = privateMountNamespace();
  it.skipIf(!ns.ok)(`under unshare --mount the namespace is private and namespace mode is allowed${ns.ok ? "" : ` (skipped: ${ns.why})`}`, () => {
    const r = spawnSync(ns.ok ? ns.unshare : "", ["--mount", "--propagation", "private", "--", py!, "-c", CHECK, PY_DIR], { encoding: "utf8", env });
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as Record<string, string | null>;
    expect(o.ns).toBeNull();
    expect(o.namespace).toBeNull();
  });

  it("sandbox_main.py run directly with --placeholders namespace or direct fails at once with the reason (nothing mounted)", () => {
    for (const [mode, re] of [
      ["namespace", /needs a private mount namespace/],
      ["direct", /only allowed inside the sandbox container image/],
    ] as const) {
      const state = fs.mkdtempSync(path.join(tmp, `main-${mode}-`));
      const r = spawnSync(py!, ["-u", path.join(PY_DIR, "sandbox_main.py"), "--tree", tmp, "--state-dir", state, "--placeholders", mode], { encoding: "utf8", env, input: "" });
      expect(r.status, r.stderr).toBe(1);
      const failed = /^XEND-COMPAT-FAILED (.*)$/m.exec(r.stdout);
      expect(failed, r.stdout).not.toBeNull();
      expect((JSON.parse(failed![1]) as { error: string }).error).toMatch(re);
      expect(fs.readdirSync(state)).toEqual([]);
      // Nothing mounted here from its state dir (an overlay's tmpfs would be under it).
      expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(state);
    }
  });
});

describe("what a tree needs is learnt from the tree (py/tree_needs.py)", () => {
  let python: string | undefined;
  try {
    python = findPython2().path;
  } catch {
    python = undefined;
  }
  const scan = (dir: string) => {
    const r = spawnSync(python!, ["-c", "import json, sys, tree_needs; print(json.dumps(tree_needs.scan(sys.argv[1])))", dir], { cwd: PY_DIR, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { lowlevel: string[]; physinfo: string[]; cpupool: boolean; getinfoDom: boolean; osdep: boolean; missing: string[] };
  };
  const tree = (name: string, files: Record<string, string>) => {
    const root = path.join(tmp, name, "tools", "python");
    for (const [f, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      fs.writeFileSync(path.join(root, f), text);
    }
    return root;
  };

  it.skipIf(!python)(`reads the lowlevel modules, physinfo fields and getinfo keys a tree uses${python ? "" : " (skipped: no Python 2.7)"}`, () => {
    const t = scan(
      tree("needs-ok", {
        "xen/xend/XendDomain.py": "import xen.lowlevel.xc\nfrom xen.lowlevel import xs, acm\ndef f(d):\n    return d['dom']\n",
        "xen/xend/XendNode.py": "ORDER = ['nr_cpus', 'max_node_id', 'virt_caps']\ndef g(physinfo):\n    return physinfo['cpu_mhz']\n",
        "xen/xend/XendDomainInfo.py": "x = info['cpupool']\n",
        "xen/xend/osdep.py": "",
      }),
    );
    expect(t.lowlevel).toEqual(["acm", "xc", "xs"]);
    expect(t.physinfo).toEqual(expect.arrayContaining(["nr_cpus", "max_node_id", "virt_caps"]));
    expect(t.physinfo).not.toContain("node_to_dma32_mem");
    expect(t).toMatchObject({ cpupool: true, getinfoDom: true, osdep: true, missing: [] });
  });

  it.skipIf(!python)(`names what an unknown tree needs that the fakes cannot make, with file:line${python ? "" : " (skipped: no Python 2.7)"}`, () => {
    const t = scan(
      tree("needs-missing", {
        "xen/xend/XendDomain.py": "import xen.lowlevel.xc\n\nimport xen.lowlevel.hypothetical\n",
        "xen/xend/XendNode.py": "def g(physinfo):\n    return physinfo['quantum_flux']\n",
      }),
    );
    expect(t.missing).toEqual([
      "the tree imports xen.lowlevel.hypothetical (xend/XendDomain.py:3), which the sandbox has no fake for",
      "the tree reads physinfo field 'quantum_flux' (xend/XendNode.py:2), which the fake hypervisor does not make",
    ]);
  });

  it.skipIf(!python)(`refuses to start such a tree: one error naming what is missing${python ? "" : " (skipped: no Python 2.7)"}`, async () => {
    const root = tree("needs-start", {
      "xen/xend/XendDomain.py": "import xen.lowlevel.xc\nimport xen.lowlevel.hypothetical\n",
      "xen/lowlevel/xc/xc.c": "",
      "xen/__init__.py": "",
    });
    await expect(startSandbox({ xenSrc: root, xendVersion: "3.0.0", placeholders: "none", startTimeoutMs: 20_000 })).rejects.toThrow(
      /cannot run the xend of .*xen\.lowlevel\.hypothetical \(xend\/XendDomain\.py:2\)/,
    );
  });
});
