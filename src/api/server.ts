import type { Server } from 'node:http';
import type { Express } from 'express';
import type { AddressInfo } from 'node:net';
import { createApp, type ApiDeps } from './app';

export interface ApiServer {
  url: string;
  /** The routes, for the API-contract test. */
  app: Express;
  stop(): Promise<void>;
}

/** Listens on host:port (port 0 picks a free one, as tests do). `stop` refuses new connections and lets open ones finish. */
export async function startApiServer(deps: ApiDeps, host: string, port: number): Promise<ApiServer> {
  const app = createApp(deps);
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const { port: actualPort } = server.address() as AddressInfo;
  return {
    app,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actualPort}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
