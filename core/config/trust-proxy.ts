import { isIP } from 'node:net';
import { ConfigError } from './config-error.ts';

/**
 * TRUST_PROXY for deployments behind a reverse proxy: the client address (and with it each
 * client's rate-limit bucket) is then taken from X-Forwarded-For as far as the trusted proxies
 * reach. Whatever is trusted here can name any client address it likes, so only narrow settings
 * are accepted:
 *
 * - unset, empty or `false`: no proxy, the socket peer is the client;
 * - a hop count of 1 to 3 (Express `trust proxy` number): more proxies than that in front of one
 *   service is not a deployment we describe, and a large count trusts whatever a client prepends;
 * - a comma-separated list of proxy addresses or subnets (`loopback`, `linklocal`, `uniquelocal`,
 *   `10.0.0.1`, `10.0.0.0/8`, `2001:db8::/48`), at most 16, none wider than /8 (IPv4) or /32 (IPv6).
 *   `0.0.0.0/0` or `::/0` would make every client a "proxy" and every X-Forwarded-For believed.
 *
 * `true` is refused: it believes any address a client writes into the header. Anything else is a
 * ConfigError naming the variable, so the service stops at start-up with one line, never later.
 */
export type TrustProxy = false | number | string;

export const MAX_PROXY_HOPS = 3;
const MAX_ENTRIES = 16;
/** Narrowest prefix length still accepted for a trusted subnet. */
const MIN_PREFIX = { 4: 8, 6: 32 } as const;
const NAMED = new Set(['loopback', 'linklocal', 'uniquelocal']);

const HINT = 'unset/false, a hop count 1-3, or proxy addresses/subnets such as loopback or 10.0.0.0/8';

export function parseTrustProxy(raw: string | undefined): TrustProxy {
  const v = (raw ?? '').trim();
  if (v === '' || v === 'false') return false;
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops < 1 || hops > MAX_PROXY_HOPS) throw new ConfigError(`TRUST_PROXY: a hop count must be between 1 and ${MAX_PROXY_HOPS} (got ${hops}); use ${HINT}`);
    return hops;
  }
  const parts = v.split(',').map((p) => p.trim());
  if (parts.length > MAX_ENTRIES) throw new ConfigError(`TRUST_PROXY: at most ${MAX_ENTRIES} addresses or subnets`);
  for (const p of parts) checkEntry(p);
  return parts.join(',');
}

function checkEntry(p: string): void {
  if (NAMED.has(p)) return;
  // Echo only what was checked to be an address: never a value that could be something else.
  const m = /^([0-9A-Fa-f:.]{2,45})(?:\/(\d{1,3}))?$/.exec(p);
  if (!m) throw new ConfigError(`TRUST_PROXY: each entry must be an IP address, a subnet (address/prefix) or loopback, linklocal, uniquelocal; use ${HINT}`);
  const family = isIP(m[1]!);
  if (family !== 4 && family !== 6) throw new ConfigError(`TRUST_PROXY: "${p}" is not an IP address`);
  if (m[2] === undefined) return;
  const prefix = Number(m[2]);
  const max = family === 4 ? 32 : 128;
  if (prefix > max) throw new ConfigError(`TRUST_PROXY: "${p}" has a prefix longer than /${max}`);
  if (prefix < MIN_PREFIX[family]) throw new ConfigError(`TRUST_PROXY: "${p}" is too wide (at least /${MIN_PREFIX[family]}): it would trust X-Forwarded-For from almost any client`);
}
