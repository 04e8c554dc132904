/**
 * Finding a Python 2.7 to run xend with, and the private mount namespace the sandbox uses for
 * placeholder files. Order for Python: the caller's `python`, `XEND_COMPAT_PYTHON`, pyenv's 2.7.18
 * (`$PYENV_ROOT` or `~/.pyenv`), then `python2.7` / `python2` on PATH. The pyenv shim is skipped:
 * without PYENV_VERSION it fails.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HarnessError } from "../errors.js";

export interface PythonInfo {
  path: string;
  version: string;
}

function candidates(explicit: string | undefined, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  if (explicit) return [explicit];
  if (env.XEND_COMPAT_PYTHON) return [env.XEND_COMPAT_PYTHON];
  const roots = [env.PYENV_ROOT, path.join(os.homedir(), ".pyenv")].filter((x): x is string => !!x);
  for (const r of roots) out.push(path.join(r, "versions", "2.7.18", "bin", "python2.7"));
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (!dir || dir.includes(`${path.sep}shims`)) continue;
    out.push(path.join(dir, "python2.7"), path.join(dir, "python2"));
  }
  return out;
}

/** Version of a Python interpreter (e.g. `2.7.18`), or undefined if it does not run. */
export function pythonVersion(p: string): string | undefined {
  const r = spawnSync(p, ["-c", "import sys; sys.stdout.write('%d.%d.%d' % sys.version_info[:3])"], {
    encoding: "utf8",
    timeout: 10_000,
    env: { ...process.env, PYENV_VERSION: "2.7.18" },
  });
  if (r.status !== 0) return undefined;
  return r.stdout.trim() || undefined;
}

/** Find a Python 2.7; throws `backend.unavailable` naming what was tried. */
export function findPython2(explicit?: string, env: NodeJS.ProcessEnv = process.env): PythonInfo {
  const tried: string[] = [];
  for (const c of candidates(explicit, env)) {
    if (!path.isAbsolute(c) || fs.existsSync(c)) {
      const v = pythonVersion(c);
      tried.push(`${c}${v ? ` (${v})` : ""}`);
      if (v && v.startsWith("2.7.")) return { path: c, version: v };
    }
  }
  throw new HarnessError(
    "backend.unavailable",
    `no Python 2.7 for the sandbox (tried: ${tried.join(", ") || "nothing found"}); install one (pyenv install 2.7.18) or set XEND_COMPAT_PYTHON`,
  );
}

/** Path of `unshare` if this process may create a private mount namespace (root + util-linux). */
export function privateMountNamespace(): { ok: true; unshare: string } | { ok: false; why: string } {
  if (typeof process.getuid !== "function" || process.getuid() !== 0)
    return { ok: false, why: "not root (a private mount namespace needs CAP_SYS_ADMIN)" };
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
    const p = path.join(dir, "unshare");
    if (!fs.existsSync(p)) continue;
    const r = spawnSync(p, ["--mount", "--propagation", "private", "true"], { timeout: 10_000 });
    if (r.status === 0) return { ok: true, unshare: p };
    return { ok: false, why: `unshare --mount failed: ${String(r.stderr ?? "").trim() || `exit ${r.status}`}` };
  }
  return { ok: false, why: "no unshare (util-linux) found" };
}
