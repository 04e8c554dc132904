/**
 * The one schema of a matrix file. It is the source of the file's TypeScript types (z.infer), its
 * structural validation and its error messages; loadMatrix maps every issue's path to the YAML line
 * and column. Checks that need the file system or other keys (domain files, step order, globs that
 * match nothing) run after it in ./load.ts and report through the same path→position mapping.
 */
import { z } from "zod";
import { resolveProfile } from "../libvirt/index.js";
import { checkId } from "../safepath.js";

export const VERDICTS = ["preserved", "rejected", "changed", "error", "skipped"] as const;
export const verdictSchema = z.enum(VERDICTS, { error: () => `expected one of ${VERDICTS.join(", ")}` });
export type Verdict = z.infer<typeof verdictSchema>;

export const CHECKS = ["clock", "effective-clock", "cmdline"] as const;
export const checkSchema = z.enum(CHECKS, { error: () => `expected one of ${CHECKS.join(", ")}` });
export type Check = z.infer<typeof checkSchema>;

const id = z
  .string({ error: "expected a string" })
  .regex(/^[a-z0-9][a-z0-9-]*$/, "expected an id of lower-case letters, digits and '-'");

const version = z.string({ error: "expected a version string (quote it: '3.2')" }).min(1, "expected a version");

const libvirtVersion = version.superRefine((v, ctx) => {
  try {
    resolveProfile(v);
    // A version becomes a part of cell ids and of golden and recording paths: an identifier only.
    if (!v.startsWith("src:")) checkId("libvirt version", v);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: e instanceof Error ? e.message : String(e) });
  }
});

const xendVersion = version.regex(/^\d+(\.\d+)+$/, "expected a xend version like 3.2 or 4.1.2 (quoted)");

/** One step of a scenario: a bare name or `{ guest-set-rtc: <seconds> }`. */
export const stepSchema = z.union(
  [
    z.enum(["define", "start", "guest-poweroff", "read"]),
    z.strictObject({ "guest-set-rtc": z.number({ error: "expected seconds (an integer)" }).int("expected an integer") }),
  ],
  { error: () => "expected a step: define, start, read, guest-poweroff or { guest-set-rtc: <seconds> }" },
);
export type StepInput = z.infer<typeof stepSchema>;

/** A clock as libvirt's `<clock>` attributes. */
export const clockSchema = z.strictObject({
  offset: z.enum(["utc", "localtime", "variable", "timezone"], { error: () => "expected utc, localtime, variable or timezone" }),
  adjustment: z.union([z.number().int(), z.literal("reset")], { error: () => "expected an integer number of seconds or 'reset'" }).optional(),
  basis: z.enum(["utc", "localtime"], { error: () => "expected utc or localtime" }).optional(),
  timezone: z.string().optional(),
});
export type ClockInput = z.infer<typeof clockSchema>;

export const scenarioSchema = z.strictObject({
  id,
  description: z.string({ error: "expected a one-line description" }).min(1, "expected a one-line description"),
  /** Domain XML, relative to the project root. */
  domain: z.string({ error: "expected the domain XML file, relative to the project root" }).min(1),
  steps: z.array(stepSchema, { error: "expected a list of steps" }).min(1, "expected at least one step"),
  /** The clock libvirt should show after the steps; default: the domain XML's own clock. */
  intent: clockSchema.optional(),
  checks: z.array(checkSchema, { error: "expected a list of checks" }).min(1, "expected at least one check").default(["clock"]),
});
export type ScenarioInput = z.infer<typeof scenarioSchema>;

export const expectationSchema = z
  .strictObject({
    /** Cell-id glob, e.g. `*\/0.8.7/pv-localtime`. */
    cells: z.string({ error: "expected a cell-id glob like '*/0.8.7/pv-*'" }).min(1),
    verdict: verdictSchema,
    reason: z.string({ error: "expected the reason (one line)" }).min(1, "expected the reason (one line)"),
    fixedBy: z.string().regex(/^[0-9a-f]{7,40}( \(.+\))?$/, "expected a commit hash, optionally followed by ' (release)'").optional(),
    report: z.string().min(1).optional(),
    /** The known problem shows only sometimes (e.g. a race in xend): a preserved cell is then not an xpass. */
    flaky: z.boolean({ error: "expected true or false" }).optional(),
  })
  .refine((e) => e.verdict === "preserved" || e.fixedBy !== undefined || e.report !== undefined, {
    message: "an expectation of a non-preserved verdict needs fixedBy (commit) or report (reference)",
  });
export type ExpectationInput = z.infer<typeof expectationSchema>;

function noDuplicates(what: string) {
  return (list: string[], ctx: z.RefinementCtx) => {
    list.forEach((v, i) => {
      const first = list.indexOf(v);
      if (first !== i) ctx.addIssue({ code: "custom", path: [i], message: `duplicate ${what} '${v}' (first at index ${first})` });
    });
  };
}

export const matrixSchema = z.strictObject({
  name: id,
  description: z.string().optional(),
  xend: z.array(xendVersion, { error: "expected a list of xend versions" }).min(1, "expected at least one xend version").superRefine(noDuplicates("xend version")),
  libvirt: z.array(libvirtVersion, { error: "expected a list of libvirt versions" }).min(1, "expected at least one libvirt version").superRefine(noDuplicates("libvirt version")),
  scenarios: z
    .array(scenarioSchema, { error: "expected a list of scenarios" })
    .min(1, "expected at least one scenario")
    .superRefine((list, ctx) => {
      const seen = new Map<string, number>();
      list.forEach((s, i) => {
        const first = seen.get(s.id);
        if (first !== undefined) ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate scenario id '${s.id}' (first at scenarios[${first}])` });
        else seen.set(s.id, i);
      });
    }),
  include: z.array(z.string().min(1), { error: "expected a list of cell-id globs" }).optional(),
  exclude: z.array(z.string().min(1), { error: "expected a list of cell-id globs" }).optional(),
  expectations: z.array(expectationSchema, { error: "expected a list of expectations" }).optional(),
});
export type MatrixInput = z.infer<typeof matrixSchema>;
