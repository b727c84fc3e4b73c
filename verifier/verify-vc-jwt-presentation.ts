import type { Resolver } from 'did-resolver';
import { decodeJwt } from 'jose';
import { verifyJwt, JoseVerifyError, peekHeader } from '../core/crypto/jws.ts';
import { resolveAssertionKey } from '../core/did/resolver.ts';
import { evaluateCredentialIssuer, type TrustIndex } from '../core/trust/evaluate.ts';
import { reason, type ReasonCode, type VerdictError } from './verdict.ts';
import type { BitstringStatusClient } from '../core/status-list/bitstring-status-client.ts';

/**
 * A W3C VP-JWT holding VC-JWTs (VCDM 1.1, `jwt_vc_json`; OID4VP 1.0 Appendix B.1.3.1).
 *
 * Written with jose rather than Veramo's verifyPresentation, which does not verify the credentials
 * inside a presentation and accepts a presentation without a challenge (dependencies.md): here the
 * VP's nonce and aud are required, and every embedded credential is verified itself, against its
 * issuer's DID key, its validity window, and its binding to the presenter (credentialSubject.id = VP iss).
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

export async function checkVcJwtPresentation(
  deps: { resolver: Resolver; trust: () => Promise<TrustIndex>; bitstring: BitstringStatusClient },
  args: { presentation: string; nonce: string; clientId: string; now: number; queryId: string },
): Promise<CheckedVcJwt[] | { ok: false; error: VerdictError }> {
  const fail = (code: ReasonCode, detail?: string) => ({ ok: false as const, error: reason(code, args.queryId, detail) });
  const at = new Date(args.now);

  // 1. The presentation: signed by the holder's DID key, for this verifier and this request.
  let holder: string;
  let vp: { verifiableCredential?: unknown };
  try {
    const header = peekHeader(args.presentation);
    if (typeof header.kid !== 'string') return fail('invalid_presentation', 'VP has no kid');
    const kid = header.kid;
    holder = kid.split('#')[0]!;
    const key = await resolveAssertionKey(deps.resolver, kid, holder).catch(async () => {
      // did:jwk documents list their key for authentication too; either relationship proves the holder.
      const doc = (await deps.resolver.resolve(holder)).didDocument;
      const vm = doc?.verificationMethod?.find((m) => m.id === kid || m.id === `#${kid.split('#')[1]}`);
      if (!vm?.publicKeyJwk) throw new Error('holder key not found');
      return vm.publicKeyJwk;
    });
    const payload = decodeJwt(args.presentation);
    if (payload.nonce !== args.nonce) return fail('nonce_mismatch');
    const { payload: p } = await verifyJwt(args.presentation, key as never, { typ: (header.typ as string) ?? 'JWT', audience: args.clientId, issuer: holder, currentDate: at, clockTolerance: SKEW, maxTokenAge: KB_MAX_AGE });
    vp = (p.vp ?? {}) as typeof vp;
  } catch (e) {
    if (e instanceof JoseVerifyError && e.reason === 'claim_invalid') return fail('audience_mismatch', e.message);
    if (e instanceof JoseVerifyError) return fail('holder_binding_failed', e.message);
    return fail('holder_binding_failed', (e as Error).message);
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
    // 2. Each credential: signed by its issuer's DID key, in its validity window.
    let payload;
    try {
      const header = peekHeader(vcJwt);
      const iss = decodeJwt(vcJwt).iss;
      if (typeof header.kid !== 'string' || typeof iss !== 'string') return fail('invalid_signature', 'VC has no kid or iss');
      // Unknown issuers are refused before their DID is resolved.
      if (index.entities.get(iss)?.kind !== 'issuer') return fail('untrusted_issuer', 'issuer is not registered');
      const key = await resolveAssertionKey(deps.resolver, header.kid, iss);
      ({ payload } = await verifyJwt(vcJwt, key, { typ: (header.typ as string) ?? 'JWT', issuer: iss, currentDate: at, clockTolerance: SKEW }));
    } catch (e) {
      if (e instanceof JoseVerifyError && e.reason === 'expired') return fail('expired');
      if (e instanceof JoseVerifyError && e.reason === 'not_yet_valid') return fail('not_yet_valid');
      return fail('invalid_signature', (e as Error).message);
    }
    const vc = payload.vc as { type?: unknown; credentialSubject?: Record<string, unknown> } | undefined;
    const types = Array.isArray(vc?.type) ? (vc!.type as string[]) : [];
    // 3. Holder binding: the credential names the presenter as its subject.
    if (payload.sub !== holder) return fail('holder_binding_failed', 'credential subject is not the presenter');
    const ct = index.state.credential_types.find((t) => t.w3c_types?.some((w) => types.includes(w)));
    if (!ct) return fail('untrusted_issuer', 'credential type is not registered');
    const trust = evaluateCredentialIssuer(index, { issuer: payload.iss!, vct: ct.vct, issuedAt: ((payload.nbf ?? payload.iat ?? 0) as number) * 1000, now: args.now });
    if (!trust.trusted) return fail(trust.code ?? 'untrusted_issuer');
    // W3C Bitstring Status List entries (REC 2025 §3.2): revocation and suspension.
    const status = (vc as { credentialStatus?: unknown } | undefined)?.credentialStatus;
    for (const entry of Array.isArray(status) ? status : status ? [status] : []) {
      const e = entry as { type?: string; statusPurpose?: string; statusListIndex?: string; statusListCredential?: string };
      if (e.type !== 'BitstringStatusListEntry') return fail('status_unavailable', `unsupported status entry ${String(e.type)}`);
      if (typeof e.statusPurpose !== 'string' || typeof e.statusListIndex !== 'string' || typeof e.statusListCredential !== 'string') return fail('status_unavailable', 'malformed status entry');
      const s = await deps.bitstring.check({ statusPurpose: e.statusPurpose, statusListIndex: e.statusListIndex, statusListCredential: e.statusListCredential }, payload.iss!);
      if (!s.ok) return fail('status_unavailable', s.code);
      if (s.status === 1 && e.statusPurpose === 'revocation') return fail('credential_revoked');
      if (s.status === 1 && e.statusPurpose === 'suspension') return fail('credential_suspended');
    }
    const { id: _id, ...claims } = vc?.credentialSubject ?? {};
    void _id;
    out.push({ ok: true, vct: ct.vct, types, issuer: payload.iss!, issuer_name: trust.issuer_name ?? null, claims, warnings: trust.warnings });
  }
  return out;
}
