/** How figures are printed: one plain line each (or one JSON object with --json). */
import type { MachineInfo } from "./machine.js";
import { machineLine } from "./machine.js";

export const FIGURE_IDS = ["replay", "floor", "full", "cold", "conversion", "scaling", "sandbox", "build", "wire", "build-container", "conformance"] as const;
export type FigureId = (typeof FIGURE_IDS)[number];

export type Figure =
  | { id: FigureId; line: string; data: Record<string, unknown>; skipped?: undefined }
  | { id: FigureId; skipped: string; line?: undefined; data?: undefined };

export function figureLine(f: Figure): string {
  const label = f.id.padEnd(15);
  return f.skipped !== undefined ? `${label} skipped: ${f.skipped}` : `${label} ${f.line}`;
}

export function jsonReport(machine: MachineInfo, opts: Record<string, unknown>, figures: Figure[]): string {
  return JSON.stringify(
    {
      machine,
      options: opts,
      figures: Object.fromEntries(figures.map((f) => [f.id, f.skipped !== undefined ? { skipped: f.skipped } : { line: f.line, ...f.data }])),
    },
    null,
    2,
  );
}

export { machineLine };
