import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** Runs a GraphQL operation over HTTP at `endpoint` (…/graphql), as the holder of `apiKey` and returns its body; fails the test on transport errors. */
export async function graphql<T = Record<string, any>>(
  endpoint: string,
  query: string,
  variables: Record<string, unknown> = {},
  apiKey?: string,
): Promise<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] }> {
  const response = await post(endpoint, { query, variables }, apiKey ? { authorization: `Bearer ${apiKey}` } : {});
  if (!response.ok && response.status !== 400) throw new Error(`GraphQL answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as never;
}

/**
 * A graphql-ws client for the endpoint's WebSocket side (same URL, ws scheme), sending
 * `connectionParams` (e.g. { authorization: "Bearer ..." }) in connection_init.
 */
export function wsClient(endpoint: string, connectionParams: Record<string, unknown> = {}): Client {
  return createClient({ url: endpoint.replace(/^http/, "ws"), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams });
}

/** The first `count` results of a subscription. */
export function firstResults(client: Client, query: string, count: number, variables: Record<string, unknown> = {}): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const results: unknown[] = [];
    const unsubscribe = client.subscribe(
      { query, variables },
      {
        next: (result) => {
          results.push(result);
          if (results.length === count) {
            unsubscribe();
            resolve(results);
          }
        },
        error: reject,
        complete: () => resolve(results),
      },
    );
  });
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
