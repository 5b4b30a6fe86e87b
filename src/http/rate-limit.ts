import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { Logger } from "../log/logger.js";

/** Operations per key and minute, shared by every replica through Redis when there is one. */
export interface OperationRateLimiter {
  /** Counts one operation; undefined when it may run, else the seconds until the key may try again. */
  consume(key: string): Promise<number | undefined>;
  close(): Promise<void>;
}

const WINDOW_SECONDS = 60;
const KEY_PREFIX = "plantgraph-rate";

/** How long startup waits for Redis before counting in memory (until Redis is back) instead. */
const REDIS_READY_WAIT_MS = 2_000;

/** Resolves once Redis answers (or after a short wait), so the first operations are counted where every replica sees them. */
export async function createOperationRateLimiter(options: { perMinute: number; redisUrl?: string; log: Logger }): Promise<OperationRateLimiter> {
  const { perMinute, redisUrl, log } = options;
  const memory = () => new RateLimiterMemory({ points: perMinute, duration: WINDOW_SECONDS, keyPrefix: KEY_PREFIX });
  let redis: Redis | undefined;
  let limiter: RateLimiterAbstract;
  if (redisUrl) {
    // Its own connection, failing fast: a Redis outage must not hold requests in an offline queue.
    redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    let reported = false;
    redis.on("error", (error: Error) => {
      if (!reported) log.warn({ err: error }, "rate limiter lost Redis; counting in this process until it is back");
      reported = true;
    });
    redis.on("ready", () => (reported = false));
    // While Redis is away each replica counts on its own: a per-replica limit beats refusing everyone.
    limiter = new RateLimiterRedis({
      storeClient: redis,
      points: perMinute,
      duration: WINDOW_SECONDS,
      keyPrefix: KEY_PREFIX,
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory(),
    });
    await readyOrTimeout(redis, REDIS_READY_WAIT_MS);
  } else {
    limiter = memory();
  }

  return {
    async consume(key) {
      try {
        await limiter.consume(key);
        return undefined;
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        log.error({ err: rejection }, "rate limiter failed; letting the operation through");
        return undefined;
      }
    },
    async close() {
      if (!redis || redis.status === "end") return;
      await redis.quit().catch(() => redis?.disconnect());
    },
  };
}

function readyOrTimeout(redis: Redis, ms: number): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off("ready", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    redis.once("ready", done);
  });
}
