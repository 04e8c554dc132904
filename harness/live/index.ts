/** live: a real xend on a real Xen host, with the safety rules of ./backend.ts. The folder's only door. */
export { startLiveBackend, LiveBackend, DEFAULT_PREFIX, DEFAULT_RETRIES, versionMatches, resetTcpWarning } from "./backend.js";
export type { LiveBackendOptions } from "./backend.js";
export { liveNameFor, newRunId, checkRunId, NAME_MAX, NAME_CHARS } from "./names.js";
export { classify, domainOfPath, replaceUuid, replaceName } from "./guard.js";
export type { RequestIntent } from "./guard.js";
export type { CleanupReport } from "./signals.js";
