import type { Resolver } from 'did-resolver';
import { decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { ALLOWED_ALGS, JoseVerifyError, peekHeader, translateJoseError } from '../core/crypto/jws.ts';
import { publicKeyObject } from '../core/crypto/jwk.ts';
import { holderDidRefusal, resolveHolderKey } from '../core/did/holder-resolver.ts';
import { resolveAssertionKey } from '../core/did/resolver.ts';
import { verifyVcJwt, type VcJwtFailureCode } from '../core/formats/vc-jwt/verify-vc-jwt.ts';
import type { TrustIndex } from '../core/trust/evaluate.ts';
import { w3cIssuerTrust } from './issuer-trust.ts';
import { reason, REASONS, type ReasonCode, type VerdictError } from './verdict.ts';
import type { BitstringStatusClient } from '../core/status-list/bitstring-status-client.ts';

/**
 * A W3C VP-JWT holding VC-JWTs (VCDM 1.1, `jwt_vc_json`; OID4VP 1.0 Appendix B.1.3.1).
 *
 * Written with jose rather than Veramo's verifyPresentation, which does not verify the credentials
 * inside a presentation and accepts a presentation without a challenge: here the VP's nonce and aud
 * are required, and every embedded credential goes through the one VC-JWT verification
 * (core/formats/vc-jwt/verify-vc-jwt.ts). Nothing a presenter names is fetched before trust:
 * - the holder (the VP's `kid`) is resolved only as did:jwk or did:key, offline (core/did/holder-resolver.ts);
 * - each credential's issuer DID is resolved only after the registry named it as an issuer of that
 *   credential's type (verifier/issuer-trust.ts);
 * - status lists are fetched only for a credential whose trusted issuer's signature verified.
 */
export interface CheckedVcJwt {
  ok: true;
  vct: string;
  types: string[];
  issuer: string;
  issuer_name: { de: string; en: string } | null;
  /** credentialSubject without its id. */
  claims: Record<string, unknown>;
  warnings: string[];
}

const KB_MAX_AGE = 300;
const SKEW = 60;
/** VCDM 1.1 §6.3.1 / RFC 7519 §5.1: a VP-JWT's `typ` is absent or "JWT". */
const VP_JWT_TYPS: readonly (string | undefined)[] = [undefined, 'JWT'];

const VC_REASON: Record<Exclude<VcJwtFailureCode, 'untrusted'>, ReasonCode> = {
  malformed: 'invalid_presentation',
  wrong_typ: 'invalid_presentation',
  claim_mismatch: 'invalid_presentation',
  unsupported_alg: 'invalid_signature',
  issuer_key_unresolved: 'invalid_signature',
  invalid_signature: 'invalid_signature',
  expired: 'expired',
  not_yet_valid: 'not_yet_valid',
};

export interface VcJwtPresentationDeps {
  /** Issuers' DIDs (did:web), consulted only for issuers the registry names. */
  resolver: Resolver;
  /** Holders' DIDs: did:jwk and did:key only, no network. */
  holders: Resolver;
  trust: () => Promise<TrustIndex>;
  bitstring: BitstringStatusClient;
}

export async function checkVcJwtPresentation(
  deps: VcJwtPresentationDeps,
  args: { presentation: string; nonce: string; clientId: string; now: number; queryId: string },
): Promise<CheckedVcJwt[] | { ok: false; error: VerdictError }> {
  const fail = (code: ReasonCode, detail?: string) => ({ ok: false as const, error: reason(code, args.queryId, detail) });

  // 1. The presentation: signed by the holder's key, for this verifier and this request.
  let holder: string;
  let vp: { verifiableCredential?: unknown };
  try {
    const header = peekHeader(args.presentation);
    if (!VP_JWT_TYPS.includes(header.typ)) return fail('invalid_presentation', 'VP typ must be absent or JWT');
    if (typeof header.kid !== 'string' || !header.kid.includes('#')) return fail('invalid_presentation', 'VP has no kid');
    const kid = header.kid;
    holder = kid.slice(0, kid.indexOf('#'));
    // The holder's DID method is checked before anything is resolved: did:web and the rest are refused.
    const refusal = holderDidRefusal(holder);
    if (refusal) return fail('holder_binding_failed', 'holder DID method not accepted (did:jwk, did:key)');
    const key = await resolveHolderKey(deps.holders, kid, holder);
    const claims = decodeJwt(args.presentation);
    if (claims.nonce !== args.nonce) return fail('nonce_mismatch');
    // OID4VP 1.0 Appendix B.1.3.1: nonce and aud (the client_id) bind the VP to this request; iss is the holder.
    // VCDM 1.1 §6.3.1 makes iat optional in a VP-JWT (Credo 0.6 sends none): its age is checked only when it is there.
    const age = claims.iat === undefined ? {} : { maxTokenAge: KB_MAX_AGE };
    const { payload } = await jwtVerify(args.presentation, publicKeyObject(key), { algorithms: [...ALLOWED_ALGS], audience: args.clientId, issuer: holder, currentDate: new Date(args.now), clockTolerance: SKEW, ...age }).catch((e: unknown) => {
      throw translateJoseError(e);
    });
    vp = ((payload as JWTPayload).vp ?? {}) as typeof vp;
  } catch (e) {
    if (e instanceof JoseVerifyError && e.reason === 'claim_invalid') return fail('audience_mismatch');
    if (e instanceof JoseVerifyError && e.reason === 'bad_alg') return fail('invalid_presentation', 'VP algorithm not allowed (ES256 only)');
    return fail('holder_binding_failed');
  }
  const vcs = Array.isArray(vp.verifiableCredential) ? vp.verifiableCredential : [];
  if (vcs.length === 0 || vcs.length > 5 || !vcs.every((v) => typeof v === 'string')) return fail('invalid_presentation', 'VP holds no VC-JWT');

  let index: TrustIndex;
  try {
    index = await deps.trust();
  } catch {
    return fail('trust_unavailable');
  }
  const out: CheckedVcJwt[] = [];
  for (const vcJwt of vcs as string[]) {
    // 2. Each credential: trust on its claimed issuer and type first, then its issuer's key and signature.
    const v = await verifyVcJwt({
      jwt: vcJwt,
      now: args.now,
      skewSeconds: SKEW,
      authorize: (c) => w3cIssuerTrust(index, { issuer: c.iss, types: c.types, issuedAt: (c.issuedAt ?? 0) * 1000, now: args.now }),
      issuerKey: (kid, iss) => resolveAssertionKey(deps.resolver, kid, iss, args.now),
    });
    if (!v.ok) {
      if (v.code === 'untrusted') return fail(v.trustCode && v.trustCode in REASONS ? (v.trustCode as ReasonCode) : 'untrusted_issuer');
      return fail(VC_REASON[v.code], v.code);
    }
    // 3. Holder binding (VCDM 1.1 §6.3.1 sub = credentialSubject.id): the credential names the presenter.
    if (v.subject !== holder) return fail('holder_binding_failed', 'credential subject is not the presenter');
    // 4. W3C Bitstring Status List entries (REC 2025 §3.2), only now that a trusted issuer's signature verified.
    const status = v.credentialStatus;
    for (const entry of Array.isArray(status) ? status : status ? [status] : []) {
      const e = entry as { type?: string; statusPurpose?: string; statusListIndex?: string; statusListCredential?: string };
      if (e.type !== 'BitstringStatusListEntry') return fail('status_unavailable', 'unsupported status entry type');
      if (typeof e.statusPurpose !== 'string' || typeof e.statusListIndex !== 'string' || typeof e.statusListCredential !== 'string') return fail('status_unavailable', 'malformed status entry');
      const s = await deps.bitstring.check({ statusPurpose: e.statusPurpose, statusListIndex: e.statusListIndex, statusListCredential: e.statusListCredential }, v.iss);
      if (!s.ok) return fail('status_unavailable', s.code);
      if (s.status === 1 && e.statusPurpose === 'revocation') return fail('credential_revoked');
      if (s.status === 1 && e.statusPurpose === 'suspension') return fail('credential_suspended');
    }
    const trust = v.authorization;
    out.push({ ok: true, vct: trust.vct, types: v.types, issuer: v.iss, issuer_name: trust.issuer_name, claims: v.claims, warnings: trust.warnings });
  }
  return out;
}
