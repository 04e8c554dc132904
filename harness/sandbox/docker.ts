/**
 * The build context for harness/sandbox/Dockerfile: the Dockerfile, the sandbox's Python code
 * (py/), and the Xen tree's tools/python with its origin (xen-tree/). Without `xenSrc` the
 * xen-tree/ directory stays empty and the image must be built with XEN_TARBALL_URL/SHA256.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PY_DIR } from "./launch.js";
import { ORIGIN_FILE, openTree, type TreeOrigin, type XenTree } from "./tree.js";

export const DOCKERFILE = path.join(path.dirname(PY_DIR), "Dockerfile");

export interface DockerContext {
  /** The context directory (pass it to `docker build` / testcontainers' fromDockerfile). */
  dir: string;
  /** File name of the Dockerfile inside `dir`. */
  dockerfile: string;
  /** The tree copied in, when one was given. */
  tree?: XenTree;
}

export function prepareDockerContext(opts: { xenSrc?: string; origin?: TreeOrigin; dir?: string } = {}): DockerContext {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "xend-compat-sandbox-ctx-"));
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(DOCKERFILE, path.join(dir, "Dockerfile"));
  fs.mkdirSync(path.join(dir, "py"), { recursive: true });
  for (const f of fs.readdirSync(PY_DIR)) {
    if (f.endsWith(".py")) fs.copyFileSync(path.join(PY_DIR, f), path.join(dir, "py", f));
  }
  const xt = path.join(dir, "xen-tree");
  fs.mkdirSync(xt, { recursive: true });
  let tree: XenTree | undefined;
  if (opts.xenSrc) {
    tree = openTree(opts.xenSrc, opts.origin);
    fs.cpSync(tree.pythonDir, path.join(xt, "tools", "python"), {
      recursive: true,
      filter: (src) => !src.endsWith(".pyc") && !src.endsWith(".pyo"),
    });
    const lines = [`repo=${tree.origin.repo}`, `commit=${tree.origin.commit}`];
    if (tree.origin.ref) lines.push(`ref=${tree.origin.ref}`);
    lines.push(`note=${[tree.origin.note, `copied from ${tree.pythonDir} (origin from ${tree.originSource})`].filter(Boolean).join("; ")}`);
    fs.writeFileSync(path.join(xt, ORIGIN_FILE), lines.join("\n") + "\n");
  }
  return { dir, dockerfile: "Dockerfile", ...(tree ? { tree } : {}) };
}
