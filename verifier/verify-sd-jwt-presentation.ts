import type { Resolver } from 'did-resolver';
import { resolveAssertionKey } from '../core/did/resolver.ts';
import { verifySdJwtVc, type SdJwtVcFailureCode } from '../core/formats/sd-jwt-vc/index.ts';
import type { StatusListClient } from '../core/status-list/status-list-client.ts';
import { STATUS } from '../core/status-list/token-status-list.ts';
import { evaluateCredentialIssuer, type TrustIndex } from '../core/trust/evaluate.ts';
import { issuerTrust } from './issuer-trust.ts';
import { reason, REASONS, type ReasonCode, type VerdictError } from './verdict.ts';

const FORMAT_REASON: Record<SdJwtVcFailureCode, ReasonCode> = {
  malformed: 'invalid_presentation',
  unsupported_alg: 'invalid_signature',
  wrong_typ: 'invalid_presentation',
  issuer_key_unresolved: 'invalid_signature',
  invalid_signature: 'invalid_signature',
  expired: 'expired',
  not_yet_valid: 'not_yet_valid',
  disclosure_invalid: 'invalid_disclosure',
  disclosure_unreferenced: 'invalid_disclosure',
  disclosure_duplicate: 'invalid_disclosure',
  holder_binding_missing: 'holder_binding_failed',
  holder_binding_failed: 'holder_binding_failed',
  nonce_mismatch: 'nonce_mismatch',
  audience_mismatch: 'audience_mismatch',
  kb_stale: 'holder_binding_failed',
  sd_hash_mismatch: 'holder_binding_failed',
};

export interface CheckedSdJwt {
  ok: true;
  vct: string;
  issuer: string;
  issuer_name: { de: string; en: string } | null;
  /** All disclosed and plain claims (the caller keeps only what the query asked for). */
  claims: Record<string, unknown>;
  warnings: string[];
}

/**
 * One SD-JWT VC presentation (OID4VP 1.0 Appendix B.3.6): issuer signature with the key named by
 * the did:web `kid`, disclosures, Key Binding JWT with this request's nonce and `aud` = client_id,
 * validity window, then the registry's word on the issuer (at issuance and now), then the status list.
 * The issuer is checked against the registry twice: on its claimed `iss`/`vct` before its DID is
 * resolved, and on the verified claims after.
 */
export async function checkSdJwtPresentation(
  deps: { resolver: Resolver; trust: () => Promise<TrustIndex>; status: StatusListClient; offlineGrace?: Record<string, number> },
  args: { presentation: string; nonce: string; clientId: string; now: number; queryId: string },
): Promise<CheckedSdJwt | { ok: false; error: VerdictError }> {
  const fail = (code: ReasonCode, detail?: string) => ({ ok: false as const, error: reason(code, args.queryId, detail) });
  let index: TrustIndex;
  try {
    index = await deps.trust();
  } catch {
    return fail('trust_unavailable');
  }
  // Order (as for VC-JWT): the registry's word on the CLAIMED issuer and vct first, so a did:web a
  // presenter wrote into `iss` is never fetched unless the registry names it as an issuer of that
  // type; then the issuer's key and signature; the status list only after that signature verified.
  const claimed = unverifiedClaims(args.presentation);
  if (!claimed) return fail('invalid_presentation', 'no issuer or vct');
  // iat may be selectively disclosed (SD-JWT VC §2.2.2.3); without a plain one the gate asks about now.
  const gate = issuerTrust(index, { issuer: claimed.iss, vct: claimed.vct, issuedAt: (claimed.iat ?? args.now / 1000) * 1000, now: args.now });
  if (!gate.ok) return fail(gate.code in REASONS ? (gate.code as ReasonCode) : 'untrusted_issuer');
  const v = await verifySdJwtVc({
    sdJwt: args.presentation,
    now: args.now,
    expectedNonce: args.nonce,
    expectedAud: args.clientId,
    issuerKey: async (header, payload) => {
      if (typeof header.kid !== 'string' || typeof payload.iss !== 'string') throw new Error('no kid or iss');
      // The key must be an assertion method of the credential's own issuer DID.
      return resolveAssertionKey(deps.resolver, header.kid, payload.iss);
    },
  });
  if (!v.ok) return fail(FORMAT_REASON[v.code] ?? 'invalid_presentation', v.code);

  const trust = evaluateCredentialIssuer(index, { issuer: v.iss, vct: v.vct, issuedAt: (v.iat ?? 0) * 1000, now: args.now });
  if (!trust.trusted) return fail(trust.code ?? 'untrusted_issuer');

  if (v.status?.status_list) {
    const graceS = deps.offlineGrace?.[v.vct];
    const s = await deps.status.check(v.status.status_list, v.iss, graceS ? { graceMs: graceS * 1000 } : {});
    if (!s.ok) return fail('status_unavailable', s.code);
    if (s.stale) trust.warnings.push('status list could not be refreshed; an earlier verified copy was used within the offline grace');
    if (s.status === STATUS.INVALID) return fail('credential_revoked');
    if (s.status === STATUS.SUSPENDED) return fail('credential_suspended');
    if (s.status !== STATUS.VALID) return fail('credential_revoked', `status ${s.status}`);
  }
  return { ok: true, vct: v.vct, issuer: v.iss, issuer_name: trust.issuer_name ?? null, claims: v.claims, warnings: trust.warnings };
}

/** iss, vct and a plain iat of the Issuer-signed JWT, read without verification (for the trust gate only). */
function unverifiedClaims(sdJwt: string): { iss: string; vct: string; iat?: number } | undefined {
  try {
    const payload = JSON.parse(Buffer.from(sdJwt.split('~')[0]!.split('.')[1]!, 'base64url').toString('utf8')) as { iss?: unknown; vct?: unknown; iat?: unknown };
    if (typeof payload.iss !== 'string' || typeof payload.vct !== 'string') return undefined;
    return { iss: payload.iss, vct: payload.vct, ...(typeof payload.iat === 'number' ? { iat: payload.iat } : {}) };
  } catch {
    return undefined;
  }
}
