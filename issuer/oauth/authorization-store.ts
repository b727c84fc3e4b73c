import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { withDb } from '../../core/store/data-source.ts';
import { sqlOne, sqlRun } from '../../core/store/prepared.ts';

/**
 * Authorization code flow sessions (migration 0012), one row per pushed authorization request:
 * `pushed` (RFC 9126 §2.2: request_uri handed out) → `login` (browser sent to the city IdP) →
 * `callback` (the IdP's answer is being processed) → `code` (authorization code issued) →
 * `redeemed`; or `refused`. Each step is a conditional UPDATE on the expected phase and an unexpired
 * row, so a request_uri, a login answer and a code are each used once across processes and
 * instances sharing the database. Secrets are stored only as SHA-256 hashes (all are 256-bit
 * random values, so a plain hash suffices); the IdP PKCE verifier and nonce are sealed and dropped
 * after the callback. Nothing personal is stored: the login's claims go sealed into the offer row.
 */
export type AuthorizationPhase = 'pushed' | 'login' | 'callback' | 'code' | 'redeemed' | 'refused';

export interface AuthorizationRow {
  id: string;
  office: string;
  phase: AuthorizationPhase;
  request_uri_hash: string;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  wallet_state: string | null;
  configuration_id: string;
  /**
   * The checked `authorization_details` the request asked with, as JSON (migration 0014,
   * issuer/oauth/par.ts `AuthorizationDetail[]`); null when it asked by `scope`. When set, the token
   * response carries `authorization_details` with `credential_identifiers` (OID4VCI 1.0 §6.2).
   */
  authorization_details: string | null;
  dpop_jkt: string | null;
  browser_hash: string | null;
  login_state_hash: string | null;
  login_sealed: string | null;
  code_hash: string | null;
  offer_id: string | null;
  expires_at: number;
}

const COLUMNS = ['id', 'office', 'phase', 'request_uri_hash', 'client_id', 'redirect_uri', 'code_challenge', 'wallet_state', 'configuration_id', 'authorization_details', 'dpop_jkt', 'browser_hash', 'login_state_hash', 'login_sealed', 'code_hash', 'offer_id', 'expires_at'] as const;
const INSERT = `INSERT INTO issuer_authorizations (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`;
const SELECT = `SELECT ${COLUMNS.join(', ')} FROM issuer_authorizations`;

/** SHA-256 hex of a random secret (request_uri value, state, cookie, code). */
export const secretHash = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

const row = (r: Record<string, unknown> | undefined): AuthorizationRow | null => (r ? ({ ...r, expires_at: Number(r.expires_at) } as unknown as AuthorizationRow) : null);

export class AuthorizationStore {
  constructor(private readonly ds: DataSource) {}

  insert(r: AuthorizationRow): Promise<void> {
    return withDb(this.ds, async (m) => void (await sqlRun(m, INSERT, COLUMNS.map((c) => r[c] ?? null))));
  }

  byRequestUri(office: string, requestUriHash: string): Promise<AuthorizationRow | null> {
    return withDb(this.ds, async (m) => row(await sqlOne(m, `${SELECT} WHERE request_uri_hash = ? AND office = ?`, [requestUriHash, office])));
  }

  byLoginState(office: string, loginStateHash: string): Promise<AuthorizationRow | null> {
    return withDb(this.ds, async (m) => row(await sqlOne(m, `${SELECT} WHERE login_state_hash = ? AND office = ?`, [loginStateHash, office])));
  }

  byCode(office: string, codeHash: string): Promise<AuthorizationRow | null> {
    return withDb(this.ds, async (m) => row(await sqlOne(m, `${SELECT} WHERE code_hash = ? AND office = ?`, [codeHash, office])));
  }

  /** RFC 9126 §4 / §7.3: the request_uri is used once and only before it expires. True for exactly one caller. */
  startLogin(id: string, now: number, s: { browserHash: string; loginStateHash: string; loginSealed: string; expiresAt: number }): Promise<boolean> {
    return withDb(this.ds, async (m) => (await sqlRun(m, "UPDATE issuer_authorizations SET phase = 'login', browser_hash = ?, login_state_hash = ?, login_sealed = ?, expires_at = ? WHERE id = ? AND phase = 'pushed' AND expires_at > ?", [s.browserHash, s.loginStateHash, s.loginSealed, s.expiresAt, id, now])) === 1);
  }

  /** The IdP's answer is processed once: true for exactly one caller. The sealed IdP verifier is dropped here. */
  claimCallback(id: string, now: number): Promise<boolean> {
    return withDb(this.ds, async (m) => (await sqlRun(m, "UPDATE issuer_authorizations SET phase = 'callback' WHERE id = ? AND phase = 'login' AND expires_at > ?", [id, now])) === 1);
  }

  /** Records the authorization code (its hash) and the offer it stands for. */
  issueCode(id: string, codeHash: string, offerId: string, expiresAt: number): Promise<boolean> {
    return withDb(this.ds, async (m) => (await sqlRun(m, "UPDATE issuer_authorizations SET phase = 'code', code_hash = ?, offer_id = ?, login_sealed = NULL, expires_at = ? WHERE id = ? AND phase = 'callback'", [codeHash, offerId, expiresAt, id])) === 1);
  }

  refuse(id: string): Promise<void> {
    return withDb(this.ds, async (m) => void (await sqlRun(m, "UPDATE issuer_authorizations SET phase = 'refused', login_sealed = NULL WHERE id = ?", [id])));
  }

  /** RFC 6749 §4.1.2: the code is single use. Claimed before any other check, so a failed attempt also spends it. */
  redeem(office: string, codeHash: string, now: number): Promise<boolean> {
    return withDb(this.ds, async (m) => (await sqlRun(m, "UPDATE issuer_authorizations SET phase = 'redeemed' WHERE code_hash = ? AND office = ? AND phase = 'code' AND expires_at > ?", [codeHash, office, now])) === 1);
  }

  purgeExpired(now: number): Promise<void> {
    return withDb(this.ds, async (m) => void (await sqlRun(m, 'DELETE FROM issuer_authorizations WHERE expires_at <= ?', [now])));
  }
}
