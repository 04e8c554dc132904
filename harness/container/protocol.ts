/**
 * The wire conventions shared by the replay server (inside the container) and the container backend
 * (outside). See ./DECISIONS.md, "How the replay server knows a request's cell".
 *
 * Control channel (its own port): `POST /control` with a JSON object `{kind, ...}`, answered with
 * `{ok, detail?, ...}`, the same shape as the sandbox's control channel (harness/sandbox/py/control.py),
 * plus two kinds only the replay server has:
 *   open-cell {cell}           open a replay session for the cell → {ok, session}
 *   end-cell {session}         end it (an obsolete recording is reported here) → {ok}
 * and the lifecycle steps of harness/xend/types.ts (`guest-set-rtc`, `guest-poweroff`,
 * `effective-clock`) carrying `session` and `step` (the step label). `GET /health` → `{ok, ...}`.
 *
 * xend port: plain xend HTTP. A request is routed to the session named by the SESSION_HEADER, or,
 * without one, to the most recently opened session (so a plain client can replay one cell at a time).
 * Replay errors come back as HTTP 599 with ERROR_HEADER carrying the HarnessError code, so the
 * backend re-raises the same error the in-process replay would. A real xend never sends either.
 */
export const CONTROL_PATH = "/control";
export const HEALTH_PATH = "/health";
export const SESSION_HEADER = "X-Xend-Compat-Session";
export const STEP_HEADER = "X-Xend-Compat-Step";
export const ERROR_HEADER = "X-Xend-Compat-Error";
export const REPLAY_ERROR_STATUS = 599;

/** Ports inside the container. */
export const XEND_PORT = 8000;
export const CONTROL_PORT = 8001;

export interface ControlError {
  ok: false;
  detail: string;
  /** HarnessError code when the failure is one (e.g. backend.unmatched). */
  code?: string;
}
