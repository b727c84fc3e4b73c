import type { Resolver } from 'did-resolver';
import type { Signer } from '../../crypto/jws.ts';
import { resolveAssertionKey } from '../../did/resolver.ts';
import { BITSTRING_STATUS_LIST_CREDENTIAL_TYPE, BITSTRING_STATUS_LIST_TYPE, BitstringStatusListError, buildStatusListSubject, decodeBitstring, type BitstringStatusPurpose } from '../../status-list/bitstring-status-list.ts';
import type { BitstringListLoader } from '../../status-list/bitstring-status-client.ts';
import { fetchStatusListJwt } from '../../status-list/fetch-status-list.ts';
import { toIso } from '../../util/time.ts';
import { CREDENTIALS_V2 } from '../jsonld-contexts/index.ts';
import { VcdmError, validateCredential } from '../vcdm/validate-credential.ts';
import { VC_JWT_MEDIA_TYPE } from './envelope.ts';
import { signCredentialJose } from './sign-vc-jose.ts';
import { VcJoseError, verifyJoseSecured } from './verify-vc-jose.ts';

/**
 * W3C Bitstring Status List v1.0 (REC 2025) for VCDM 2.0 credentials secured with VC-JOSE-COSE:
 * the status list credential is itself a VCDM 2.0 credential (§2.2 BitstringStatusListCredential),
 * secured the same way (`application/vc+jwt`), and read back by relying parties with the §3.2
 * validate algorithm. (The VCDM 1.1 VC-JWT lists live in core/status-list/.)
 */

/** §2.2: the status list credential, VCDM 2.0, signed by the issuer of the credentials it covers. */
export function signStatusListCredentialV2(
  signer: Signer,
  args: { issuer: string; uri: string; purpose: BitstringStatusPurpose; encodedList: string; now: number; validForMs: number; ttlMs: number },
): Promise<string> {
  const subject = buildStatusListSubject({ id: `${args.uri}#list`, statusPurpose: args.purpose, encodedList: args.encodedList });
  return signCredentialJose(signer, {
    '@context': [CREDENTIALS_V2],
    id: args.uri,
    type: ['VerifiableCredential', BITSTRING_STATUS_LIST_CREDENTIAL_TYPE],
    issuer: args.issuer,
    validFrom: toIso(args.now),
    validUntil: toIso(args.now + args.validForMs),
    // §2.2: ttl (milliseconds) is a member of the credentialSubject.
    credentialSubject: { ...subject, ttl: args.ttlMs },
  });
}

/**
 * Loader for the BitstringStatusClient (core/status-list/): a VCDM 2.0 status list credential
 * secured with VC-JOSE-COSE, checked with the §3.2 validate algorithm. Errors that make the list
 * unusable are BitstringStatusListErrors (status_invalid); network failures pass through.
 */
export function vcJoseBitstringLoader(opts: { resolver: Resolver; maxAgeMs: number; fetch?: typeof fetch }): BitstringListLoader {
  return async (uri, now) => {
    const jws = await fetchStatusListJwt(uri, VC_JWT_MEDIA_TYPE, opts.fetch ? { fetch: opts.fetch } : {});
    let document, controller, vc;
    try {
      ({ document, controller } = await verifyJoseSecured(jws, { kind: 'credential', now, resolveKey: (kid, did) => resolveAssertionKey(opts.resolver, kid, did, now) }));
      vc = validateCredential(document, { version: '2.0' });
    } catch (e) {
      if (e instanceof VcJoseError || e instanceof VcdmError) throw new BitstringStatusListError(e.message);
      throw e;
    }
    const subject = vc.subjects[0] as { type?: unknown; statusPurpose?: unknown; encodedList?: unknown; ttl?: unknown };
    if (!vc.types.includes(BITSTRING_STATUS_LIST_CREDENTIAL_TYPE) || subject.type !== BITSTRING_STATUS_LIST_TYPE || typeof subject.statusPurpose !== 'string' || typeof subject.encodedList !== 'string') {
      throw new BitstringStatusListError('not a BitstringStatusListCredential');
    }
    if (document.id !== undefined && document.id !== uri) throw new BitstringStatusListError('status list id does not match its URI');
    // VCDM 2.0 §4.9: a status list outside its validity period is not relied on.
    if (vc.validUntil !== undefined && vc.validUntil < now) throw new BitstringStatusListError('status list has expired');
    if (vc.validFrom !== undefined && vc.validFrom > now + 60_000) throw new BitstringStatusListError('status list is not yet valid');
    const bytes = decodeBitstring(subject.encodedList);
    const ttl = typeof subject.ttl === 'number' && subject.ttl > 0 ? subject.ttl : opts.maxAgeMs;
    const until = Math.min(now + Math.min(ttl, opts.maxAgeMs), vc.validUntil ?? Infinity);
    return { issuer: controller, purpose: subject.statusPurpose, bytes, until };
  };
}
