import type { Bus } from "../bus/bus.js";
import type { Database } from "../db/database.js";
import type { TransitionRecorder } from "../events/transition.recorder.js";
import type { Logger } from "../log/logger.js";
import type { HubPubSub } from "../pubsub/pubsub.js";
import type { RuleDefinition } from "./evaluate.js";
import { RuleEngine } from "./rule-engine.js";
import { loadRuleDefinitions } from "./rule.service.js";

const TICK_MS = 1_000;
const RELOAD_MS = 60_000;
/** History read per rule when it starts, so baselines and trends need not relearn after a restart. */
const SEED_ROWS = 20_000;

/**
 * Runs the rule engine in an ingest process: every committed batch of samples is evaluated, a
 * tick drives time-based confirmations and stale data, and transitions go to the recorder. Rules
 * reload when they or the plant change (RULES_CHANGED, ASSETS_CHANGED) and once a minute.
 */
export class RuleRunner {
  private readonly engine = new RuleEngine();
  private readonly seeded = new Set<string>();
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe?: () => void;
  private stopListening?: () => Promise<void>;
  private reloading?: Promise<void>;

  constructor(
    private readonly database: Database,
    private readonly bus: Bus,
    private readonly pubsub: HubPubSub,
    private readonly recorder: TransitionRecorder,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.reload();
    this.unsubscribe = this.bus.on("rule-engine", "samplesStored", (samples) => this.recorder.record(this.engine.onSamples(samples)));
    this.timers = [
      setInterval(() => void this.recorder.record(this.engine.tick(Date.now())), TICK_MS),
      setInterval(() => void this.reload(), RELOAD_MS),
    ];
    // A plant file applied elsewhere (CLI, another replica) says ASSETS_CHANGED; GraphQL says RULES_CHANGED.
    const feeds = [this.pubsub.subscribe("RULES_CHANGED"), this.pubsub.subscribe("ASSETS_CHANGED")];
    const listening = feeds.map(async (feed) => {
      for await (const _ of feed) await this.reload();
    });
    this.stopListening = async () => {
      await Promise.all(feeds.map((feed) => feed.return(undefined)));
      await Promise.all(listening);
    };
  }

  async stop(): Promise<void> {
    this.timers.forEach(clearInterval);
    this.unsubscribe?.();
    await this.stopListening?.();
    await this.reloading;
    await this.recorder.close();
  }

  /** Loads the enabled rules; never throws (a failed reload keeps the rules it had). */
  reload(): Promise<void> {
    return (this.reloading ??= (async () => {
      try {
        const definitions = await loadRuleDefinitions(this.database.db, this.log);
        this.engine.load(definitions);
        for (const rule of definitions) await this.seed(rule);
        this.log.debug({ rules: definitions.length }, "rules loaded");
      } catch (error) {
        this.log.error({ err: error }, "loading rules failed; keeping the rules loaded before");
      } finally {
        this.reloading = undefined;
      }
    })());
  }

  private async seed(rule: RuleDefinition): Promise<void> {
    const key = `${rule.id}@${rule.version}`;
    if (this.seeded.has(key)) return;
    this.seeded.add(key);
    const window = rule.params.kind === "deviation" ? rule.params.baselineWindowSeconds : rule.params.kind === "trend" ? rule.params.windowSeconds : 0;
    if (window <= 0) return;
    const { rows } = await this.database.query<{ ts: Date; value: number }>(
      `select ts, value from (select ts, value from telemetry where data_point_id = $1 and ts > now() - make_interval(secs => $2) and quality = 0 order by ts desc limit $3) recent order by ts`,
      [rule.dataPointId, window, SEED_ROWS],
    );
    if (rows.length > 0) this.engine.seedHistory(rule.id, rows.map((r) => ({ ts: new Date(r.ts).getTime(), value: Number(r.value) })));
  }
}
