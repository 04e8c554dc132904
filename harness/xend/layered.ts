/**
 * Recordings in layers: the user's own directories over the shipped recordings, later layers over
 * earlier. A cell replays from the top-most layer that holds its own recording; a cell that none holds
 * is answered by the top-most layer holding any recording of its xend version (a recording answers
 * every cell that sends the same conversation); with none, the top layer says what to record.
 */
import type { Backend, BackendSession, DomainInstance, Provenance } from "./types.js";
import type { RecordedBackend } from "./recorded.js";

export class LayeredRecordedBackend implements Backend {
  readonly kind = "recorded" as const;
  readonly xendVersion: string;
  readonly concurrency: number;
  readonly guestControl = true;
  /** Top layer first. */
  private readonly top: RecordedBackend[];

  /** `layers`: bottom first (the shipped recordings), the user's on top. */
  constructor(layers: RecordedBackend[]) {
    if (!layers.length) throw new Error("LayeredRecordedBackend needs at least one layer");
    this.top = [...layers].reverse();
    this.xendVersion = layers[0].xendVersion;
    this.concurrency = Math.min(...layers.map((l) => l.concurrency));
  }

  provenance(): Provenance {
    const p = this.top[0].provenance();
    return { ...p, tree: this.top.map((l) => l.provenance().tree).join(" over ") };
  }

  /** The layer that answers a cell. */
  layerFor(cellId: string): RecordedBackend {
    return this.top.find((l) => l.hasOwn(cellId)) ?? this.top.find((l) => l.serves()) ?? this.top[0];
  }

  open(cellId: string, instance?: DomainInstance): Promise<BackendSession> {
    return this.layerFor(cellId).open(cellId, instance);
  }

  async close(): Promise<void> {
    for (const l of this.top) await l.close();
  }
}
