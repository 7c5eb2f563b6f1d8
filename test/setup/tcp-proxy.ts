import net from 'node:net';

export interface TcpProxy {
  /** host:port clients connect to instead of the target. */
  address: string;
  /** The outage: every open connection is reset and new ones are refused, as when the server stops. */
  cut(): Promise<void>;
  /** Back: new connections reach the target again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A loopback TCP forwarder to `target` (host:port), to take a dependency away and bring it back mid-test. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const listen = (port: number) => new Promise<void>((ready) => server.listen(port, '127.0.0.1', ready));
  await listen(0);
  const { port } = server.address() as net.AddressInfo;
  const stop = () =>
    new Promise<void>((closed) => {
      for (const socket of open) socket.resetAndDestroy();
      server.close(() => closed());
    });
  return { address: `127.0.0.1:${port}`, cut: stop, restore: () => listen(port), close: stop };
}
