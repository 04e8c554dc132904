/**
 * The Debian packages a libvirt build needs, whether this machine has them, and where a build runs
 * (`--build-in host|container|auto`, XEND_COMPAT_BUILD_IN): on the host when it has the packages, in a
 * container image that has them when a Docker engine answers, else one clear error (exit 2) naming
 * the packages and both ways out.
 *
 * Everything the check reads (PATH, files, dpkg's status database, Python imports) comes through a
 * `PackageHost`, so tests give it a fake machine.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { HarnessError } from "../../errors.js";

/** Debian packages a build needs, with one file or program each that shows it is there (used where there is no dpkg). */
export const BUILD_PACKAGES: { pkg: string; probe: string; onlyFrom?: string }[] = [
  { pkg: "gcc", probe: "bin:gcc" },
  { pkg: "make", probe: "bin:make" },
  { pkg: "perl", probe: "bin:perl" },
  { pkg: "python3", probe: "bin:python3" },
  { pkg: "python3-lib2to3", probe: "py:lib2to3" },
  { pkg: "pkg-config", probe: "bin:pkg-config" },
  { pkg: "autoconf", probe: "bin:autoconf" },
  { pkg: "automake", probe: "bin:automake" },
  { pkg: "libtool", probe: "bin:libtoolize" },
  { pkg: "autopoint", probe: "bin:autopoint" },
  { pkg: "gettext", probe: "bin:msgfmt" },
  { pkg: "rpcsvc-proto", probe: "bin:rpcgen" },
  { pkg: "xsltproc", probe: "bin:xsltproc" },
  { pkg: "libxml2-utils", probe: "bin:xmllint" },
  { pkg: "libxml2-dev", probe: "file:/usr/include/libxml2/libxml/parser.h" },
  { pkg: "libgnutls28-dev", probe: "file:/usr/include/gnutls/gnutls.h" },
  { pkg: "libgcrypt20-dev", probe: "file:/usr/include/gcrypt.h" },
  { pkg: "libtirpc-dev", probe: "file:/usr/include/tirpc/rpc/rpc.h" },
  { pkg: "libreadline-dev", probe: "file:/usr/include/readline/readline.h" },
  { pkg: "libxen-dev", probe: "file:/usr/include/xenstore.h" },
  { pkg: "libnl-3-dev", probe: "file:/usr/include/libnl3/netlink/netlink.h", onlyFrom: "3.0.0" },
  { pkg: "libnl-route-3-dev", probe: "file:/usr/include/libnl3/netlink/route/link.h", onlyFrom: "3.0.0" },
];

/**
 * What the build image has besides BUILD_PACKAGES: tools a Debian host nearly always has (so the host
 * check does not ask for them) but a minbase image lacks, and the two -dev packages the measured host
 * builds had preinstalled (facts: not known to be unneeded).
 */
export const IMAGE_EXTRA_PACKAGES = ["bzip2", "file", "git", "gzip", "libncurses-dev", "patch", "tar", "uuid-dev", "xz-utils"];

/** What the package check may look at. */
export interface PackageHost {
  env: NodeJS.ProcessEnv;
  exists(file: string): boolean;
  readText(file: string): string | undefined;
  /** Does `python3 -c 'import <mod>'` succeed? */
  pythonImports(mod: string): boolean;
}

export function realPackageHost(env: NodeJS.ProcessEnv = process.env): PackageHost {
  return {
    env,
    exists: (f) => fs.existsSync(f),
    readText: (f) => {
      try {
        return fs.readFileSync(f, "utf8");
      } catch {
        return undefined;
      }
    },
    pythonImports: (mod) => spawnSync("python3", ["-c", `import ${mod}`], { stdio: "ignore", env }).status === 0,
  };
}

/** dpkg's status database (XEND_COMPAT_DPKG_STATUS overrides it: a chroot's, or a test's). */
export function dpkgStatusFile(env: NodeJS.ProcessEnv): string {
  return env.XEND_COMPAT_DPKG_STATUS || "/var/lib/dpkg/status";
}

/** Names of the packages dpkg's status database says are installed (`Status: install ok installed`). */
export function installedPackages(statusText: string): Set<string> {
  const out = new Set<string>();
  for (const para of statusText.split(/\n\s*\n/)) {
    const name = /^Package:\s*(\S+)/m.exec(para)?.[1];
    const status = /^Status:\s*(.*)$/m.exec(para)?.[1]?.trim();
    if (name && status && /\binstalled$/.test(status) && !/not-installed|config-files|half-installed/.test(status)) out.add(name);
  }
  return out;
}

function cmp(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** The packages a tree of `version` needs (every era's when no version is given). */
export function packagesFor(version?: string): typeof BUILD_PACKAGES {
  return BUILD_PACKAGES.filter((p) => !(version && p.onlyFrom && cmp(version, p.onlyFrom) < 0));
}

/**
 * The build packages this machine lacks, for a tree of `version` (or for every era without one). On
 * a Debian machine dpkg's status database decides (that is what the install command changes);
 * without one, each package's probe (a program on PATH, a header, a Python module).
 */
export function missingPackages(version?: string, host: PackageHost = realPackageHost()): string[] {
  const status = host.readText(dpkgStatusFile(host.env));
  const installed = status !== undefined ? installedPackages(status) : null;
  const dirs = (host.env.PATH ?? "").split(":").filter(Boolean);
  const out: string[] = [];
  for (const p of packagesFor(version)) {
    let ok: boolean;
    if (installed) ok = installed.has(p.pkg);
    else {
      const at = p.probe.indexOf(":");
      const [kind, what] = [p.probe.slice(0, at), p.probe.slice(at + 1)];
      if (kind === "bin") ok = dirs.some((d) => host.exists(path.join(d, what)));
      else if (kind === "file") ok = host.exists(what);
      else ok = host.pythonImports(what);
    }
    if (!ok) out.push(p.pkg);
  }
  return out;
}

export function installCommand(pkgs: string[]): string {
  return `apt-get install -y --no-install-recommends ${pkgs.join(" ")}`;
}

// ---- where a build runs ----------------------------------------------------------------------

export const BUILD_IN = ["host", "container", "auto"] as const;
export type BuildIn = (typeof BUILD_IN)[number];

/** `--build-in` / XEND_COMPAT_BUILD_IN, checked (unset: auto). */
export function parseBuildIn(value: string | undefined, from = "XEND_COMPAT_BUILD_IN"): BuildIn {
  const v = (value ?? "").trim();
  if (!v) return "auto";
  if ((BUILD_IN as readonly string[]).includes(v)) return v as BuildIn;
  throw new HarnessError("input.usage", `${from}: '${v}' is not one of host, container, auto`);
}

export interface PlaceDecision {
  where: "host" | "container";
  /** The packages the host lacks (empty when it has them all). */
  missing: string[];
  /** Why this place, one phrase (for progress lines). */
  why: string;
}

/**
 * Where a build of a tree of `version` runs. `engine()` says whether a Docker engine answers (null)
 * or why not (a phrase); it is asked only when the container is an option.
 */
export async function decideBuildPlace(mode: BuildIn, version: string, missing: string[], engine: () => Promise<string | null>): Promise<PlaceDecision> {
  const install = missing.length ? installCommand(missing) : "";
  if (mode === "host") {
    if (missing.length)
      throw new HarnessError(
        "input.build",
        `building libvirt ${version} on this host (--build-in host) needs Debian packages it lacks: ${missing.join(", ")}; install them with: ${install} (or build in a container image that has them: --build-in container, with a Docker engine)`,
      );
    return { where: "host", missing, why: "--build-in host" };
  }
  if (mode === "auto" && !missing.length) return { where: "host", missing, why: "this host has the build packages" };
  const noEngine = await engine();
  if (noEngine !== null) {
    if (mode === "container")
      throw new HarnessError(
        "input.build",
        `building libvirt ${version} in a container (--build-in container) needs a Docker engine: ${noEngine}${missing.length ? `; or install the build packages and build on this host: ${install}` : "; or build on this host: --build-in host"}`,
      );
    throw new HarnessError(
      "input.build",
      `building libvirt ${version} needs Debian packages this host lacks: ${missing.join(", ")}; either install them (${install}) or start a Docker engine so the build runs in a container image that has them (--build-in container; no engine now: ${noEngine})`,
    );
  }
  return { where: "container", missing, why: mode === "container" ? "--build-in container" : `this host lacks ${missing.join(", ")} and a Docker engine answers` };
}
