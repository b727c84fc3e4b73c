import cluster from 'node:cluster';
import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.ts';

/** Starts listening with `app` (an Express app or a fast lane's listener); resolves with the server and the port actually bound (0 picks a free one). */
export function listen(app: RequestListener, host: string, port: number): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer(app);
    server.listen(port, host);
    // Responses in progress, so that closing can tell them to close their connection.
    const open = new Set<ServerResponse>();
    inProgress.set(server, open);
    server.prependListener('request', (_req, res: ServerResponse) => {
      open.add(res);
      res.once('close', () => open.delete(res));
    });
    server.once('listening', () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : port });
    });
    server.once('error', reject);
  });
}

const inProgress = new WeakMap<Server, Set<ServerResponse>>();

/**
 * Closes the server: stops accepting, lets requests in flight finish, then resolves. A keep-alive
 * connection busy at this moment would otherwise stay open after its response and carry the
 * client's next requests, keeping the server open until the force timeout (seen in
 * tests/scale/graceful-shutdown.test.ts). So responses in progress and requests that still arrive
 * are answered with `Connection: close`, and connections are swept as soon as they fall idle.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    for (const res of inProgress.get(server) ?? []) if (!res.headersSent) res.setHeader('Connection', 'close');
    server.prependListener('request', (_req, res) => res.setHeader('Connection', 'close'));
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** Graceful shutdown on SIGTERM and SIGINT: stop accepting, finish requests, close the database. */
export function shutdownOnSignals(logger: Logger, close: () => Promise<void>): void {
  let closing = false;
  const handler = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    close()
      .then(workersExited)
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}

/**
 * A cluster primary (ISSUER_WORKERS) leaves only after its workers: they finish their requests in
 * flight after SIGTERM, and an exiting primary would cut them off (seen in
 * tests/scale/graceful-shutdown.test.ts). Elsewhere this resolves at once.
 */
function workersExited(): Promise<void> {
  if (!cluster.isPrimary) return Promise.resolve();
  const alive = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && !w.isDead());
  return Promise.all(alive.map((w) => new Promise<void>((resolve) => (w!.isDead() ? resolve() : w!.once('exit', () => resolve()))))).then(() => undefined);
}

/** A built service (app plus what to close) made to listen; closing stops the server first, then the rest. */
export async function serve<S extends { app: RequestListener; close(): Promise<void> }>(service: S, host: string, port: number): Promise<S & { server: Server; port: number }> {
  const { server, port: bound } = await listen(service.app, host, port);
  return {
    ...service,
    server,
    port: bound,
    close: async () => {
      await closeServer(server);
      await service.close();
    },
  };
}
