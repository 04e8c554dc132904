/** `xend-compat explain CELL-ID`: the whole story of one cell. */
import { redactDeep } from "../xend/index.js";
import type { Command, CliIO } from "./types.js";
import { HarnessError } from "../errors.js";
import { safeText } from "../terminal.js";
import { resolveProfile } from "../libvirt/index.js";
import { DEFAULT_MATRIX, FULL_MATRIX, fromRoot, loadMatrix, parseCellId } from "../matrix/index.js";
import { findProjectConfig } from "../config/index.js";
import { existsSync } from "node:fs";
import { printSxpr, readSxpr } from "../sxp/index.js";
import { asExpected, execute } from "../run/index.js";
import { renderExplain } from "../report/index.js";
import { parseCommandArgs } from "./args.js";
import { selectionOf, SELECTION_OPTIONS } from "./common.js";

const HELP = `usage: xend-compat explain CELL-ID [--matrix F] [--backend B] [--recordings DIR]

Runs one cell of a matrix (default: the project config's matrix, else the default matrix, or the full
matrix matrices/full.yaml for a cell of another xend series or libvirt release; replayed from the
shipped recordings) and tells its whole story: the
domain XML in, the SXPR libvirt built, every exchange with xend, where xend returned localtime and
rtc_timeoffset, the XML libvirt shows afterwards, the clock the guest really got, the verdict and
why, the expectation and the golden.

CELL-ID is <xend>/<libvirt>/<scenario>, e.g. 4.1.2/0.9.11/hvm-utc ('xend-compat run --list' lists
them). --matrix, --backend, --recordings, --url, --timeout-ms and --retries work as in run; the cell
itself is the CELL-ID.

exit codes: 0 the cell is as expected, 1 it is not, 2 bad input or usage`;

export const command: Command = {
  name: "explain",
  summary: "the whole story of one cell",
  help: HELP,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs("explain", argv, { ...SELECTION_OPTIONS }, true);
    const sel = selectionOf(values, io);
    if (values.xend || values.libvirt || values.scenario || values.list)
      throw new HarnessError("input.usage", "explain takes the cell as CELL-ID (<xend>/<libvirt>/<scenario>), not --xend/--libvirt/--scenario/--list (see 'xend-compat explain --help')");
    if (positionals.length !== 1) throw new HarnessError("input.usage", "explain takes exactly one CELL-ID, e.g. 4.1.2/0.9.11/hvm-utc (see 'xend-compat explain --help')");
    const id = parseCellId(positionals[0]);
    if (!/^[a-z0-9][a-z0-9-]*$/.test(id.scenario)) throw new HarnessError("input.usage", `'${id.scenario}' is not a scenario id`);
    // Without --matrix or a project config's matrix: a cell of the full matrix that the default matrix
    // does not have (another xend series or libvirt release) is explained from the full matrix, with
    // its expectation and golden.
    if (!sel.matrix && !findProjectConfig(io.cwd)?.matrix && existsSync(fromRoot(FULL_MATRIX))) {
      const def = loadMatrix(fromRoot(DEFAULT_MATRIX), { displayName: DEFAULT_MATRIX });
      if (!def.xend.includes(id.xend) || !def.libvirt.includes(id.libvirt)) sel.matrix = fromRoot(FULL_MATRIX);
    }
    const ex = await execute({ ...sel, xend: [id.xend], libvirt: [id.libvirt], scenario: id.scenario, golden: { update: false } });
    const r = ex.results[0];
    if (!r) throw new HarnessError("input.usage", `cell ${positionals[0]} is excluded by the matrix's include/exclude`);
    const s = ex.cells[0].scenario;
    io.out(safeText(renderExplain(redactDeep(r), { description: s.description, domainFile: s.domainFile, steps: s.steps.map((st) => (st.kind === "guest-set-rtc" ? `guest-set-rtc ${st.delta}` : st.kind)) })));
    return asExpected(r.outcome) ? 0 : 1;
  },
};
