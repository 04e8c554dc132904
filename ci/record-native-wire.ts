/**
 * Record the native wire of a built libvirt tree: the exact bytes its own xend client sends to a real
 * xend (the sandbox) over the default matrix's scenarios, with xend's replies, as a fixture that
 * test/native-wire.test.ts checks our wire model against (harness/libvirt/wire.ts, harness/xend/client.ts).
 *
 *   XEND_COMPAT_XEN_SRC_4_1_2=/work/trees/xen-series/4.1.2 \
 *   npx tsx ci/record-native-wire.ts src:DIR [--xend 4.1.2] [--source github:owner/repo] [--out fixtures/native-wire]
 *
 * Writes <out>/<release>.json. Refuses under CI (CI has no trees and must never write fixtures).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveProfile } from "../harness/libvirt/index.js";
import type { BuiltProfile } from "../harness/libvirt/build/index.js";
import { backendFactory, execute, tapNativeWire, type NativeExchange } from "../harness/run/index.js";
import { loadMatrixFor } from "../harness/run/index.js";
import { projectRoot } from "../harness/matrix/index.js";
import type { Provenance } from "../harness/xend/types.js";

function sh(cmd: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const spec = args.find((a) => a.startsWith("src:"));
  if (!spec) throw new Error("usage: npx tsx ci/record-native-wire.ts src:DIR [--xend V] [--source github:owner/repo] [--out DIR]");
  if (process.env.CI) throw new Error("refusing to write recordings under CI");
  const at = (k: string) => (args.indexOf(k) >= 0 ? args[args.indexOf(k) + 1] : undefined);
  const root = projectRoot();
  const xend = at("--xend") ?? "4.1.2";
  const out = path.resolve(at("--out") ?? path.join(root, "fixtures/native-wire"));
  const p = resolveProfile(spec) as BuiltProfile;
  if (!p.prepare || !("tree" in p)) throw new Error(`${spec} is not a source tree`);
  await p.prepare((l) => process.stderr.write(l + "\n"));

  const byCell = new Map<string, NativeExchange[]>();
  tapNativeWire((cell, x) => {
    const list = byCell.get(cell) ?? [];
    list.push(x);
    byCell.set(cell, list);
  });
  const matrix = loadMatrixFor({ cwd: root });
  const make = backendFactory("sandbox", process.env, undefined, {}, matrix.scenarios);
  let xendProvenance: Provenance | null = null;
  const ex = await execute({
    libvirt: [spec],
    xend: [xend],
    backend: "sandbox",
    wire: "native",
    cwd: root,
    env: process.env,
    log: (l) => process.stderr.write(l + "\n"),
    backendFor: async (x) => {
      const b = await make(x);
      xendProvenance = b.provenance();
      return b;
    },
  });
  tapNativeWire(null);

  const t = p.tree;
  const log = fs.readFileSync(p.built!.build.logFile, "utf8");
  const configure = (/^configure (--.*)$/m.exec(log) ?? [])[1] ?? "";
  const cells = ex.results.map((r) => {
    const xs = byCell.get(r.id) ?? [];
    return {
      cell: r.id,
      scenario: r.scenario,
      verdict: r.verdict,
      domain: ex.cells.find((c) => c.id === r.id)!.instance.name,
      xendConfigFormat: r.observation.xendConfigFormat,
      // The SXPR the tree's formatter gives for the cell's XML (driver to-sxpr): the model's input.
      sxpr: r.observation.sxprSent,
      requests: xs.map((x) => {
        const text = x.raw.toString("utf8");
        if (!Buffer.from(text, "utf8").equals(x.raw)) throw new Error(`${r.id}: a request is not UTF-8; this fixture format cannot hold it`);
        return {
          step: x.step,
          raw: text,
          bytes: x.raw.length,
          sha256: sha(x.raw),
          // xend's reply: the status, and the body of a POST's reply (what libvirt judges: a refusal
          // ends the call there); a GET's body by size and hash only.
          reply: x.response
            ? {
                status: x.response.status,
                ...(x.request.method === "POST" ? { body: x.response.body } : {}),
                bodyBytes: Buffer.byteLength(x.response.body, "utf8"),
                bodySha256: sha(x.response.body),
                xendBytes: x.rawReply === true,
              }
            : null,
        };
      }),
    };
  });
  const release = t.version;
  const rec = {
    format: 1,
    release,
    about:
      "Requests libvirt's own xend client (this release's src/xen/xend_internal.c, built from the tree below) sent to a real xend (the sandbox), byte for byte, through xend-compat's recording loopback proxy (--wire native). Made by ci/record-native-wire.ts; checked by test/native-wire.test.ts.",
    provenance: {
      tree: {
        source: at("--source") ?? (sh("git", ["-C", t.dir, "config", "--get", "remote.origin.url"]) || t.realDir),
        commit: t.commit,
        uncommittedChanges: t.dirty,
        configure,
        cppflags: "-I/usr/include/tirpc -include nononnull.h (ATTRIBUTE_NONNULL emptied)",
        compiler: sh("gcc", ["--version"]).split("\n")[0],
        os: sh("sh", ["-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        driver: p.built!.era.summary,
        defines: p.built!.era.defines,
      },
      xend: xendProvenance,
      recordedBy: "ci/record-native-wire.ts (xend-compat 0.1.0)",
      recordedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    },
    cells,
  };
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, `${release}.json`);
  fs.writeFileSync(file, JSON.stringify(rec, null, 1) + "\n");
  const n = cells.reduce((a, c) => a + c.requests.length, 0);
  process.stderr.write(`wrote ${path.relative(process.cwd(), file)}: ${cells.length} cells, ${n} requests; verdicts ${ex.results.map((r) => r.verdict).join(" ")}\n`);
  p.close();
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`record-native-wire: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
