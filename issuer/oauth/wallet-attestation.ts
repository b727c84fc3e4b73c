import { createHash } from 'node:crypto';
import { compactVerify, type JWK } from 'jose';
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

/**
 * Wallet attestation (OID4VCI 1.0 Appendix E; draft-ietf-oauth-attestation-based-client-auth as
 * @openid4vc/oauth2 0.4.6 implements it: headers `OAuth-Client-Attestation` and
 * `OAuth-Client-Attestation-PoP`). The attestation JWT must be signed by a wallet provider whose
 * certificate chain (`x5c`) leads to a CA in ISSUER_WALLET_PROVIDER_CA_FILES (in demo mode also the
 * demo city CA); its PoP must be signed by the attested instance key (`cnf.jwk`), name this office
 * as `aud`, be recent and used once. The library checks the forms, `iss`/`sub`, `aud`, `exp` and the
 * signatures (through the x5c-aware callback below); freshness and replay are checked here.
 */

type Deps = Pick<IssuerDeps, 'offices' | 'walletProviders' | 'clock' | 'store' | 'logger'>;

export const CLIENT_ATTESTATION_HEADER = 'OAuth-Client-Attestation';
export const CLIENT_ATTESTATION_POP_HEADER = 'OAuth-Client-Attestation-PoP';
const POP_MAX_AGE_S = 300;
const CLOCK_SKEW_S = 60;

/** RFC 6749 §5.2 `invalid_client` (401) for a missing, untrusted or invalid attestation (no Authorization scheme was used, so no challenge). */
export const invalidClient = (d: string) => new ProtocolError('invalid_client', d, 401);

/**
 * The library's callbacks with a verifyJwt that also accepts an `x5c` signer: the chain must validate
 * to a trusted wallet provider CA (core/x509/validate-chain.ts) and the JWT must verify with the leaf
 * key (ES256). Other signers (jwk, did:jwk) go to the issuer's own callback unchanged.
 */
export function attestationCallbacks(deps: Deps): CallbackContext {
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
export function attestationLibraries(deps: Deps): { as: Oauth2AuthorizationServer; issuer: Openid4vciIssuer } {
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
  const hash = createHash('sha256').update(`attestation-pop:${att.payload.sub}:${jti}`).digest('hex');
  if (!(await dpopJtiStore(deps.store.ds).use(hash, (pop.iat + POP_MAX_AGE_S + CLOCK_SKEW_S) * 1000, deps.clock()))) throw invalidClient('The wallet attestation PoP has already been used.');
  return { clientId: att.payload.sub, instanceKey: att.payload.cnf.jwk as JWK, provider: att.payload.iss };
}
