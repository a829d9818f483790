/**
 * A TCP proxy that can cut every connection through it at once, as a network drop would: both sockets are
 * destroyed (a reset, no orderly close), so the client hears nothing more from the far end.
 *
 *   const proxy = await startTcpCutProxy(sshdPort);
 *   const spec = { ...host.spec, port: proxy.port };   // the worker connects through it
 *   proxy.cut();                                        // every open connection drops; new ones are let through
 */
import net from 'node:net';

export interface TcpCutProxy {
  port: number;
  /** Connections accepted so far, cut or not. */
  readonly accepted: number;
  /** Drops every open connection; returns how many it dropped. */
  cut(): number;
  close(): Promise<void>;
}

export async function startTcpCutProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpCutProxy> {
  const open = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(targetPort, targetHost);
    const pair = [client, upstream];
    for (const socket of pair) {
      open.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        open.delete(socket);
        for (const other of pair) other.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    get accepted() {
      return accepted;
    },
    cut() {
      const clients = [...open].length / 2;
      for (const socket of open) socket.resetAndDestroy();
      return clients;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
