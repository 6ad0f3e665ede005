// A TCP proxy in front of the server, so a test can drop the browser's connections for real (the
// browser sees its WebSocket die with no close frame, code 1006) and keep it offline for a while.
// Chromium's offline emulation does not close open WebSockets, so it cannot stand in for this.
import { type Server, type Socket, connect, createServer } from "node:net";

export interface TcpProxy {
  port: number;
  /** Connections currently open through the proxy. */
  readonly open: number;
  /** Destroys every open connection, both sides. */
  dropAll(): void;
  /** While offline, new connections are accepted and closed at once (a dead network). */
  setOffline(offline: boolean): void;
  stop(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let offline = false;
  const server: Server = createServer((client) => {
    if (offline) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, "127.0.0.1");
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    // pipe() honours backpressure both ways (a 1 MB replay must not pile up in the proxy).
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("proxy: no port");
  const proxy: TcpProxy = {
    port: address.port,
    get open() {
      return pairs.size;
    },
    dropAll() {
      for (const [client, upstream] of [...pairs]) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    setOffline(value) {
      offline = value;
    },
    stop() {
      proxy.dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
