import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, compactVerify, type JWK } from 'jose';
import { Oauth2AuthorizationServer, type CallbackContext, type RequestLike, type VerifyJwtCallback } from '@openid4vc/oauth2';
import { Openid4vciIssuer } from '@openid4vc/openid4vci';
import { ALLOWED_ALGS } from '../../core/crypto/jws.ts';
import { ProtocolError } from '../../core/http/errors.ts';
import { toSeconds } from '../../core/util/time.ts';
import { validateChain } from '../../core/x509/validate-chain.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import { libraryCallbacks } from '../oid4vci-lib.ts';
import { protocolStep } from '../protocol-errors.ts';
import { dpopJtiStore } from '../store/dpop-jti-store.ts';
import { createServerNonce, validServerNonce } from './dpop.ts';

/**
 * Wallet attestation (OID4VCI 1.0 Appendix E; draft-ietf-oauth-attestation-based-client-auth as
 * @openid4vc/oauth2 0.4.6 implements it: headers `OAuth-Client-Attestation` and
 * `OAuth-Client-Attestation-PoP`). The attestation JWT must be signed by a wallet provider whose
 * certificate chain (`x5c`) leads to a CA in ISSUER_WALLET_PROVIDER_CA_FILES (in demo mode also the
 * demo city CA); its PoP must be signed by the attested instance key (`cnf.jwk`), name this office
 * as `aud`, be recent and used once. The library checks the forms, `iss`/`sub`, `aud`, `exp` and the
 * signatures (through the x5c-aware callback below); freshness and replay are checked here.
 *
 * Server challenges follow draft-ietf-oauth-attestation-based-client-auth-07 (the revision OID4VCI 1.0
 * cites), sections "Client Attestation PoP JWT" (`challenge` claim), "Challenge Retrieval" (challenge
 * endpoint, `OAuth-Client-Attestation-Challenge` header) and the error codes `use_attestation_challenge`
 * / `invalid_client`. Section numbers are not cited because they moved between revisions.
 * Challenges are stateless like the DPoP nonces (issuer/oauth/dpop.ts createServerNonce): an HMAC over
 * expiry and randomness, bound to the office, valid ATTESTATION_CHALLENGE_TTL_S in every worker and
 * instance. A challenge is not single use; the PoP is (its `jti`). Other attestation failures stay the
 * general `invalid_client` (the draft's `invalid_client_attestation` MAY be used instead; not used here).
 * Known gap: the library's PoP schema (older drafts) requires `iss` and `exp`, so a PoP without them is
 * refused (unsure whether -07 still has them).
 *
 * The attested instance key (`cnf.jwk`) and the DPoP key MAY be the same and MAY differ: -07 and HAIP 1.0
 * state no rule (unsure: we found none), and later revisions (-09, -10) say a DPoP proof beside an
 * `OAuth-Client-Attestation-PoP` is validated independently of the attestation, with equal keys
 * required only in their separate "DPoP combined mode" (no PoP header), which this server does not
 * offer. Requiring equality would refuse wallets that keep the keys apart; see issuer/oauth/client-binding.ts.
 */

type Deps = Pick<IssuerDeps, 'offices' | 'walletProviders' | 'clock' | 'store' | 'logger' | 'codes'>;
type LibraryDeps = Pick<IssuerDeps, 'offices' | 'walletProviders' | 'clock' | 'store' | 'logger'>;

export const CLIENT_ATTESTATION_HEADER = 'OAuth-Client-Attestation';
export const CLIENT_ATTESTATION_POP_HEADER = 'OAuth-Client-Attestation-PoP';
export const CLIENT_ATTESTATION_CHALLENGE_HEADER = 'OAuth-Client-Attestation-Challenge';
/** How long a challenge is accepted (the draft leaves it to the server); as long as a PoP's `iat` may be old. */
export const ATTESTATION_CHALLENGE_TTL_S = 300;
const POP_MAX_AGE_S = 300;
const CLOCK_SKEW_S = 60;
const CHALLENGE_PURPOSE = 'attestation-challenge';

/** A fresh challenge for this office's authorization server (stateless, see above). */
export function createAttestationChallenge(deps: Pick<IssuerDeps, 'codes' | 'clock'>, office: Office): string {
  return createServerNonce(deps, office, CHALLENGE_PURPOSE, ATTESTATION_CHALLENGE_TTL_S);
}

/** True when `value` is a challenge this office issued and it has not expired. */
export function validAttestationChallenge(deps: Pick<IssuerDeps, 'codes' | 'clock'>, office: Office, value: unknown): boolean {
  return validServerNonce(deps, office, CHALLENGE_PURPOSE, value, ATTESTATION_CHALLENGE_TTL_S);
}

/**
 * `use_attestation_challenge` (draft -07, errors of the attestation headers): the PoP does not carry a
 * challenge this server issued (missing where required, forged, expired, another office's). The draft
 * requires the `OAuth-Client-Attestation-Challenge` header with a fresh challenge on this error.
 * 400 as RFC 6749 §5.2 answers errors other than invalid_client (unsure: the draft names no status).
 */
const useChallenge = (deps: Pick<IssuerDeps, 'codes' | 'clock'>, office: Office, d: string) =>
  new ProtocolError('use_attestation_challenge', d, 400, { headers: { [CLIENT_ATTESTATION_CHALLENGE_HEADER]: createAttestationChallenge(deps, office) } });

/** RFC 6749 §5.2 `invalid_client` (401) for a missing, untrusted or invalid attestation (no Authorization scheme was used, so no challenge). */
export const invalidClient = (d: string) => new ProtocolError('invalid_client', d, 401);

/**
 * The library's callbacks with a verifyJwt that also accepts an `x5c` signer: the chain must validate
 * to a trusted wallet provider CA (core/x509/validate-chain.ts) and the JWT must verify with the leaf
 * key (ES256). Other signers (jwk, did:jwk) go to the issuer's own callback unchanged.
 */
export function attestationCallbacks(deps: LibraryDeps): CallbackContext {
  const base = libraryCallbacks(deps.offices) as CallbackContext;
  const verifyJwt: VerifyJwtCallback = async (signer, jwt) => {
    if (signer.method !== 'x5c') return base.verifyJwt(signer, jwt);
    if (!ALLOWED_ALGS.includes(jwt.header.alg as 'ES256') || signer.alg !== jwt.header.alg) return { verified: false };
    const chain = validateChain(signer.x5c, deps.walletProviders?.list() ?? [], deps.clock());
    if (!chain.ok) {
      // The code only (a closed set): no certificate content in logs.
      deps.logger.info({ code: chain.code }, 'attestation certificate chain refused');
      return { verified: false };
    }
    try {
      await compactVerify(jwt.compact, chain.publicKey, { algorithms: [...ALLOWED_ALGS] });
      return { verified: true, signerJwk: chain.publicJwk as never };
    } catch {
      return { verified: false };
    }
  };
  return { ...base, verifyJwt };
}

const servers = new WeakMap<object, { as: Oauth2AuthorizationServer; issuer: Openid4vciIssuer }>();
/** Library instances with the x5c-aware callbacks, one per issuer (the offices map is its identity). */
export function attestationLibraries(deps: LibraryDeps): { as: Oauth2AuthorizationServer; issuer: Openid4vciIssuer } {
  let s = servers.get(deps.offices);
  if (!s) {
    const callbacks = attestationCallbacks(deps);
    servers.set(deps.offices, (s = { as: new Oauth2AuthorizationServer({ callbacks }), issuer: new Openid4vciIssuer({ callbacks }) }));
  }
  return s;
}

export interface VerifiedWalletAttestation {
  /** The wallet instance's client_id (the attestation's `sub`). */
  clientId: string;
  /** The attested instance key (`cnf.jwk`). */
  instanceKey: JWK;
  /** The wallet provider (`iss`). */
  provider: string;
  /** RFC 7638 SHA-256 thumbprint of the attested instance key: identifies the wallet instance (the `sub` is shared by all instances of a wallet, OID4VCI 1.0 §15.4.4). */
  instanceJkt: string;
}

/** Both headers, or neither (then `undefined`); one without the other is `invalid_client`. */
export function attestationHeaders(request: RequestLike): { attestation: string; pop: string } | undefined {
  const attestation = request.headers.get(CLIENT_ATTESTATION_HEADER);
  const pop = request.headers.get(CLIENT_ATTESTATION_POP_HEADER);
  if (attestation === null && pop === null) return undefined;
  const jws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
  if (attestation === null || pop === null || attestation.length > 16_384 || pop.length > 8192 || !jws.test(attestation) || !jws.test(pop)) throw invalidClient(`Send both ${CLIENT_ATTESTATION_HEADER} and ${CLIENT_ATTESTATION_POP_HEADER}, each one compact JWT.`);
  return { attestation, pop };
}

/**
 * The challenge rule alone, on the PoP as sent (not yet verified; used only to refuse): lets
 * issuer/oauth/client-binding.ts answer `use_attestation_challenge` before the DPoP proof's `jti` is
 * recorded, so the wallet's retry may send the same DPoP proof (as a `use_dpop_nonce` answer spares the PoP).
 * verifyWalletAttestation applies the same rule again to the verified PoP.
 */
export function precheckAttestationChallenge(deps: Pick<IssuerDeps, 'codes' | 'clock'>, office: Office, request: RequestLike): void {
  const headers = attestationHeaders(request);
  if (!headers) return;
  let pop: Record<string, unknown>;
  try {
    pop = JSON.parse(Buffer.from(headers.pop.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return; // the full verification refuses it as invalid_client
  }
  if (pop === null || typeof pop !== 'object') return;
  checkChallenge(deps, office, pop);
}

/** Draft -07 "Client Attestation PoP JWT": `challenge`, when the server provided one (see useChallenge). */
function checkChallenge(deps: Pick<IssuerDeps, 'codes' | 'clock'>, office: Office, pop: Record<string, unknown>): void {
  if (pop.challenge !== undefined) {
    if (!validAttestationChallenge(deps, office, pop.challenge)) throw useChallenge(deps, office, 'The wallet attestation PoP challenge is not valid or has expired; use the one in the OAuth-Client-Attestation-Challenge header.');
  } else if (office.oauth?.requireAttestationChallenge) {
    throw useChallenge(deps, office, 'This office requires a server challenge in the wallet attestation PoP (challenge claim); use the one in the OAuth-Client-Attestation-Challenge header.');
  }
}

/**
 * Verifies a wallet attestation and its PoP for this office's authorization server. Without the
 * headers: `undefined`, or `invalid_client` where the office requires an attestation.
 */
export async function verifyWalletAttestation(deps: Deps, office: Office, request: RequestLike): Promise<VerifiedWalletAttestation | undefined> {
  const headers = attestationHeaders(request);
  if (!headers) {
    if (office.oauth?.requireWalletAttestation) throw invalidClient('This office requires a wallet attestation (OAuth-Client-Attestation and OAuth-Client-Attestation-PoP).');
    return undefined;
  }
  const { as } = attestationLibraries(deps);
  const verified = await protocolStep(() => as.verifyClientAttestation({ authorizationServer: office.issuerId, clientAttestationJwt: headers.attestation, clientAttestationPopJwt: headers.pop, now: new Date(deps.clock()) }));
  const att = verified.clientAttestation;
  // The library accepts any signer it can verify; a wallet provider is known only by its certificate.
  if (!Array.isArray(att.header.x5c)) throw invalidClient('The wallet attestation must carry its wallet provider certificate chain (x5c).');
  if (att.header.alg !== 'ES256' || verified.clientAttestationPop.header.alg !== 'ES256') throw invalidClient('Wallet attestations are accepted with ES256 only.');
  const pop = verified.clientAttestationPop.payload as Record<string, unknown>;
  const now = toSeconds(deps.clock());
  if (typeof pop.iat !== 'number' || pop.iat > now + CLOCK_SKEW_S || pop.iat < now - POP_MAX_AGE_S) throw invalidClient('The wallet attestation PoP iat is not recent.');
  if (typeof att.payload.iat === 'number' && att.payload.iat > now + CLOCK_SKEW_S) throw invalidClient('The wallet attestation is issued in the future.');
  const jti = pop.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw invalidClient('The wallet attestation PoP jti is missing or too long.');
  // The challenge, before the jti is recorded: a refused PoP does not count as used.
  checkChallenge(deps, office, pop);
  const hash = createHash('sha256').update(`attestation-pop:${att.payload.sub}:${jti}`).digest('hex');
  if (!(await dpopJtiStore(deps.store.ds).use(hash, (pop.iat + POP_MAX_AGE_S + CLOCK_SKEW_S) * 1000, deps.clock()))) throw invalidClient('The wallet attestation PoP has already been used.');
  const instanceKey = att.payload.cnf.jwk as JWK;
  return { clientId: att.payload.sub, instanceKey, provider: att.payload.iss, instanceJkt: await calculateJwkThumbprint(instanceKey, 'sha256') };
}
