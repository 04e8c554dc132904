// Which source files the loaded files of the bundle (dist/bundle/, ci/bundle.mjs) hold, from the
// bundle's metafile: `sourcesOf(root, loadedPaths)` maps each loaded path under dist/bundle/ to the
// sources esbuild put in it (project-relative: harness/run/cell.ts, node_modules/zod/...); other
// paths are returned as they are. Used by the cold-start figure and test/bundle.test.ts.
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";

export function sourcesOf(root: string, loaded: string[]): string[] {
  const metaFile = path.join(root, "dist", "bundle", "meta.json");
  if (!existsSync(metaFile)) return loaded;
  const meta = JSON.parse(readFileSync(metaFile, "utf8")) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  const out: string[] = [];
  for (const l of loaded) {
    const abs = l.startsWith("file://") ? new URL(l).pathname : path.resolve(root, l);
    const rel = path.relative(root, abs).split(path.sep).join("/");
    const o = meta.outputs[rel];
    if (o) out.push(...Object.keys(o.inputs));
    else out.push(l);
  }
  return out;
}
