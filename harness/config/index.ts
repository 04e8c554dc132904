/**
 * The project config: where a user's matrix, goldens and recordings live, so that every command works
 * on the user's own files without repeating options. Found upwards from the working directory, as
 * vitest and eslint find theirs: the first directory holding `xend-compat.config.json`,
 * `xend-compat.config.yaml` (or `.yml`), or a package.json with an `xend-compat` key. Paths in it are
 * relative to the file that holds them.
 *
 * ```yaml
 * matrix: matrices/ours.yaml
 * goldens: golden
 * recordings: recordings        # or a list of layers, later over earlier (the shipped ones last)
 * build-in: container           # where src:DIR trees build (host, container, auto); --build-in and
 *                               # XEND_COMPAT_BUILD_IN win over it
 * ```
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import { HarnessError } from "../errors.js";

export interface ProjectConfig {
  /** The file the config came from (absolute). */
  file: string;
  /** Absolute paths, resolved against the config file's directory. */
  matrix?: string;
  goldens?: string;
  /** Recording layers, later over earlier. */
  recordings?: string[];
  /** Where src:DIR trees build (`build-in`). */
  buildIn?: "host" | "container" | "auto";
}

export const CONFIG_FILES = ["xend-compat.config.json", "xend-compat.config.yaml", "xend-compat.config.yml"] as const;

const path_ = z.string({ error: "expected a path (relative to this file)" }).min(1, "expected a path (relative to this file)");
const schema = z.strictObject({
  matrix: path_.optional(),
  goldens: path_.optional(),
  recordings: z.union([path_, z.array(path_).min(1, "expected at least one directory")], { error: "expected a directory or a list of directories" }).optional(),
  "build-in": z.enum(["host", "container", "auto"], { error: "expected host, container or auto" }).optional(),
});

/** The project config that applies in `cwd`, or undefined when there is none up to the root. */
export function findProjectConfig(cwd: string): ProjectConfig | undefined {
  let dir = path.resolve(cwd);
  for (;;) {
    for (const name of CONFIG_FILES) {
      const f = path.join(dir, name);
      if (isFile(f)) {
        refuseForeignOwner(f);
        return readConfig(f, fs.readFileSync(f, "utf8"));
      }
    }
    const pkg = path.join(dir, "package.json");
    if (isFile(pkg)) {
      const found = fromPackageJson(pkg);
      if (found) {
        refuseForeignOwner(pkg);
        return found;
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * A config decides where goldens and recordings are written, and it is found by walking up from the
 * working directory, so a file someone else put in a shared parent (/tmp) would steer this run: as git
 * does with repositories, a config owned by another user (not root) is refused, by name.
 */
function refuseForeignOwner(file: string): void {
  const me = process.getuid?.();
  if (me === undefined) return;
  const owner = fs.statSync(file).uid;
  if (owner !== me && owner !== 0)
    throw new HarnessError("input.file", `refusing the project config ${file}: it belongs to user id ${owner}, not to you (${me}); move it or change its owner`, { pos: { file } });
}

function isFile(f: string): boolean {
  try {
    return fs.statSync(f).isFile();
  } catch {
    return false;
  }
}

function fromPackageJson(file: string): ProjectConfig | undefined {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined; // not ours to judge: a broken package.json is npm's business
  }
  if (!data || typeof data !== "object" || !("xend-compat" in data)) return undefined;
  return validate(file, (data as Record<string, unknown>)["xend-compat"], fs.readFileSync(file, "utf8"), "xend-compat");
}

/** Read one config file's text (JSON or YAML by its name); errors name the file, line and column. */
export function readConfig(file: string, text: string): ProjectConfig {
  let data: unknown;
  if (file.endsWith(".json")) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      const m = /position (\d+)/.exec((e as Error).message);
      const at = m ? Number(m[1]) : text.length;
      throw new HarnessError("input.file", "not valid JSON", { pos: { file, ...lineCol(text, at) }, cause: e });
    }
  } else {
    try {
      data = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
    } catch (e) {
      const at = e instanceof YAMLParseError ? e.linePos?.[0] : undefined;
      const first = (e as Error).message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
      throw new HarnessError("input.file", `not valid YAML: ${first}`, { pos: { file, ...(at ? { line: at.line, column: at.col } : {}) }, cause: e });
    }
  }
  return validate(file, data ?? {}, text);
}

function validate(file: string, data: unknown, text: string, underKey?: string): ProjectConfig {
  const r = schema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = issue.code === "unrecognized_keys" ? issue.keys[0] : String(issue.path[0] ?? "");
    const what = issue.code === "unrecognized_keys" ? `unknown key '${key}' (known: matrix, goldens, recordings, build-in)` : `${key ? `${key}: ` : ""}${issue.message}`;
    throw new HarnessError("input.file", `${underKey ? `"${underKey}": ` : ""}${what}`, { pos: { file, ...keyPosition(text, key) } });
  }
  const dir = path.dirname(file);
  const abs = (p: string) => path.resolve(dir, p);
  const c = r.data;
  return {
    file,
    ...(c.matrix ? { matrix: abs(c.matrix) } : {}),
    ...(c.goldens ? { goldens: abs(c.goldens) } : {}),
    ...(c.recordings ? { recordings: (Array.isArray(c.recordings) ? c.recordings : [c.recordings]).map(abs) } : {}),
    ...(c["build-in"] ? { buildIn: c["build-in"] } : {}),
  };
}

/** Where a top-level key stands in a small config text (JSON or YAML); the start when not found. */
function keyPosition(text: string, key: string): { line: number; column: number } {
  if (key) {
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const col = lines[i].search(new RegExp(`(^|[\\s{,])"?${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"?\\s*:`));
      if (col >= 0) return { line: i + 1, column: col + 1 + (/^[\s{,]/.test(lines[i].slice(col)) ? 1 : 0) };
    }
  }
  return { line: 1, column: 1 };
}

function lineCol(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/**
 * A directory the tool is about to write (goldens, recordings) must not be inside an installed
 * package: a user's work never goes into node_modules, where the next install would discard it.
 */
export function refuseNodeModules(dir: string, what: string): void {
  if (path.resolve(dir).split(path.sep).includes("node_modules"))
    throw new HarnessError(
      "input.usage",
      `${what} would be written into ${dir}, inside node_modules; name your own directory in a project config (xend-compat.config.yaml: ${what === "goldens" ? "goldens" : "recordings"}: DIR) or on the command line`,
    );
}
