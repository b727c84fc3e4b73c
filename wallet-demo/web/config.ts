import { ConfigError, intFromEnv } from '../../core/config/env.ts';

/** The web wallet's own settings, read once at start-up (main.ts). */
export interface WalletWebConfig {
  /** WALLET_IDLE_TIMEOUT, seconds (default 600): a session without a request for this long is locked. */
  idleTimeoutMs: number;
  /** WALLET_ALLOWED_HOSTS: more `Host` values (host:port, comma-separated) besides the public URL's. */
  extraHosts: string[];
}

const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

export function loadWalletWebConfig(env: NodeJS.ProcessEnv = process.env): WalletWebConfig {
  const idleTimeoutMs = intFromEnv('WALLET_IDLE_TIMEOUT', { WALLET_IDLE_TIMEOUT: env.WALLET_IDLE_TIMEOUT || undefined }, 600, 30, 24 * 3600) * 1000;
  const extraHosts = (env.WALLET_ALLOWED_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  for (const h of extraHosts) if (!HOST.test(h)) throw new ConfigError(`WALLET_ALLOWED_HOSTS: "${h}" is not a host name with an optional port`);
  return { idleTimeoutMs, extraHosts };
}
