/**
 * A profile reproduces one range of libvirt releases byte for byte: how it formats domain XML into
 * SXPR, how it parses SXPR back into domain XML, and how it puts requests on the wire.
 * Profiles know nothing of backends.
 */
import type { WireEncoding } from "./wire.js";
import type { Behaviour, Gate } from "./releases.js";

export interface ConvertOptions {
  /** xend's `xend_config_format` as libvirt detected it (1..4; 4 for any xend >= 3.1). */
  xendConfigVersion: number;
  /** File name for error messages. */
  file?: string;
}

export interface FormatOutcome {
  /** The SXPR exactly as this libvirt would build it (xenFormatSxpr). */
  sxpr: string;
  /** Warnings this libvirt would log (VIR_WARN) while formatting. */
  warnings: string[];
}

export interface ParseOutcome {
  /** The domain XML exactly as this libvirt would show it (virDomainDefFormat of xenParseSxpr). */
  xml: string;
  warnings: string[];
}

export interface Profile {
  /** Stable id: the release (`1.1.3`, `0.9.11.3`) or the patch profile (`0.8.7+rfc-localtime`). */
  readonly id: string;
  /** The release modelled (for a patch profile: the release it patches). */
  readonly release?: string;
  /**
   * The era (one of the four clock eras, e.g. `0.9.11-1.3.0`, or the patch profile's id): it names the
   * domains a cell defines on xend, so releases of one era share domain names.
   */
  readonly era?: string;
  /** First and last release of the era (inclusive), e.g. `0.9.11` and `1.3.0`. */
  readonly first: string;
  readonly last: string;
  /** One line describing this release's behaviour. */
  readonly summary: string;
  /** The rows of the table of changes (releases.ts) this release carries. */
  readonly gates?: readonly Gate[];
  /** False for releases whose own suite is not available (modelled from the table alone). */
  readonly checked?: boolean;
  /** Set when this release cannot talk to xend at all (e.g. 1.2.1): every cell fails with this reason. */
  readonly unusable?: { reason: string; commit: string };
  /** For patch profiles: the release it patches and where the patch comes from. */
  readonly patch?: { base: string; name: string; source: string };
  readonly wire: WireEncoding;
  /**
   * XML → SXPR. Throws HarnessError `libvirt.*` when this libvirt would refuse the XML (the message is
   * libvirt's own, e.g. "unsupported clock offset 'variable'"), `input.xml` when the XML is malformed.
   */
  format(xml: string, opts: ConvertOptions): FormatOutcome | Promise<FormatOutcome>;
  /** SXPR → XML. Throws HarnessError `libvirt.*` when this libvirt would fail, `input.sxpr` on bad text. */
  parse(sxpr: string, opts: ConvertOptions): ParseOutcome | Promise<ParseOutcome>;
  /**
   * Built profiles (`src:DIR`) answer through a separate process, so format and parse may return a
   * Promise: every caller awaits them. `prepare` (built profiles only) builds the tree before the first
   * conversion, so that a failing build is one clear error before any cell runs.
   */
  prepare?(log?: (line: string) => void): Promise<void>;
  /** What reports show for this libvirt (built profiles: the tree's version, commit and changes). */
  readonly label?: string;
  /** The model profile whose recordings and domain names a built profile shares (its release's). */
  readonly replayAs?: string;
}

/** A model profile (TypeScript): answers synchronously. */
export interface ModelProfile extends Profile {
  format(xml: string, opts: ConvertOptions): FormatOutcome;
  parse(sxpr: string, opts: ConvertOptions): ParseOutcome;
}

export type { Behaviour } from "./releases.js";

/** XML → SXPR for one behaviour (implemented in ./format). */
export type FormatFn = (xml: string, behaviour: Behaviour, opts: ConvertOptions) => FormatOutcome;
/** SXPR → XML for one behaviour (implemented in ./parse). */
export type ParseFn = (sxpr: string, behaviour: Behaviour, opts: ConvertOptions) => ParseOutcome;
