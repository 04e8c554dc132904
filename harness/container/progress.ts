/**
 * Progress of image builds: on a TTY one line rewritten in place, otherwise one line per step
 * (CI logs). `done` ends the TTY line.
 */
export interface Progress {
  step(text: string): void;
  done(text: string): void;
}

export function makeProgress(opts: { isTTY: boolean; write: (s: string) => void; prefix?: string }): Progress {
  const prefix = opts.prefix ?? "[container]";
  if (!opts.isTTY) {
    return {
      step: (t) => opts.write(`${prefix} ${t}\n`),
      done: (t) => opts.write(`${prefix} ${t}\n`),
    };
  }
  let width = 0;
  const columns = () => Math.max(20, (process.stdout.columns ?? 100) - 1);
  const show = (t: string) => {
    const line = `${prefix} ${t}`.slice(0, columns());
    opts.write(`\r${line}${" ".repeat(Math.max(0, width - line.length))}`);
    width = line.length;
  };
  return {
    step: show,
    done: (t) => {
      show(t);
      opts.write("\n");
      width = 0;
    },
  };
}

/** For logs passed as `(line) => void` (BackendSpec.log): one line per step. */
export function progressFromLog(log: ((line: string) => void) | undefined, isTTY: boolean): Progress {
  if (isTTY) return makeProgress({ isTTY: true, write: (s) => process.stderr.write(s) });
  const l = log ?? ((line: string) => process.stderr.write(line + "\n"));
  return { step: (t) => l(`[container] ${t}`), done: (t) => l(`[container] ${t}`) };
}
