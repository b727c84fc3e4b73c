import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from '../log/logger.ts';

/** Starts listening; resolves with the server and the port actually bound (0 picks a free one). */
export function listen(app: Express, host: string, port: number): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : port });
    });
    server.once('error', reject);
  });
}

/** Closes the server (finishing in-flight requests), then the rest. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
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
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}

/** A built service (app plus what to close) made to listen; closing stops the server first, then the rest. */
export async function serve<S extends { app: Express; close(): Promise<void> }>(service: S, host: string, port: number): Promise<S & { server: Server; port: number }> {
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
