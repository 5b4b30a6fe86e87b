import type { Config } from "../config.js";
import type { RawQuery } from "../db/database.js";
import type { Logger } from "../log/logger.js";
import { chainHead } from "./audit.queries.js";
import { directorySink, httpSink, signCheckpoint, type Checkpoint, type CheckpointSink } from "./checkpoint.js";
import type { HubKey } from "./hub-key.js";

export interface Checkpointer {
  /** Signs the current head and sends it to every sink; undefined when nothing was appended since. */
  checkpointNow(): Promise<Checkpoint | undefined>;
  stop(): Promise<void>;
}

/**
 * Every `everyMs`, a signed checkpoint of the chain's head to each sink. A head already sent is not
 * sent again; a sink that fails is tried again at the next turn, and the others still get theirs.
 */
export function startCheckpointer(options: { query: RawQuery; key: HubKey; sinks: readonly CheckpointSink[]; everyMs: number; log: Logger }): Checkpointer {
  const { query, key, sinks, log } = options;
  const sent = new Map<string, number>();
  let running: Promise<Checkpoint | undefined> = Promise.resolve(undefined);

  const turn = async (): Promise<Checkpoint | undefined> => {
    const head = await chainHead(query);
    const due = sinks.filter((sink) => sent.get(sink.name) !== head.seq);
    if (head.seq === 0 || due.length === 0) return undefined;
    const checkpoint = signCheckpoint(key, head, new Date());
    await Promise.all(
      due.map(async (sink) => {
        try {
          await sink.write(checkpoint, key.publicKeyPem);
          sent.set(sink.name, head.seq);
        } catch (error) {
          log.error({ err: error, sink: sink.name, seq: head.seq }, "audit checkpoint not delivered; retrying at the next turn");
        }
      }),
    );
    log.info({ seq: head.seq, sinks: due.map((s) => s.name) }, "audit checkpoint signed");
    return checkpoint;
  };
  // One turn at a time: a slow sink must not pile up overlapping turns.
  const checkpointNow = () => (running = running.then(turn, turn));
  const timer = setInterval(() => checkpointNow().catch((error: unknown) => log.error({ err: error }, "audit checkpoint failed")), options.everyMs);
  timer.unref();
  return {
    checkpointNow,
    async stop() {
      clearInterval(timer);
      await running.catch(() => undefined);
    },
  };
}

/** The configured sinks: always the directory, and the HTTP endpoint when one is set. */
export function checkpointSinks(config: Config): CheckpointSink[] {
  return [directorySink(config.audit.checkpointDir), ...(config.audit.checkpointUrl ? [httpSink(config.audit.checkpointUrl)] : [])];
}
