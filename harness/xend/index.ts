/** xend: the HTTP transport and client, recordings, and the backends that play xend. The folder's only door. */
export type * from "./types.js";
export {
  exchange,
  parseTarget,
  describeTarget,
  serializeRequest,
  serializeResponse,
  rawReply,
  XEND_MAX_REPLY_BYTES,
  replyOverCap,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_XEND_PORT,
} from "./transport.js";
export type { XendTarget, ExchangeOptions } from "./transport.js";
export { XEND_SERIES, xenSrcEnvName, seriesOf, seriesLabel } from "./series.js";
export type { XendSeries, TreeKind } from "./series.js";
export { XendClient, XendRefusal, LIBVIRT_HEADERS, libvirtGet, libvirtPost, forgetNodes } from "./client.js";
export type { NodeInfo, DomainInfo, DomainOp } from "./client.js";
export { parseForm, parseFormPairs, unquotePlus, compareForms, compareSxprValues, SXPR_FIELDS } from "./form.js";
export type { FormPair, MatchResult } from "./form.js";
export { redact, redactForm, redactBody, redactRequest, redactResponse, redactControlReply, redactDeep, isSecretKey, REDACTED, registerSecrets, forgetSecrets, secretsInXml, pyReprBody, MIN_KNOWN_SECRET } from "./redact.js";
export {
  RECORDING_FORMAT,
  splitCellId,
  safeSegment,
  recordingPath,
  cellIdOfPath,
  listRecordings,
  obsoleteRecordings,
  recordCommand,
  serializeRecording,
  redactRecording,
  writeRecording,
  writeFileAtomic,
  parseRecording,
  loadRecording,
} from "./recording.js";
export type { Recording, RecordedExchange, RecordingProvenance, CellIdParts } from "./recording.js";
export { RecordedBackend, clearRecordingCache, sharedPack } from "./recorded.js";
export type { SharedPack } from "./recorded.js";
export { loadPack, packCacheDir, packFile, PACK_FORMAT } from "./pack.js";
export type { Pack, Conversation, LoadedPack } from "./pack.js";
export { LayeredRecordedBackend } from "./layered.js";
export type { RecordedBackendOptions } from "./recorded.js";
export { RecordingBackend } from "./recorder.js";
export type { CollectedSession, RecordingBackendOptions } from "./recorder.js";
export { createBackend, defaultRecordingsDir, packageRoot } from "./backends.js";
export type { BackendSpec } from "./backends.js";
