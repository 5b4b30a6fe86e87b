import type { Bus } from "../bus/bus.js";
import type { Database } from "../db/database.js";
import type { Logger } from "../log/logger.js";
import { qualityCode, type Rejection, type Sample } from "./sample.js";

export interface WriteRequest {
  readonly samples: readonly Sample[];
  readonly rejections: readonly Rejection[];
}

interface Pending extends WriteRequest {
  resolve(): void;
  reject(error: Error): void;
}

/** Requests written together, their rows gathered once. */
interface Batch {
  readonly waiting: Pending[];
  readonly samples: Sample[];
  readonly rejections: Rejection[];
}

export interface WriterStats {
  stored: number;
  duplicates: number;
  quarantined: number;
  batches: number;
  failedAttempts: number;
  pending: number;
  lastBatchRows: number;
  lastBatchMs: number;
  /** Time spent in database writes, to tell a database-bound writer from an idle one. */
  writeMs: number;
}

const INSERT_TELEMETRY = `
insert into telemetry (data_point_id, ts, value, quality)
select p, to_timestamp(t / 1000.0), v, q
from unnest($1::int4[], $2::float8[], $3::float8[], $4::int2[]) as u(p, t, v, q)`;

/**
 * Redelivered readings (a QoS 1 message the broker sent again after a crash or reconnect) would
 * break the primary key. Skipping them with ON CONFLICT costs two to three times a plain insert
 * on PostgreSQL, so a batch takes this path only after the plain insert met a duplicate.
 */
const INSERT_TELEMETRY_SKIPPING_DUPLICATES = `${INSERT_TELEMETRY}
on conflict (data_point_id, ts) do nothing`;

const UNIQUE_VIOLATION = "23505";

/** Quarantined rows ride in the same statement, so a batch is stored whole or not at all. */
const WITH_QUARANTINE = `
with quarantined as (
  insert into quarantine (source, topic, payload, reason, detail, data_point_id)
  select * from unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::int4[])
)`;

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

/**
 * The telemetry hot path: requests are gathered for at most `flushMs` or `batchMax` rows and
 * written with one unnest insert each (drizzle's builder is too slow here). A request's promise
 * resolves only after its batch committed, which is what lets the MQTT source acknowledge late.
 * When the database is away the batch is retried with backoff, never dropped: nothing in it has
 * been acknowledged, so the broker still holds it too.
 */
export class TelemetryWriter {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  /** Settles when every batch taken so far is committed and released, in the order taken. */
  private released: Promise<void> = Promise.resolve();
  private closed = false;
  readonly stats: WriterStats = {
    stored: 0,
    duplicates: 0,
    quarantined: 0,
    batches: 0,
    failedAttempts: 0,
    pending: 0,
    lastBatchRows: 0,
    lastBatchMs: 0,
    writeMs: 0,
  };

  constructor(
    private readonly database: Database,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly options: { batchMax: number; flushMs: number; writeConnections?: number },
  ) {}

  write(request: WriteRequest): Promise<void> {
    if (this.closed) return Promise.reject(new Error("telemetry writer is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ ...request, resolve, reject });
      this.queuedRows += rowsOf(request);
      this.stats.pending = this.queuedRows;
      if (this.queuedRows >= this.options.batchMax) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.options.flushMs);
    });
  }

  /** Writes everything queued so far. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight > 0) {
      this.kick();
      await this.released;
    }
  }

  /** Stops accepting writes and flushes, giving up after `timeoutMs` (unwritten data is unacknowledged). */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    let timeout: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<"timeout">((resolve) => (timeout = setTimeout(() => resolve("timeout"), timeoutMs)));
    const result = await Promise.race([this.flush(), gaveUp]);
    clearTimeout(timeout);
    if (result === "timeout") {
      this.log.warn({ pendingRows: this.queuedRows }, "telemetry writer closed with unwritten rows; they were never acknowledged");
      const error = new Error("telemetry writer closed before these rows were written");
      for (const p of this.queue.splice(0)) p.reject(error);
    }
  }

  /**
   * Starts batches while there is work and a free connection. Batches may commit out of order
   * (two connections), but each is released only after the one before it, so acknowledgements
   * and bus events keep the order in which readings arrived.
   */
  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const connections = this.options.writeConnections ?? 1;
    while (this.queue.length > 0 && this.inFlight < connections) {
      const batch = this.takeBatch();
      this.inFlight++;
      const written = this.writeWithRetry(batch);
      const previous = this.released;
      this.released = (async () => {
        const outcome = await written;
        await previous;
        this.release(batch, outcome);
      })();
      void written.finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.kick();
      });
    }
  }

  private release(batch: Batch, outcome: Error | undefined): void {
    if (outcome) {
      for (const p of batch.waiting) p.reject(outcome);
      return;
    }
    for (const p of batch.waiting) p.resolve();
    if (batch.samples.length > 0) this.bus.emit("samplesStored", batch.samples);
  }

  private takeBatch(): Batch {
    let rows = 0;
    let count = 0;
    while (count < this.queue.length && (count === 0 || rows + rowsOf(this.queue[count]!) <= this.options.batchMax)) {
      rows += rowsOf(this.queue[count]!);
      count++;
    }
    this.queuedRows -= rows;
    this.stats.pending = this.queuedRows;
    const waiting = this.queue.splice(0, count);
    return { waiting, samples: waiting.flatMap((p) => p.samples), rejections: waiting.flatMap((p) => p.rejections) };
  }

  /** Resolves with undefined once written, or with the error when closing gave up on it. */
  private async writeWithRetry(batch: Batch): Promise<Error | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.writeBatch(batch);
        return undefined;
      } catch (error) {
        this.stats.failedAttempts++;
        const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt);
        this.log.error({ err: error, attempt, retryInMs: delay, rows: rowsOf(batch) }, "telemetry batch write failed; retrying");
        if (this.closed && attempt >= 2) return error as Error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async writeBatch({ samples, rejections }: Batch): Promise<void> {
    const started = performance.now();
    const params: unknown[] = [
      numberArray(samples, (s) => s.dataPointId),
      numberArray(samples, (s) => s.ts),
      numberArray(samples, (s) => s.value),
      numberArray(samples, (s) => qualityCode[s.quality]),
    ];
    const prefix = rejections.length > 0 ? WITH_QUARANTINE : "";
    if (rejections.length > 0) {
      params.push(
        rejections.map((r) => storableText(r.source)),
        rejections.map((r) => storableText(r.topic)),
        rejections.map((r) => storableText(r.payload)),
        rejections.map((r) => r.reason),
        rejections.map((r) => storableText(r.detail)),
        rejections.map((r) => r.dataPointId ?? null),
      );
    }
    const result = await this.database.query(prefix + INSERT_TELEMETRY, params).catch((error: { code?: string }) => {
      if (error.code !== UNIQUE_VIOLATION) throw error;
      return this.database.query(prefix + INSERT_TELEMETRY_SKIPPING_DUPLICATES, params);
    });
    const inserted = result.rowCount;
    this.stats.stored += inserted;
    this.stats.duplicates += samples.length - inserted;
    this.stats.quarantined += rejections.length;
    this.stats.batches++;
    this.stats.lastBatchRows = samples.length + rejections.length;
    this.stats.lastBatchMs = performance.now() - started;
    this.stats.writeMs += this.stats.lastBatchMs;
  }
}

const rowsOf = (p: WriteRequest) => p.samples.length + p.rejections.length;

/**
 * PostgreSQL text cannot hold U+0000, which a binary payload decoded as UTF-8 (and V8's JSON.parse
 * message quoting it) contains. Such a batch would fail on every retry and, since batches are
 * released in order, hold back every acknowledgement after it; store U+FFFD in its place, as the
 * UTF-8 decoding already does for other undecodable bytes.
 */
const storableText = (text: string) => (text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text);

/**
 * A PostgreSQL array literal of finite numbers. pg's generic array encoder escapes element by
 * element and was a tenth of the hot path's CPU; numbers need no escaping.
 */
function numberArray<T>(rows: readonly T[], pick: (row: T) => number): string {
  let literal = "{";
  for (let i = 0; i < rows.length; i++) literal += (i === 0 ? "" : ",") + pick(rows[i]!);
  return `${literal}}`;
}
