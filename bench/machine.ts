/** What the figures were measured on: CPU model, cores, node version, date, load. */
import * as os from "node:os";

export interface MachineInfo {
  cpu: string;
  cores: number;
  node: string;
  date: string;
  loadavg: number[];
  memGB: number;
  platform: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: (cpus[0]?.model ?? "unknown").replace(/\s+/g, " ").trim(),
    cores: typeof os.availableParallelism === "function" ? os.availableParallelism() : cpus.length,
    node: process.version,
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    memGB: Math.round(os.totalmem() / 1024 ** 3),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
}

export function machineLine(m: MachineInfo): string {
  return `machine: ${m.cpu}, ${m.cores} cores, ${m.memGB} GB, node ${m.node}, ${m.platform}, ${m.date}, load ${m.loadavg.join(" ")}`;
}
