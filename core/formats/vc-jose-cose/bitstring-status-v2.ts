import type { Resolver } from 'did-resolver';
import type { Signer } from '../../crypto/jws.ts';
import { resolveAssertionKey } from '../../did/resolver.ts';
import { BITSTRING_STATUS_LIST_CREDENTIAL_TYPE, BITSTRING_STATUS_LIST_TYPE, BitstringStatusListError, bitAt, buildStatusListSubject, decodeBitstring, parseStatusListIndex, type BitstringStatusPurpose } from '../../status-list/bitstring-status-list.ts';
import { fetchStatusListJwt, isAcceptableStatusListUri } from '../../status-list/fetch-status-list.ts';
import type { StatusCheck } from '../../status-list/status-list-client.ts';
import { systemClock, toIso, type Clock } from '../../util/time.ts';
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

interface Cached {
  issuer: string;
  purpose: string;
  bytes: Uint8Array;
  until: number;
}

/** Relying-party side (§3.2): fetch, verify (signed by the credential's issuer), match the purpose, read the bit. */
export class BitstringStatusClientV2 {
  private readonly cache = new Map<string, Cached>();
  private readonly clock: Clock;

  constructor(private readonly opts: { resolver: Resolver; maxAgeMs: number; clock?: Clock; fetch?: typeof fetch }) {
    this.clock = opts.clock ?? systemClock;
  }

  /** `status` 1 = the bit is set for the entry's purpose, 0 = not set. Failures are reasons, never "valid". */
  async check(entry: { statusPurpose: string; statusListIndex: string; statusListCredential: string }, credentialIssuer: string): Promise<StatusCheck> {
    let list: Cached;
    let index: number;
    try {
      index = parseStatusListIndex(entry.statusListIndex);
      list = await this.load(entry.statusListCredential);
    } catch (e) {
      const invalid = e instanceof BitstringStatusListError || e instanceof VcJoseError || e instanceof VcdmError;
      return { ok: false, code: invalid ? 'status_invalid' : 'status_unavailable', message: `status list: ${(e as Error).message}` };
    }
    // §3.2 step: the status list credential's issuer is the credential's issuer (our policy; the spec leaves it to the verifier).
    if (list.issuer !== credentialIssuer) return { ok: false, code: 'status_invalid', message: 'status list is not signed by the credential issuer' };
    // §3.2: STATUS_VERIFICATION_ERROR when the purposes differ.
    if (list.purpose !== entry.statusPurpose) return { ok: false, code: 'status_invalid', message: 'status list purpose does not match the entry' };
    try {
      return { ok: true, status: bitAt(list.bytes, index) };
    } catch (e) {
      return { ok: false, code: 'status_invalid', message: `status list: ${(e as Error).message}` };
    }
  }

  private async load(uri: string): Promise<Cached> {
    const now = this.clock();
    const hit = this.cache.get(uri);
    if (hit && now < hit.until) return hit;
    if (!isAcceptableStatusListUri(uri)) throw new BitstringStatusListError('status list URI must be https');
    const jws = await fetchStatusListJwt(uri, VC_JWT_MEDIA_TYPE, this.opts.fetch ? { fetch: this.opts.fetch } : {});
    const { document, controller } = await verifyJoseSecured(jws, { kind: 'credential', now, resolveKey: (kid, did) => resolveAssertionKey(this.opts.resolver, kid, did, now) });
    const vc = validateCredential(document, { version: '2.0' });
    const subject = vc.subjects[0] as { type?: unknown; statusPurpose?: unknown; encodedList?: unknown; ttl?: unknown };
    if (!vc.types.includes(BITSTRING_STATUS_LIST_CREDENTIAL_TYPE) || subject.type !== BITSTRING_STATUS_LIST_TYPE || typeof subject.statusPurpose !== 'string' || typeof subject.encodedList !== 'string') {
      throw new BitstringStatusListError('not a BitstringStatusListCredential');
    }
    if (document.id !== undefined && document.id !== uri) throw new BitstringStatusListError('status list id does not match its URI');
    // VCDM 2.0 §4.9: a status list outside its validity period is not relied on.
    if (vc.validUntil !== undefined && vc.validUntil < now) throw new BitstringStatusListError('status list has expired');
    if (vc.validFrom !== undefined && vc.validFrom > now + 60_000) throw new BitstringStatusListError('status list is not yet valid');
    const bytes = decodeBitstring(subject.encodedList);
    const ttl = typeof subject.ttl === 'number' && subject.ttl > 0 ? subject.ttl : this.opts.maxAgeMs;
    const until = Math.min(now + Math.min(ttl, this.opts.maxAgeMs), vc.validUntil ?? Infinity);
    const entry: Cached = { issuer: controller, purpose: subject.statusPurpose, bytes, until };
    this.cache.set(uri, entry);
    return entry;
  }
}
