/**
 * With a Xen tree named by its environment variable (XEND_COMPAT_XEN_SRC_3_2, _3_4_3, _4_1_2), record
 * every default-matrix cell of that xend version afresh from the real xend (sandbox) into a temp dir and
 * check each fresh recording equals the shipped one, modulo the volatile fields documented in
 * fixtures/recordings/README.md ("Volatile fields"). Without the tree the version is skipped with the reason.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CliIO } from "../harness/cli.js";
import { recordCells } from "../harness/cli/record.js";
import { DEFAULT_MATRIX, expandCells, fromRoot, FULL_MATRIX, loadMatrix, RECORDINGS_DIR } from "../harness/matrix/index.js";
import { startSandbox, XEN_SRC_ENV } from "../harness/sandbox/index.js";
import { XEND_RACES, raceValues } from "../harness/run/index.js";
import { readSxprAll, type Sx } from "../harness/sxp/index.js";
import { loadRecording, recordingPath, type Recording } from "../harness/xend/index.js";

/** Keys whose values change from one recording to the next without meaning anything. */
const VOLATILE_SXPR_KEYS = new Set([
  // per run: the domain id and times depend on the order the cells ran in and on the clock
  "domid", "start_time", "cpu_time", "up_time", "status", "state",
  // the fake hypervisor's page numbers and free memory depend on which other cells' domains exist
  "store_mfn", "console_mfn", "free_memory",
  // GET /xend/node/ reports the machine xend ran on
  "host", "release", "version",
]);
/** Inside `(device ...)`: xend's random device uuids and the console's location (derived from the domain id). */
const VOLATILE_DEVICE_KEYS = new Set(["uuid", "location"]);

/**
 * Races of the real xend itself: the one shared list (harness/run/races.ts), which the golden comparison
 * uses too. E.g. xend 3.2.2 stores the vanished `/vm/<uuid>/rtc/timeoffset` of a powered-off HVM domain as
 * "0" from its watch thread, racing the poweroff handling (facts/xend.md, "3.2 vs later"), so after a guest
 * poweroff its read-back rtc_timeoffset is either the running value or 0. Only these values are accepted;
 * anything else still fails.
 */
const RACES: { cell: RegExp; key: string; values: string[] }[] = XEND_RACES.map((r) => ({ cell: r.cells, key: r.key, values: raceValues(r) }));

function scrubSxpr(x: Sx, inDevice = false, racyKey?: string): Sx {
  if (typeof x === "string") return x;
  const head = typeof x[0] === "string" ? x[0] : undefined;
  if (head && (VOLATILE_SXPR_KEYS.has(head) || (inDevice && VOLATILE_DEVICE_KEYS.has(head)))) return [head, "<volatile>"];
  if (head && head === racyKey) {
    const race = RACES.find((r) => r.key === racyKey)!;
    return race.values.includes(String(x[1])) ? [head, "<race>"] : x;
  }
  return x.map((c) => scrubSxpr(c, inDevice || head === "device", racyKey));
}

/** The sandbox's state dir (xend resolves script names into it) is a new temp dir each run. */
const scrubPaths = (s: string) => s.replace(/\/tmp\/xend-compat-sandbox-[^/\s')]+/g, "<sandbox-state>");

function scrubBody(body0: string, racyKey?: string): unknown {
  const body = scrubPaths(body0);
  if (!body.trim().startsWith("(")) return body;
  try {
    return readSxprAll(body).map((x) => scrubSxpr(x, false, racyKey));
  } catch {
    return body;
  }
}

/** The comparable part of a recording. */
export function comparable(rec: Recording): unknown {
  const racyKey = RACES.find((r) => r.cell.test(rec.cell))?.key;
  return {
    cell: rec.cell,
    provenance: { xendVersion: rec.provenance.xendVersion, tree: rec.provenance.tree, commit: rec.provenance.commit, tz: rec.provenance.tz },
    exchanges: rec.exchanges.map((e) =>
      e.channel === "xend"
        ? {
            step: e.step,
            request: { method: e.request.method, path: e.request.path, body: e.request.body ?? "" },
            response: {
              status: e.response.status,
              // Location names the port xend was reached on; domain ids in a detail reply change with run order.
              headers: e.response.headers.filter(([k]) => !["location", "content-length"].includes(k.toLowerCase())),
              body: scrubBody(e.response.body, racyKey),
            },
          }
        : {
            step: e.step,
            control: e.control,
            // "domain 11 powered off": the domain id depends on the order cells ran in.
            reply: { ...e.reply, detail: e.reply.detail?.replace(/domain \d+/g, "domain <id>") },
          },
    ),
  };
}

const silent: CliIO = { out: () => {}, err: () => {}, isTTY: false, env: {}, cwd: process.cwd() };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

for (const [version, envName] of Object.entries(XEN_SRC_ENV)) {
  const tree = process.env[envName];
  describe(`xend ${version}: a fresh recording from the real xend equals the shipped one`, () => {
    it.skipIf(!tree)(
      tree ? `records every default-matrix cell of ${version} (and the full matrix's own scenarios) from ${tree} and compares` : `skipped: no Xen tree (set ${envName} to a tree holding tools/python)`,
      async () => {
        const out = mkdtempSync(join(tmpdir(), `xc-fresh-${version}-`));
        dirs.push(out);
        const matrix = loadMatrix(fromRoot(DEFAULT_MATRIX));
        // and the full matrix's own scenarios (where the series differ), for the same libvirt versions
        const full = loadMatrix(fromRoot(FULL_MATRIX));
        const own = full.scenarios.filter((s) => !matrix.scenarios.some((d) => d.id === s.id)).map((s) => s.id);
        const cells = [...expandCells(matrix, { xend: [version] }), ...(own.length ? expandCells(full, { xend: [version], libvirt: matrix.libvirt, scenario: own.join(",") }) : [])];
        const { written, failed } = await recordCells({
          cells,
          xend: version,
          outDir: out,
          io: silent,
          backendFor: () => startSandbox({ xenSrc: tree!, xendVersion: version }),
        });
        expect(failed).toEqual([]);
        expect(written).toHaveLength(cells.length);
        for (const cell of cells) {
          const fresh = await loadRecording(recordingPath(out, cell.id));
          const shipped = await loadRecording(recordingPath(fromRoot(RECORDINGS_DIR), cell.id));
          expect.soft(comparable(fresh), cell.id).toEqual(comparable(shipped));
        }
      },
      300_000,
    );
  });
}
