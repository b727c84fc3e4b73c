import type { Authorization } from '../core/formats/vc-jwt/verify-vc-jwt.ts';
import { evaluateCredentialIssuer, type TrustIndex } from '../core/trust/evaluate.ts';

/**
 * The registry's word on a credential's CLAIMED issuer and type, asked before that issuer's DID is
 * resolved: the issuer DID inside a presented credential is the presenter's choice, and a did:web
 * that the registry does not name as an issuer of this type is never fetched (no request to a
 * presenter-chosen URL). Same evaluation as after verification (core/trust/evaluate.ts).
 */
export interface IssuerTrust {
  vct: string;
  issuer_name: { de: string; en: string } | null;
  warnings: string[];
}

/** By `vct` (SD-JWT VC). `issuedAt` in ms. */
export function issuerTrust(index: TrustIndex, args: { issuer: string; vct: string; issuedAt: number; now: number }): Authorization<IssuerTrust> {
  if (index.entities.get(args.issuer)?.kind !== 'issuer') return { ok: false, code: 'untrusted_issuer', message: 'issuer is not registered' };
  const verdict = evaluateCredentialIssuer(index, args);
  if (!verdict.trusted) return { ok: false, code: verdict.code ?? 'untrusted_issuer', message: verdict.message };
  return { ok: true, value: { vct: args.vct, issuer_name: verdict.issuer_name ?? null, warnings: verdict.warnings } };
}

/** By W3C `type` (VC-JWT, VC-JOSE-COSE): the registered credential type whose `w3c_types` the credential names. */
export function w3cIssuerTrust(index: TrustIndex, args: { issuer: string; types: string[]; issuedAt: number; now: number }): Authorization<IssuerTrust> {
  if (index.entities.get(args.issuer)?.kind !== 'issuer') return { ok: false, code: 'untrusted_issuer', message: 'issuer is not registered' };
  const ct = index.state.credential_types.find((t) => t.w3c_types?.some((w) => args.types.includes(w)));
  if (!ct) return { ok: false, code: 'untrusted_issuer', message: 'credential type is not registered' };
  return issuerTrust(index, { issuer: args.issuer, vct: ct.vct, issuedAt: args.issuedAt, now: args.now });
}
