import net from "node:net";
import type { Logger } from "../log/logger.js";

export interface EmbeddedBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface EmbeddedBrokerOptions {
  /** Exactly this port (0 = any free port). Without it: 1883 when free, else any free port. */
  port?: number;
  host?: string;
  log: Logger;
}

const MQTT_DEFAULT_PORT = 1883;

/** An in-process MQTT broker (aedes) so the demo runs without Mosquitto. */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log.child({ component: "embedded-broker" });

  const { Aedes } = await import("aedes");
  const broker = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    broker.handle(socket);
  });

  try {
    if (options.port !== undefined) {
      await listen(server, options.port, host);
    } else {
      await listen(server, MQTT_DEFAULT_PORT, host).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "EADDRINUSE") throw error;
        log.info({ port: MQTT_DEFAULT_PORT }, "port in use, taking any free port");
        return listen(server, 0, host);
      });
    }
  } catch (error) {
    await closeBroker(broker);
    throw error;
  }

  const port = (server.address() as net.AddressInfo).port;
  const url = `mqtt://${host.includes(":") ? `[${host}]` : host}:${port}`;
  log.info({ url }, "embedded MQTT broker listening");

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await closeBroker(broker);
      // Connections still in the MQTT handshake are not aedes clients yet; server.close() would wait for them.
      for (const socket of sockets) socket.destroy();
      await serverClosed;
      log.info({ url }, "embedded MQTT broker closed");
    })();
    return closing;
  };

  return { url, port, close };
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off("listening", onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

function closeBroker(broker: { close(callback?: () => void): void }): Promise<void> {
  return new Promise((resolve) => broker.close(() => resolve()));
}
