/**
 * The sandbox image: the real xend of a Xen tree (its tools/python, a build input), this project's
 * fakes (harness/sandbox/py) and Python 2.7.18 on Debian bookworm (base image debian-py27). Built from
 * harness/sandbox/Dockerfile when that file exists (build arg BASE_IMAGE), otherwise from the
 * Dockerfile below. The build context is the one harness/sandbox/Dockerfile documents: `py/`
 * (harness/sandbox/py) and `xen-tree/` (the tree's tools/python as `xen-tree/tools/python`, plus
 * its `.xend-compat-origin` when there is one).
 *
 * Inside, xend listens on 0.0.0.0:8000 and the control channel on 0.0.0.0:8001; placeholder files
 * are made in place (`--placeholders direct`: the container's filesystem is its own).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { HarnessError } from "../errors.js";
import type { Provenance } from "../xend/index.js";
import { checkTreeSeries, openTree, type XenTree } from "../sandbox/index.js";
import { buildImage, ensureBaseImage, imageExists, LABEL } from "./images.js";
import type { Progress } from "./progress.js";
import { CONTROL_PORT, XEND_PORT } from "./protocol.js";

export interface SandboxImage {
  image: string;
  tree: XenTree;
  provenance: Provenance;
  /** Arguments after the image's entry point. */
  args: string[];
}

function ownDockerfile(): string {
  return [
    "ARG BASE_IMAGE",
    "FROM ${BASE_IMAGE}",
    "COPY py/ /opt/xend-compat/py/",
    "COPY xen-tree/ /opt/xen-src/",
    `LABEL ${LABEL}=true ${LABEL}.mode=sandbox`,
    `EXPOSE ${XEND_PORT} ${CONTROL_PORT}`,
    // Allows placeholders `direct` (refused outside this image: it writes the paths in place).
    "ENV PYTHONDONTWRITEBYTECODE=1 XEND_COMPAT_IN_CONTAINER=1",
    // sandbox_main.py stays up while its stdin is open: the backend starts the container with an open stdin.
    `ENTRYPOINT ["/usr/local/bin/python2.7", "-u", "/opt/xend-compat/py/sandbox_main.py", "--tree", "/opt/xen-src", "--state-dir", "/var/lib/xend-compat", "--listen", "tcp", "--host", "0.0.0.0", "--port", "${XEND_PORT}", "--control-port", "${CONTROL_PORT}"]`,
    'CMD ["--placeholders", "direct"]',
    "",
  ].join("\n");
}

function files(dir: string, keep: (rel: string) => boolean): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.isFile() && keep(path.relative(dir, p))) out.push(p);
    }
  };
  visit(dir);
  return out.sort();
}

export async function ensureSandboxImage(o: { root: string; xendVersion: string; xenSrc: string; progress: Progress }): Promise<SandboxImage> {
  const tree = openTree(o.xenSrc);
  checkTreeSeries(tree, o.xendVersion);
  const pyDir = path.join(o.root, "harness", "sandbox", "py");
  if (!fs.existsSync(path.join(pyDir, "sandbox_main.py")))
    throw new HarnessError("backend.unavailable", `the sandbox image needs ${path.join(pyDir, "sandbox_main.py")}`);
  const theirs = path.join(o.root, "harness", "sandbox", "Dockerfile");
  const useTheirs = fs.existsSync(theirs);
  const dockerfile = useTheirs ? fs.readFileSync(theirs, "utf8") : ownDockerfile();
  const base = await ensureBaseImage(o.root, "debian-py27", o.progress);

  const entries = [
    ...files(pyDir, (r) => r.endsWith(".py")).map((src) => ({ src, dest: path.join("py", path.relative(pyDir, src)) })),
    ...files(tree.pythonDir, (r) => !/\.py[co]$/.test(r)).map((src) => ({ src, dest: path.join("xen-tree", "tools", "python", path.relative(tree.pythonDir, src)) })),
  ];
  const originFile = /^origin-file (.*)$/.exec(tree.originSource)?.[1];
  if (originFile && fs.existsSync(originFile)) entries.push({ src: originFile, dest: path.join("xen-tree", ".xend-compat-origin") });
  const h = createHash("sha256").update(base + "\0" + dockerfile + "\0" + tree.family + "\0");
  for (const e of entries) h.update(e.dest + "\0").update(fs.readFileSync(e.src)).update("\0");
  const image = `xend-compat/sandbox:${o.xendVersion}-${h.digest("hex").slice(0, 12)}`;
  const provenance: Provenance = {
    xendVersion: o.xendVersion,
    tree: tree.origin.repo,
    commit: tree.origin.commit,
    tz: "",
    notes: [
      `tree ${tree.pythonDir} (xend family ${tree.family}; origin from ${tree.originSource})`,
      ...(tree.origin.ref ? [`ref ${tree.origin.ref}`] : []),
      ...(tree.origin.note ? [`origin note: ${tree.origin.note}`] : []),
      `python 2.7.18 in ${base}`,
    ],
  };
  // harness/sandbox/Dockerfile's entry point is complete; ours takes the placeholder mode as CMD.
  const args = useTheirs ? [] : ["--placeholders", "direct"];
  if (await imageExists(image)) {
    o.progress.step(`reusing ${image}`);
    return { image, tree, provenance, args };
  }
  const ctx = fs.mkdtempSync(path.join(os.tmpdir(), "xend-compat-sandbox-image-"));
  try {
    o.progress.step(`staging ${entries.length} files for ${image} (tree ${tree.pythonDir})`);
    for (const e of entries) {
      const to = path.join(ctx, e.dest);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(e.src, to);
    }
    fs.writeFileSync(path.join(ctx, "Dockerfile"), dockerfile);
    await buildImage(ctx, image, o.progress, { BASE_IMAGE: base });
  } finally {
    fs.rmSync(ctx, { recursive: true, force: true });
  }
  return { image, tree, provenance, args };
}

export function sandboxCommand(built: SandboxImage): string[] | undefined {
  return built.args.length ? built.args : undefined;
}
