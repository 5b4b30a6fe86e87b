import { listBindings } from "../assets/asset.queries.js";
import type { Database } from "../db/database.js";
import type { Logger } from "../log/logger.js";
import { forgetConnectivityExcept } from "../telemetry/connectivity.store.js";
import type { TelemetryWriter } from "../telemetry/telemetry.writer.js";
import type { RawReading } from "../telemetry/sample.js";
import { BindingIndex } from "./binding-index.js";
import type { MqttSource } from "./mqtt.source.js";
import { normalize } from "./payload.normalizer.js";
import { SparkplugBindings } from "./sparkplug/sparkplug.bindings.js";
import type { SparkplugHost } from "./sparkplug/sparkplug.host.js";
import { isSparkplugTopic } from "./sparkplug/sparkplug.topic.js";

/**
 * Wires a source to the normalizer and the writer, and keeps the topic bindings in step with
 * the asset model. Readings flow one way: source → normalizer → writer (→ bus after commit).
 */
/** Bindings are re-read this often even without a change notice: the pubsub is a hint, the database the truth. */
const BINDINGS_REFRESH_MS = 60_000;

export class IngestService {
  private index = new BindingIndex([]);
  private reloading: Promise<void> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly database: Database,
    private readonly source: MqttSource,
    private readonly writer: TelemetryWriter,
    private readonly log: Logger,
    /** Reads the spBv1.0 namespace when set. */
    private readonly sparkplug?: SparkplugHost,
  ) {}

  async start(): Promise<void> {
    await this.reloadBindings();
    await this.source.start((reading) => this.accept(reading));
    this.refreshTimer = setInterval(() => {
      this.reloadBindings().catch((error: unknown) => this.log.error({ err: error }, "refreshing ingest bindings failed"));
    }, BINDINGS_REFRESH_MS);
    this.refreshTimer.unref();
  }

  accept(reading: RawReading): Promise<void> {
    if (this.sparkplug && isSparkplugTopic(reading.topic)) return this.writer.write(this.sparkplug.accept(reading));
    return this.writer.write(normalize(reading, this.index.lookup(reading.topic)));
  }

  /** Re-reads the bindings from the database; concurrent calls share one reload. */
  reloadBindings(): Promise<void> {
    this.reloading ??= (async () => {
      try {
        const rows = await listBindings(this.database.db);
        this.index = BindingIndex.fromRows(rows);
        const sparkplug = new SparkplugBindings(rows);
        this.sparkplug?.setBindings(sparkplug);
        // A machine whose Sparkplug binding went must not stay OFFLINE from its last death.
        this.sparkplug?.released(await forgetConnectivityExcept(this.database.db, sparkplug.machineIds()));
        await this.source.setFilters([...this.index.subscriptionFilters(), ...(this.sparkplug?.subscriptionFilters() ?? [])]);
        this.log.debug({ bindings: this.index.size }, "ingest bindings loaded");
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  async stop(): Promise<void> {
    clearInterval(this.refreshTimer);
    await this.source.stop();
  }
}
