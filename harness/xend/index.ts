/** xend: the HTTP transport and client, recordings, and the backends that play xend. The folder's only door. */
export type * from "./types.js";
export { exchange, parseTarget, describeTarget, serializeRequest, XEND_MAX_REPLY_BYTES, DEFAULT_TIMEOUT_MS, DEFAULT_XEND_PORT } from "./transport.js";
export type { XendTarget, ExchangeOptions } from "./transport.js";
