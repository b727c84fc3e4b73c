import { createHash, timingSafeEqual } from 'node:crypto';
import { decodeJwt, Oauth2ResourceUnauthorizedError, type RequestLike } from '@openid4vc/oauth2';
import type { JWK } from 'jose';
import { ProtocolError } from '../../core/http/errors.ts';
import { unverifiedClaims } from '../../core/crypto/es256-compact.ts';
import { toSeconds } from '../../core/util/time.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import type { Libraries } from '../oid4vci-lib.ts';
import { describeLibraryError, fromLibraryError, protocolStep } from '../protocol-errors.ts';
import { dpopJtiStore } from '../store/dpop-jti-store.ts';
import { pooledRandomBytes } from '../../core/crypto/random.ts';

/**
 * DPoP (RFC 9449) at the office's authorization server (token endpoint, PAR) and resource server
 * (credential and deferred endpoints). The library checks a proof's form and signature (§4.3: typ
 * `dpop+jwt`, a public `jwk`, htm, htu and, at the resource server, `ath` and `cnf.jkt`); here we add
 * what it leaves to the server: ES256 only, `iat` freshness, the server nonce (§8, §9) and
 * single use of `jti` (§11.1) across workers and instances.
 */

/** RFC 9449 §5.1 `dpop_signing_alg_values_supported`: ES256 only (HAIP). */
export const DPOP_ALGS = ['ES256'] as const;
/** Lifetime of a server nonce (§8: the server decides); a proof's `iat` may be this old at most. */
export const DPOP_NONCE_TTL_S = 300;
const PROOF_MAX_AGE_S = 300;
const CLOCK_SKEW_S = 60;
const MAX_JTI = 256;
const MAX_NONCE = 128;

type Deps = Pick<IssuerDeps, 'codes' | 'clock' | 'store'>;

// ---------------------------------------------------------------------------------------------
// Server nonces (§8.1, §9): stateless, `<expiry base36>.<random>.<HMAC>`, the MAC under a key derived
// from the key-encryption secret (issuer/deps.ts CodeKeys), so every worker and instance accepts
// every other's nonces without a table. A nonce is bound to the office that issued it.

export function createDpopNonce(deps: Pick<IssuerDeps, 'codes' | 'clock'>, office: Office): string {
  return createServerNonce(deps, office, 'dpop-nonce', DPOP_NONCE_TTL_S);
}

/** True when `nonce` is one of ours for this office and has not expired. */
export function validDpopNonce(deps: Pick<IssuerDeps, 'codes' | 'clock'>, office: Office, nonce: unknown): boolean {
  return validServerNonce(deps, office, 'dpop-nonce', nonce, DPOP_NONCE_TTL_S);
}

/**
 * A stateless server nonce of this form for any purpose (DPoP nonces here; wallet attestation
 * challenges in issuer/oauth/wallet-attestation.ts). `purpose` is part of the MAC input, so a value
 * issued for one purpose (or office) never passes as another's.
 */
export function createServerNonce(deps: Pick<IssuerDeps, 'codes' | 'clock'>, office: Office, purpose: string, ttlS: number): string {
  const exp = (toSeconds(deps.clock()) + ttlS).toString(36);
  const rnd = pooledRandomBytes(12).toString('base64url');
  return `${exp}.${rnd}.${mac(deps, office, purpose, exp, rnd)}`;
}

function mac(deps: Pick<IssuerDeps, 'codes'>, office: Office, purpose: string, exp: string, rnd: string): string {
  return deps.codes.dpopNonceMac(`${purpose}:${office.slug}:${exp}:${rnd}`).subarray(0, 18).toString('base64url');
}

/** True when `value` is a nonce of ours for this office and purpose and has not expired. */
export function validServerNonce(deps: Pick<IssuerDeps, 'codes' | 'clock'>, office: Office, purpose: string, value: unknown, ttlS: number): boolean {
  if (typeof value !== 'string' || value.length > MAX_NONCE) return false;
  const m = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{24})$/.exec(value);
  if (!m) return false;
  const expected = Buffer.from(mac(deps, office, purpose, m[1]!, m[2]!));
  const given = Buffer.from(m[3]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return false;
  const exp = parseInt(m[1]!, 36);
  const now = toSeconds(deps.clock());
  return exp > now && exp <= now + ttlS + CLOCK_SKEW_S;
}

// ---------------------------------------------------------------------------------------------
// Errors

const invalidProof = (d: string, headers: Record<string, string> = {}) => new ProtocolError('invalid_dpop_proof', d, 400, { headers });

/** §8: the authorization server asks for (another) nonce: 400 `use_dpop_nonce` with a fresh `DPoP-Nonce`. */
const useNonceAtAs = (deps: Deps, office: Office) => new ProtocolError('use_dpop_nonce', 'A DPoP proof with the server nonce from the DPoP-Nonce header is required.', 400, { headers: { 'DPoP-Nonce': createDpopNonce(deps, office) } });

/** §7.1, §9: the resource server answers 401 with a `DPoP` challenge (and `algs`). */
function resourceError(error: string, description: string, extraHeaders: Record<string, string> = {}, scheme: 'DPoP' | 'Bearer' = 'DPoP'): ProtocolError {
  // The challenge names the error only (RFC 6750 §3 quoted-string, printable ASCII): library texts can
  // quote what the client sent (a token's `iss`), and a character outside Latin-1 in a header is a 500.
  const code = /^[a-z_]{1,40}$/.test(error) ? error : 'invalid_token';
  const challenge = scheme === 'DPoP' ? `DPoP error="${code}", algs="${DPOP_ALGS.join(' ')}"` : `Bearer error="${code}"`;
  return new ProtocolError(code, description, 401, { headers: { 'WWW-Authenticate': challenge, ...extraHeaders } });
}

// ---------------------------------------------------------------------------------------------
// Checks the library leaves to us

/**
 * §4.3 steps 9-12 and §11.1 on a proof whose signature, htm, htu (and ath) the library verified:
 * `iat` recent, the server nonce, `jti` used once. `onNonce` builds the endpoint's use_dpop_nonce error.
 */
async function checkFreshness(deps: Deps, office: Office, payload: Record<string, unknown>, jkt: string, onNonce: () => ProtocolError, onInvalid: (d: string) => ProtocolError): Promise<void> {
  const now = toSeconds(deps.clock());
  const iat = payload.iat;
  if (typeof iat !== 'number' || !Number.isFinite(iat) || iat > now + CLOCK_SKEW_S || iat < now - PROOF_MAX_AGE_S) throw onInvalid('The DPoP proof iat is not recent.');
  // §8.2 / §9: the nonce is checked before the jti is recorded, so a proof refused for its nonce does not burn its jti.
  if (!validDpopNonce(deps, office, payload.nonce)) throw onNonce();
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI) throw onInvalid('The DPoP proof jti is missing or too long.');
  const hash = createHash('sha256').update(`dpop:${jkt}:${jti}`).digest('hex');
  // Kept as long as a proof with this iat is accepted (iat + max age + skew).
  if (!(await dpopJtiStore(deps.store.ds).use(hash, (iat + PROOF_MAX_AGE_S + CLOCK_SKEW_S) * 1000, deps.clock()))) throw onInvalid('The DPoP proof has already been used (jti replay).');
}

/** The DPoP header of a request: absent, or exactly one compact JWS (§4.3 step 1-2). */
function dpopHeader(request: RequestLike): string | undefined {
  const v = request.headers.get('DPoP');
  if (v === null) return undefined;
  // Headers#get joins repeated headers with ", "; RFC 9449 §4.3: not more than one DPoP header.
  if (v.length > 8192 || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(v)) throw invalidProof('The DPoP header must be exactly one DPoP proof JWT.');
  return v;
}

/**
 * Token endpoint and PAR (§5, §10.1): verifies the request's DPoP proof if it has one and returns its
 * public key (the access token is then bound to it). Without a proof: `undefined`, or, where the
 * office requires DPoP, `invalid_dpop_proof`.
 */
export async function verifyTokenRequestDpop(deps: Deps, libs: Libraries, office: Office, request: RequestLike): Promise<JWK | undefined> {
  const jwt = dpopHeader(request);
  if (!jwt) {
    if (office.oauth?.requireDpop) throw invalidProof('This office requires DPoP (RFC 9449): send a DPoP proof with the request.');
    return undefined;
  }
  const { header, payload, jwkThumbprint } = await protocolStep(() => libs.authorizationServer.verifyDpopJwt({ dpopJwt: jwt, request, allowedSigningAlgs: [...DPOP_ALGS], now: new Date(deps.clock()) })).catch((e: unknown) => {
    // A proof the library cannot even parse (wrong typ, no jwk, missing claims) is an invalid proof, not a malformed request.
    throw e instanceof ProtocolError && e.error === 'invalid_request' ? invalidProof('The DPoP proof does not have the form of RFC 9449 §4.2 (typ dpop+jwt, jwk, htm, htu, iat, jti).') : e;
  });
  await checkFreshness(deps, office, payload as Record<string, unknown>, jwkThumbprint, () => useNonceAtAs(deps, office), (d) => invalidProof(d));
  return header.jwk as JWK;
}

/**
 * Credential and deferred endpoints (§7): verifies the access token, and for a DPoP-bound one
 * (`cnf.jkt`) the `DPoP` scheme and a proof with `ath`, fresh, with our nonce, used once. A Bearer
 * token stays accepted where it is not DPoP-bound, unless the office requires DPoP.
 */
export async function verifyResourceRequest(deps: Deps, libs: Libraries, office: Office, authorizationServers: Parameters<Libraries['resourceServer']['verifyResourceRequest']>[0]['authorizationServers'], request: RequestLike) {
  // §7.1: a DPoP-bound token sent as Bearer is refused. Read before the library, which would accept it with a DPoP header.
  const [scheme, token] = (request.headers.get('Authorization') ?? '').split(' ', 2);
  if (scheme === 'Bearer' && token && boundToKey(token)) throw resourceError('invalid_token', 'A DPoP-bound access token must be sent with the DPoP authentication scheme.');
  let result;
  try {
    result = await libs.resourceServer.verifyResourceRequest({ request, resourceServer: office.issuerId, authorizationServers, now: new Date(deps.clock()) });
  } catch (e) {
    if (e instanceof Oauth2ResourceUnauthorizedError) {
      const dpop = scheme === 'DPoP';
      const c = e.wwwAuthenticateHeaders.find((h) => h.scheme === (dpop ? 'DPoP' : 'Bearer'));
      // Our description for the code, never the library's text (issuer/protocol-errors.ts).
      throw resourceError(c?.error ?? 'invalid_token', describeLibraryError(c?.error ?? 'invalid_token', e), {}, dpop ? 'DPoP' : 'Bearer');
    }
    throw fromLibraryError(e);
  }
  const jkt = result.tokenPayload.cnf?.jkt;
  if (typeof jkt === 'string') {
    const jwt = dpopHeader(request)!;
    const { payload } = decodeJwt({ jwt });
    await checkFreshness(
      deps,
      office,
      payload as Record<string, unknown>,
      jkt,
      () => resourceError('use_dpop_nonce', 'A DPoP proof with the server nonce from the DPoP-Nonce header is required.', { 'DPoP-Nonce': createDpopNonce(deps, office) }),
      (d) => resourceError('invalid_dpop_proof', d),
    );
  } else if (office.oauth?.requireDpop) {
    throw resourceError('invalid_token', 'This office accepts DPoP-bound access tokens only.');
  }
  return result;
}

/** Whether a (not yet verified) JWT access token carries `cnf.jkt`; only ever used to refuse. Any token this cannot read goes on to the library's full check, which refuses it there. */
function boundToKey(token: string): boolean {
  return typeof (unverifiedClaims(token)?.cnf as { jkt?: unknown } | undefined)?.jkt === 'string';
}
