/**
 * The sandbox owns nothing of the host. xend writes /var/run/xend/boot, /var/run/tap and temporary
 * files, and the placeholder overlays' mount(8) writes /run/mount/utab; /var/run is a link to /run,
 * which the sandbox did not overlay, so all of that landed on the host. Now /run (and /var/run), /tmp
 * are tmpfs private to the sandbox's mount namespace (the state directory bound back into its /tmp),
 * TMPDIR points into the state directory, and /var and /etc are overlaid from the start.
 *
 * Proved in a private mount namespace of the test's own, which stands in for the host: fresh tmpfs on
 * /run and /tmp, overlays on /var and /etc whose upper layers show every write. The sandbox runs the
 * real xend 4.1.2 over all 14 scenarios of libvirt 0.9.11 there (HVM starts, the boot loader
 * scenario); afterwards that "host" holds exactly what it held before. Needs root, unshare and a
 * 4.1.2 tree (XEND_COMPAT_XEN_SRC_4_1_2); otherwise skipped with the reason.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./support/project-copy.js";

const TREE = process.env.XEND_COMPAT_XEN_SRC_4_1_2;
const canUnshare = process.getuid?.() === 0 && spawnSync("unshare", ["--mount", "--propagation", "private", "true"]).status === 0;
const why = !canUnshare
  ? "needs root and util-linux's unshare for a private mount namespace"
  : !TREE
    ? "no Xen tree (set XEND_COMPAT_XEN_SRC_4_1_2 to a tree holding tools/python)"
    : "";
if (why) console.log(`[sandbox-owns-nothing] skipped: ${why}`);

describe.skipIf(Boolean(why))(`the sandbox owns nothing of the host${why ? ` (SKIPPED: ${why})` : ""}`, () => {
  it("after 14 cells of the real xend 4.1.2, the host's /run, /var/run, /tmp, /var and /etc hold what they held before", () => {
    const stage = fs.mkdtempSync(path.join(ROOT, ".probe-"));
    try {
      const script = [
        "set -e",
        // /run first: mount(8) itself writes /run/mount/utab for some mounts.
        "mount -t tmpfs xc-probe-run /run",
        'mount -t tmpfs xc-probe-stage "$1"',
        'for t in var etc; do mkdir -p "$1/$t/upper" "$1/$t/work"; mount -t overlay overlay -o "lowerdir=/$t,upperdir=$1/$t/upper,workdir=$1/$t/work" "/$t"; done',
        "mount -t tmpfs xc-probe-tmp /tmp",
        'exec node --import tsx test/support/sandbox-host-probe.ts "$1"',
      ].join("\n");
      const p = spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, "sh", stage], { cwd: ROOT, encoding: "utf8", env: { ...process.env, CI: "" }, timeout: 240_000 });
      const line = p.stdout.split("\n").find((l) => l.startsWith("PROBE "));
      expect(line, `probe failed (${p.status}): ${p.stderr.slice(-3000)}`).toBeDefined();
      const probe = JSON.parse(line!.slice(6)) as { before: Record<string, string[]>; after: Record<string, string[]>; verdicts: string[]; notes: string[] };
      // The cells really ran on the real xend (HVM starts among them).
      expect(probe.verdicts).toHaveLength(14);
      expect(probe.verdicts.filter((v) => / (preserved|changed|rejected)$/.test(v))).toHaveLength(14);
      expect(probe.verdicts).toContain("4.1.2/0.9.11/hvm-utc-start preserved");
      for (const where of ["run", "tmp", "var", "etc"]) expect(probe.after[where], `the host's /${where}`).toEqual(probe.before[where]);
    } finally {
      fs.rmSync(stage, { recursive: true, force: true });
    }
  }, 300_000);
});
