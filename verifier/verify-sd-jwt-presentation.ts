import type { Resolver } from 'did-resolver';
import { resolveAssertionKey } from '../core/did/resolver.ts';
import { verifySdJwtVc, type SdJwtVcFailureCode } from '../core/formats/sd-jwt-vc/index.ts';
import type { StatusListClient } from '../core/status-list/status-list-client.ts';
import { STATUS } from '../core/status-list/token-status-list.ts';
import { evaluateCredentialIssuer, type TrustIndex } from '../core/trust/evaluate.ts';
import { certifiedKeyInDid, issuerKeyPlan, type CertifiedKeyFailureCode } from '../core/x509/issuer-key.ts';
import type { x509 } from '../core/x509/pem.ts';
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
 * the did:web `kid` or, when the header carries `x5c`, with the key of its end-entity certificate
 * (SD-JWT VC §2.5 "Inline X.509 Certificates"; HAIP issuer certificates; core/x509/issuer-key.ts),
 * disclosures, Key Binding JWT with this request's nonce and `aud` = client_id, validity window, then
 * the registry's word on the issuer (at issuance and now), then the status list.
 *
 * The issuer the registry is asked about is a DID: the credential's `iss` when that is a did:web, or,
 * when `iss` is the office's https Credential Issuer Identifier (issue 17), the one DID its certificate
 * names. It is checked against the registry twice: on the claimed values before that DID is resolved,
 * and on the verified ones after. `issuer` in the result is that DID (docs/contract.md).
 */
export async function checkSdJwtPresentation(
  deps: {
    resolver: Resolver;
    trust: () => Promise<TrustIndex>;
    status: StatusListClient;
    offlineGrace?: Record<string, number>;
    /** The city CAs trusted for `x5c` (VERIFIER_TRUSTED_CA_FILES, the demo CA); none: a did:web `iss` is verified by its `kid`, an https `iss` only through the DID its certificate names. */
    trustedCas?: () => readonly x509.X509Certificate[];
  },
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
  // presenter wrote into `iss` (or into a certificate) is never fetched unless the registry names it as
  // an issuer of that type; then the issuer's key and signature; the status list only after that
  // signature verified. A certificate chain is validated before the gate: that needs no fetch.
  const claimed = unverifiedClaims(args.presentation);
  if (!claimed) return fail('invalid_presentation', 'no issuer or vct');
  const plan = issuerKeyPlan(claimed.header, claimed.iss, deps.trustedCas?.() ?? [], args.now);
  if (!plan.ok) return plan.code === 'issuer_unsupported' ? fail('untrusted_issuer', plan.code) : fail('issuer_certificate_invalid', plan.code);
  const entity = plan.did;
  // iat may be selectively disclosed (SD-JWT VC §2.2.2.3); without a plain one the gate asks about now.
  const gate = issuerTrust(index, { issuer: entity, vct: claimed.vct, issuedAt: (claimed.iat ?? args.now / 1000) * 1000, now: args.now });
  if (!gate.ok) return fail(gate.code in REASONS ? (gate.code as ReasonCode) : 'untrusted_issuer');
  let certificateRefusal: CertifiedKeyFailureCode | 'certificate_key_not_in_did' | undefined;
  const v = await verifySdJwtVc({
    sdJwt: args.presentation,
    now: args.now,
    expectedNonce: args.nonce,
    expectedAud: args.clientId,
    issuerKey: async (header, payload) => {
      // The same Issuer-signed JWT that was read unverified above; anything else is refused.
      if (payload.iss !== claimed.iss || JSON.stringify(header.x5c) !== JSON.stringify(claimed.header.x5c)) throw new Error('iss or x5c changed');
      if (plan.via === 'certificate') {
        // No CRL or OCSP (docs/haip.md): the certified key must be a non-revoked assertion key of the
        // certificate's DID (fetched only because the registry named that DID above).
        if (!(await certifiedKeyInDid(deps.resolver, entity, header.kid, plan.publicJwk, args.now))) {
          certificateRefusal = 'certificate_key_not_in_did';
          throw new Error(certificateRefusal);
        }
        return plan.publicKey;
      }
      if (typeof header.kid !== 'string') throw new Error('no kid');
      // The key must be an assertion method of the credential's own issuer DID.
      return resolveAssertionKey(deps.resolver, header.kid, entity);
    },
  });
  if (!v.ok && v.code === 'issuer_key_unresolved' && certificateRefusal) return fail('issuer_certificate_invalid', certificateRefusal);
  if (!v.ok) return fail(FORMAT_REASON[v.code] ?? 'invalid_presentation', v.code);

  const trust = evaluateCredentialIssuer(index, { issuer: entity, vct: v.vct, issuedAt: (v.iat ?? 0) * 1000, now: args.now });
  if (!trust.trusted) return fail(trust.code ?? 'untrusted_issuer');

  if (v.status?.status_list) {
    const graceS = deps.offlineGrace?.[v.vct];
    // The status list token is signed by the issuer's DID (issuer/status-lists.ts), also when `iss` is https.
    const s = await deps.status.check(v.status.status_list, entity, graceS ? { graceMs: graceS * 1000 } : {});
    if (!s.ok) return fail('status_unavailable', s.code);
    if (s.stale) trust.warnings.push('status list could not be refreshed; an earlier verified copy was used within the offline grace');
    if (s.status === STATUS.INVALID) return fail('credential_revoked');
    if (s.status === STATUS.SUSPENDED) return fail('credential_suspended');
    if (s.status !== STATUS.VALID) return fail('credential_revoked', `status ${s.status}`);
  }
  return { ok: true, vct: v.vct, issuer: entity, issuer_name: trust.issuer_name ?? null, claims: v.claims, warnings: trust.warnings };
}

/** iss, vct, a plain iat and the protected header of the Issuer-signed JWT, read without verification (for the key plan and the trust gate only). */
function unverifiedClaims(sdJwt: string): { iss: string; vct: string; iat?: number; header: { x5c?: unknown } } | undefined {
  try {
    const [h, p] = sdJwt.split('~')[0]!.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as { iss?: unknown; vct?: unknown; iat?: unknown };
    const header = JSON.parse(Buffer.from(h!, 'base64url').toString('utf8')) as { x5c?: unknown };
    if (typeof payload.iss !== 'string' || typeof payload.vct !== 'string' || typeof header !== 'object' || header === null) return undefined;
    return { iss: payload.iss, vct: payload.vct, ...(typeof payload.iat === 'number' ? { iat: payload.iat } : {}), header: 'x5c' in header ? { x5c: header.x5c } : {} };
  } catch {
    return undefined;
  }
}
