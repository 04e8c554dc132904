/**
 * `npm run bench`: xend-compat's speed, measured side by side in one run, one plain line per figure
 * (machine first). Figures are medians of interleaved repetitions; ratios are taken between
 * variants measured in the same run, because the machine is shared and noisy. Never a test.
 *
 *   replay      the default matrix and ≥ 10,000 cells (its scenarios repeated under new ids) replayed in-process;
 *               peak RSS of the enlarged run in a process of its own
 *   floor       only reading and parsing the same recordings and goldens; replay / floor
 *   cold        `node bin/xend-compat.mjs run` as a new process vs `node -e 0`
 *   conversion  profile format / parse over libvirt's conformance cases
 *   conformance `xend-compat conformance --all` (every shipped release suite) as a new process: < 30 s
 *   full        every libvirt release × every xend series × every scenario, on 2 cores (2 processes)
 *   scaling     replay at 1×, 10×, 100× the default matrix: cost per cell
 *   sandbox     real xend under Python 2.7 (needs Xen trees)
 *   build       a libvirt tree as src:DIR: first build, rebuild after a one-line change, driver conversions/s
 *               (needs XEND_COMPAT_LIBVIRT_SRC_0_9_11 or --libvirt-src DIR)
 *   wire        the default matrix on that src: build against the sandbox, --wire native beside --wire ours
 *               (needs the tree and Xen trees)
 *   build-container  the build figure with --build-in container (also needs a Docker engine)
 *
 * options: --quick, --only <figure>[,<figure>...] (repeatable), --json, --xen-src V=DIR (repeatable),
 *          --recordings DIR, --golden DIR, --no-build, --sandbox-timeout-ms N
 */
import { parseArgs } from "node:util";
import * as path from "node:path";
import { fromRoot, GOLDEN_DIR, RECORDINGS_DIR } from "../harness/matrix/index.js";
import { coldFigure } from "./figures/cold.js";
import { conversionFigure } from "./figures/conversion.js";
import { conformanceFigure } from "./figures/conformance.js";
import { replayFigures } from "./figures/replay.js";
import { sandboxFigure, xenTrees } from "./figures/sandbox.js";
import { buildFigure } from "./figures/build.js";
import { wireFigure } from "./figures/wire.js";
import { machineInfo, machineLine } from "./machine.js";
import { FIGURE_IDS, figureLine, jsonReport, type Figure, type FigureId } from "./report.js";

const USAGE = `usage: npm run bench -- [--quick] [--only FIGURE[,FIGURE]] [--json] [--xen-src V=DIR]...
                      [--recordings DIR] [--golden DIR] [--no-build] [--sandbox-timeout-ms N] [--libvirt-src DIR]
figures: ${FIGURE_IDS.join(", ")}`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: "boolean" },
        only: { type: "string", multiple: true },
        json: { type: "boolean" },
        "xen-src": { type: "string", multiple: true },
        recordings: { type: "string" },
        golden: { type: "string" },
        "no-build": { type: "boolean" },
        "sandbox-timeout-ms": { type: "string" },
        "libvirt-src": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const only = (values.only ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);
  for (const f of only)
    if (!(FIGURE_IDS as readonly string[]).includes(f)) {
      process.stderr.write(`bench: --only '${f}': expected one of ${FIGURE_IDS.join(", ")}\n`);
      return 2;
    }
  const want = (f: FigureId) => !only.length || only.includes(f);
  let trees: Record<string, string>;
  try {
    trees = xenTrees(values["xen-src"] ?? [], process.env);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    return 2;
  }
  const timeoutMs = values["sandbox-timeout-ms"] ? Number(values["sandbox-timeout-ms"]) : undefined;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    process.stderr.write(`bench: --sandbox-timeout-ms '${values["sandbox-timeout-ms"]}': expected a positive number\n`);
    return 2;
  }
  const quick = Boolean(values.quick);
  const recordingsDir = values.recordings ? path.resolve(values.recordings) : fromRoot(RECORDINGS_DIR);
  const goldenDir = values.golden ? path.resolve(values.golden) : fromRoot(GOLDEN_DIR);

  const machine = machineInfo();
  const figures: Figure[] = [];
  const emit = (f: Figure) => {
    figures.push(f);
    if (!values.json) process.stdout.write(figureLine(f) + "\n");
  };
  if (!values.json) process.stdout.write(machineLine(machine) + "\n" + `mode: ${quick ? "quick" : "full"}; recordings ${path.relative(process.cwd(), recordingsDir) || "."}\n`);

  const guard = async (id: FigureId, f: () => Promise<Figure | Figure[]>) => {
    try {
      const r = await f();
      for (const x of Array.isArray(r) ? r : [r]) emit(x);
    } catch (e) {
      emit({ id, skipped: `failed: ${(e as Error)?.stack ?? String(e)}`.split("\n").slice(0, 3).join(" ") });
    }
  };

  // Order: conversion (needs nothing), replay/floor/scaling, cold start (spawns processes), sandbox.
  if (want("conversion")) await guard("conversion", () => conversionFigure({ quick }));
  if (want("replay") || want("floor") || want("scaling") || want("full"))
    await guard("replay", () => replayFigures({ quick, recordingsDir, goldenDir, want: { replay: want("replay"), floor: want("floor"), scaling: want("scaling"), full: want("full") } }));
  if (want("cold")) await guard("cold", () => coldFigure({ quick, build: !values["no-build"] }));
  if (want("conformance")) await guard("conformance", () => conformanceFigure({ quick }));
  if (want("sandbox")) await guard("sandbox", () => sandboxFigure({ quick, trees, ...(timeoutMs ? { timeoutMs } : {}) }));
  if (want("build")) await guard("build", () => buildFigure({ quick, ...(values["libvirt-src"] ? { tree: path.resolve(values["libvirt-src"]) } : {}) }));
  if (want("wire"))
    await guard("wire", () => wireFigure({ quick, trees, ...(values["libvirt-src"] ? { tree: path.resolve(values["libvirt-src"]) } : {}), ...(timeoutMs ? { timeoutMs } : {}) }));
  if (want("build-container"))
    await guard("build-container", () => buildFigure({ quick, place: "container", ...(values["libvirt-src"] ? { tree: path.resolve(values["libvirt-src"]) } : {}) }));

  if (values.json) process.stdout.write(jsonReport(machine, { quick, only, recordingsDir, goldenDir }, figures) + "\n");
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`bench: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 3;
  },
);
