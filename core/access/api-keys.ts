import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys for the admin APIs: one per office (issuer), relying party (verifier) or registry
 * operator, each with a role and scopes. The key id is public (it names the actor in the audit
 * trail); the secret is 256 random bits, shown once, and stored only as its SHA-256 digest.
 *
 * Wire form (an RFC 6750 bearer token): `<id>.<secret>`, e.g. `issuer_3f9a2c7d1e5b8a40.<43 base64url>`.
 * The id names its service, so an operator can tell keys apart and the CLI finds the database.
 */

export const KEY_SERVICES = ['issuer', 'verifier', 'registry'] as const;
export type KeyService = (typeof KEY_SERVICES)[number];

/** clerk: offers and presentation requests and their results; administrator: everything of its scope. */
export const ROLES = ['clerk', 'administrator'] as const;
export type Role = (typeof ROLES)[number];

/** Every scope of the service (the bootstrap token, a city-wide administrator). */
export const ALL_SCOPES = '*';

/** Scope prefix per service: `office:<slug>` on the issuer, `verifier:<slug>` on the verifier; the registry has only `*`. */
export const SCOPE_PREFIX: Record<KeyService, string | null> = { issuer: 'office', verifier: 'verifier', registry: null };

export type RandomBytes = (n: number) => Buffer;

const TOKEN = /^((?:issuer|verifier|registry)_[0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;

export function newKeyId(service: KeyService, random: RandomBytes = randomBytes): string {
  return `${service}_${random(8).toString('hex')}`;
}

export function newSecret(random: RandomBytes = randomBytes): string {
  return random(32).toString('base64url');
}

export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export const formatToken = (id: string, secret: string): string => `${id}.${secret}`;

/** The key id and secret of a bearer token in API-key form, or undefined for any other token. */
export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = TOKEN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** Constant-time comparison of a presented secret with the stored digest. */
export function secretMatches(secret: string, storedHashHex: string): boolean {
  const stored = Buffer.from(storedHashHex, 'hex');
  const got = createHash('sha256').update(secret).digest();
  return stored.length === got.length && timingSafeEqual(got, stored);
}

/** An administrator may do what a clerk may do, within its scopes. */
export const roleSatisfies = (have: Role, need: Role): boolean => have === 'administrator' || need === 'clerk';

/** Checks a scope's syntax for a service (`*`, `office:<slug>`, `verifier:<slug>`). */
export function scopeError(service: KeyService, scope: string, knownSlugs: readonly string[]): string | undefined {
  if (scope === ALL_SCOPES) return undefined;
  const prefix = SCOPE_PREFIX[service];
  if (!prefix) return `the ${service} knows only the scope "*"`;
  const m = /^([a-z]+):([a-z0-9-]{1,64})$/.exec(scope);
  if (!m || m[1] !== prefix) return `scope must be "*" or "${prefix}:<slug>"`;
  if (!knownSlugs.includes(m[2]!)) return `unknown ${prefix} "${m[2]}" (known: ${knownSlugs.join(', ')})`;
  return undefined;
}

/** Who made an authenticated request. `actor` is what the audit trail records: the key id, never a secret. */
export interface Principal {
  actor: string;
  keyId: string | null;
  role: Role;
  scopes: string[];
}

export const BOOTSTRAP: Principal = Object.freeze({ actor: 'admin:bootstrap', keyId: null, role: 'administrator', scopes: [ALL_SCOPES] }) as Principal;
