/**
 * Where a src:DIR build runs: the package check (dpkg's status database, or probes of PATH and
 * headers where there is none) on a fake machine, the `--build-in auto` decision, and the one-line
 * exit-2 error when the host lacks the packages and no Docker engine answers.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../harness/cli.js";
import { isHarnessError } from "../harness/errors.js";
import {
  BUILD_PACKAGES,
  bindMount,
  buildImageTag,
  cacheDirFor,
  decideBuildPlace,
  forgetSourceProfiles,
  imagePackages,
  installCommand,
  installedPackages,
  makeBuiltProfile,
  missingPackages,
  parseBuildIn,
  type PackageHost,
} from "../harness/libvirt/build/index.js";
import { captureIO } from "./support/cli-io.js";

afterEach(() => forgetSourceProfiles());

const statusOf = (pkgs: Record<string, string>) =>
  Object.entries(pkgs)
    .map(([p, st]) => `Package: ${p}\nStatus: ${st}\nPriority: optional\nVersion: 1.0\nDescription: x\n continued line\n`)
    .join("\n");

function fakeMachine(o: { status?: string; path?: string; files?: string[]; pythonModules?: string[] }): PackageHost {
  const files = new Set(o.files ?? []);
  return {
    env: { PATH: o.path ?? "/fake/bin", XEND_COMPAT_DPKG_STATUS: "/fake/status" },
    exists: (f) => files.has(f),
    readText: (f) => (f === "/fake/status" ? o.status : undefined),
    pythonImports: (m) => (o.pythonModules ?? []).includes(m),
  };
}

const ALL = BUILD_PACKAGES.map((p) => p.pkg);
const ERA_0_9 = BUILD_PACKAGES.filter((p) => !p.onlyFrom).map((p) => p.pkg);

describe("the build package check", () => {
  it("reads dpkg's status: only 'install ok installed' counts", () => {
    const s = statusOf({ gcc: "install ok installed", make: "deinstall ok config-files", perl: "install ok half-installed", "libxen-dev": "install ok installed" });
    expect([...installedPackages(s)].sort()).toEqual(["gcc", "libxen-dev"]);
  });

  it("with a dpkg status database, names exactly the packages it lacks, per era", () => {
    const have = Object.fromEntries(ALL.filter((p) => p !== "libxen-dev" && p !== "libnl-3-dev").map((p) => [p, "install ok installed"]));
    const m = fakeMachine({ status: statusOf(have) });
    expect(missingPackages("0.9.11", m)).toEqual(["libxen-dev"]);
    expect(missingPackages("4.5.0", m)).toEqual(["libxen-dev", "libnl-3-dev"]);
    expect(missingPackages(undefined, m)).toEqual(["libxen-dev", "libnl-3-dev"]);
    expect(missingPackages("0.9.11", fakeMachine({ status: statusOf(Object.fromEntries(ALL.map((p) => [p, "install ok installed"]))) }))).toEqual([]);
    expect(missingPackages("0.9.11", fakeMachine({ status: "" }))).toEqual(ERA_0_9);
  });

  it("without dpkg, probes a fake PATH, headers and Python modules", () => {
    const files = BUILD_PACKAGES.filter((p) => p.probe.startsWith("file:")).map((p) => p.probe.slice(5));
    const bins = BUILD_PACKAGES.filter((p) => p.probe.startsWith("bin:")).map((p) => `/fake/bin/${p.probe.slice(4)}`);
    const everything = fakeMachine({ files: [...files, ...bins], pythonModules: ["lib2to3"] });
    expect(missingPackages("4.5.0", everything)).toEqual([]);
    // rpcgen is on another PATH than the one given; one header and lib2to3 are missing.
    const some = fakeMachine({
      path: "/a:/fake/bin",
      files: [...files.filter((f) => f !== "/usr/include/gcrypt.h"), ...bins.filter((b) => !b.endsWith("/rpcgen")), "/elsewhere/rpcgen"],
    });
    expect(missingPackages("0.9.11", some)).toEqual(["python3-lib2to3", "rpcsvc-proto", "libgcrypt20-dev"]);
    expect(installCommand(missingPackages("0.9.11", some))).toBe("apt-get install -y --no-install-recommends python3-lib2to3 rpcsvc-proto libgcrypt20-dev");
  });

  it("the image holds every era's packages, and its tag is a hash of that list", () => {
    for (const p of ALL) expect(imagePackages()).toContain(p);
    expect(buildImageTag()).toMatch(/^xend-compat\/libvirt-build:bookworm-[0-9a-f]{12}$/);
    expect(buildImageTag(["a", "b"])).toBe(buildImageTag(["b", "a"]));
    expect(buildImageTag(["a", "b"])).not.toBe(buildImageTag(["a", "c"]));
  });
});

describe("--build-in: where a build runs", () => {
  const engineUp = async () => null;
  const engineDown = async () => "Cannot connect to the Docker daemon at unix:///nowhere.sock";

  it("auto: the host when it has the packages (the engine is not even asked)", async () => {
    let asked = 0;
    const d = await decideBuildPlace("auto", "0.9.11", [], async () => (asked++, null));
    expect(d.where).toBe("host");
    expect(asked).toBe(0);
  });

  it("auto: the container when packages are missing and an engine answers", async () => {
    const d = await decideBuildPlace("auto", "0.9.11", ["libxen-dev"], engineUp);
    expect(d).toMatchObject({ where: "container", missing: ["libxen-dev"] });
    expect(d.why).toContain("lacks libxen-dev");
  });

  it("auto: neither: one input.build error naming the packages and both ways out", async () => {
    const e = await decideBuildPlace("auto", "0.9.11", ["libxen-dev", "rpcsvc-proto"], engineDown).catch((x: unknown) => x);
    expect(isHarnessError(e) && e.code).toBe("input.build");
    const msg = (e as Error).message;
    expect(msg).toContain("libxen-dev, rpcsvc-proto");
    expect(msg).toContain("apt-get install -y --no-install-recommends libxen-dev rpcsvc-proto");
    expect(msg).toContain("--build-in container");
    expect(msg).toContain("unix:///nowhere.sock");
    expect(msg).not.toContain("\n");
  });

  it("host: refuses when packages are missing even if an engine answers; container: needs the engine, not the packages", async () => {
    await expect(decideBuildPlace("host", "0.9.11", ["gcc"], engineUp)).rejects.toThrow(/--build-in host\) needs Debian packages it lacks: gcc; install them with: apt-get install .* gcc/);
    expect((await decideBuildPlace("host", "0.9.11", [], engineDown)).where).toBe("host");
    expect((await decideBuildPlace("container", "0.9.11", [], engineUp)).where).toBe("container");
    await expect(decideBuildPlace("container", "0.9.11", [], engineDown)).rejects.toThrow(/--build-in container\) needs a Docker engine: Cannot connect.*--build-in host/);
  });

  it("an unknown place is a usage error (env and option)", async () => {
    expect(parseBuildIn(undefined)).toBe("auto");
    expect(parseBuildIn(" container ")).toBe("container");
    expect(() => parseBuildIn("vm")).toThrow(/XEND_COMPAT_BUILD_IN: 'vm' is not one of host, container, auto/);
    const o = captureIO(process.cwd(), {});
    expect(await main(["--build-in", "vm", "doctor"], o)).toBe(2);
    expect(o.stderr.trim()).toBe("xend-compat: --build-in needs one of host, container, auto (not 'vm')");
  });
});

describe("paths a build cannot use", () => {
  it("a build cache whose path has white space, ':' or a quote is refused by name (libtool and the loader's library path split on them)", () => {
    for (const bad of ["/tmp/my cache", "/tmp/a:b", "/tmp/it's", "/tmp/tab\there", "/tmp/$HOME"]) {
      let e: unknown;
      try {
        cacheDirFor("/src/libvirt", { XEND_COMPAT_BUILD_CACHE: bad });
      } catch (err) {
        e = err;
      }
      expect(isHarnessError(e, "input.usage"), bad).toBe(true);
      expect((e as Error).message).toContain("XEND_COMPAT_BUILD_CACHE");
    }
    expect(cacheDirFor("/src/libvirt", { XEND_COMPAT_BUILD_CACHE: "/tmp/plain-cache" })).toMatch(/^\/tmp\/plain-cache\/[0-9a-f]{16}$/);
  });

  it("a bind mount names its directory as docker's CSV --mount fields (a ':' or ',' in a path stays in it)", () => {
    expect(bindMount("/x/y", "rw")).toBe("type=bind,source=/x/y,target=/x/y");
    expect(bindMount("/x/a:b", "ro")).toBe("type=bind,source=/x/a:b,target=/x/a:b,readonly");
    expect(bindMount('/x/a,b"c', "ro")).toBe('type=bind,"source=/x/a,b""c","target=/x/a,b""c",readonly');
  });
});

describe("the project config's build-in", () => {
  it("decides where a tree builds unless XEND_COMPAT_BUILD_IN (or --build-in) says otherwise", async () => {
    const proj = mkdtempSync(join(tmpdir(), "xc-proj-"));
    writeFileSync(join(proj, "xend-compat.config.yaml"), "build-in: host\n");
    const d = join(proj, "libvirt");
    mkdirSync(join(d, "src", "xenxs"), { recursive: true });
    writeFileSync(join(d, "configure.ac"), "AC_INIT([libvirt], [0.9.11], [list@example.org])\n");
    writeFileSync(join(d, "src", "xenxs", "xen_sxpr.c"), "/* stand-in */\n");
    mkdirSync(join(d, ".gnulib"));
    writeFileSync(join(d, ".gnulib", "gnulib-tool"), "#!/bin/sh\n");
    writeFileSync(join(proj, "empty-status"), "");
    const env: NodeJS.ProcessEnv = { ...process.env, XEND_COMPAT_DPKG_STATUS: join(proj, "empty-status"), XEND_COMPAT_BUILD_CACHE: join(proj, "cache") };
    delete env.XEND_COMPAT_BUILD_IN;
    // The config says host: the missing packages are refused for the host, not sent to a container.
    await expect(makeBuiltProfile("src:libvirt", proj, env, () => undefined).prepare()).rejects.toThrow(/on this host \(--build-in host\) needs Debian packages it lacks: gcc, /);
    // The variable wins over the config (container with no engine: the engine is named).
    const noEngine = { ...env, XEND_COMPAT_BUILD_IN: "container", DOCKER_HOST: `unix://${join(proj, "none.sock")}` };
    const prevHost = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = noEngine.DOCKER_HOST;
    try {
      await expect(makeBuiltProfile("src:libvirt", proj, noEngine, () => undefined).prepare()).rejects.toThrow(/in a container \(--build-in container\) needs a Docker engine/);
    } finally {
      if (prevHost === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = prevHost;
    }
  });
});

describe("a src:DIR build with neither the packages nor a Docker engine", () => {
  it("is exit 2 with one line naming the packages, the install command and the container way, before anything is built", async () => {
    const d = mkdtempSync(join(tmpdir(), "xc-tree-"));
    writeFileSync(join(d, "configure.ac"), "AC_INIT([libvirt], [0.9.11], [list@example.org])\n");
    mkdirSync(join(d, "src", "xenxs"), { recursive: true });
    writeFileSync(join(d, "src", "xenxs", "xen_sxpr.c"), "/* stand-in */\n");
    mkdirSync(join(d, ".gnulib"));
    writeFileSync(join(d, ".gnulib", "gnulib-tool"), "#!/bin/sh\n");
    const empty = join(d, "empty-status");
    writeFileSync(empty, "");
    const cache = mkdtempSync(join(tmpdir(), "xc-cache-"));
    const vars = { XEND_COMPAT_DPKG_STATUS: empty, DOCKER_HOST: `unix://${join(d, "no-engine.sock")}`, XEND_COMPAT_BUILD_CACHE: cache, XEND_COMPAT_BUILD_IN: "auto" };
    const prev = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    try {
      const o = captureIO(process.cwd(), {});
      const t0 = Date.now();
      const code = await main(["convert", "--libvirt", `src:${d}`, "--to", "sxpr", join(process.cwd(), "fixtures/domains/hvm-utc.xml")], o);
      expect(code).toBe(2);
      const lines = o.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^xend-compat convert: building libvirt 0\.9\.11 needs Debian packages this host lacks: gcc, make, .*libxen-dev; either install them \(apt-get install -y --no-install-recommends gcc make .*\) or start a Docker engine so the build runs in a container image that has them \(--build-in container; no engine now: .*\)$/);
      expect(o.stdout).toBe("");
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      for (const [k, v] of Object.entries(prev)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
});
