import { randomInt } from 'node:crypto';
import { signJwt } from '../core/crypto/jws.ts';
import { encodeStatusList, STATUS, STATUS_LIST_TYP } from '../core/status-list/token-status-list.ts';
import { toSeconds } from '../core/util/time.ts';
import { BITSTRING_MIN_BITS, BITSTRING_STATUS_LIST_CREDENTIAL_TYPE, buildStatusListEntry, buildStatusListSubject, encodeBitstring } from '../core/status-list/bitstring-status-list.ts';
import type { IssuerDeps, Office } from './deps.ts';
import type { CredentialStatus } from './store/schema.ts';

/**
 * Token Status Lists of the offices (draft-ietf-oauth-status-list): one 2-bit list per office,
 * served at `<issuer id>/status-lists/1`, signed by the office. Indices are drawn at random (never
 * sequential, so an index does not reveal issuance order); the database's unique (list, index)
 * constraint makes a collision fail rather than share a slot.
 */
/** Status list of a format: Token Status List for SD-JWT VC; VC-JWT indices live in their own list. */
export const listName = (office: Office, format = 'dc+sd-jwt') => (format === 'dc+sd-jwt' ? `tsl:${office.slug}:1` : `bsl:${office.slug}:1`);
export const listUri = (office: Office) => `${office.issuerId}/status-lists/1`;
/** W3C Bitstring Status List credentials of an office for VC-JWT (one per purpose, same index). */
export const w3cListUri = (office: Office, purpose: 'revocation' | 'suspension') => `${office.issuerId}/status-lists/w3c/${purpose}`;
/** The same bits as a VCDM 2.0 BitstringStatusListCredential secured with VC-JOSE-COSE, for VC-API `vc+jwt` credentials (issue 7). */
export const w3cV2ListUri = (office: Office, purpose: 'revocation' | 'suspension') => `${office.issuerId}/status-lists/w3c/v2/${purpose}`;
/** Public URI of a credential's status list (for VC-JWT and vc+jwt: its revocation list). */
export const publicListUri = (office: Office, format: string) => (format === 'dc+sd-jwt' ? listUri(office) : format === 'vc+jwt' ? w3cV2ListUri(office, 'revocation') : w3cListUri(office, 'revocation'));

/** The `credentialStatus` of a VC-JWT: a revocation and a suspension entry at the same index (W3C Bitstring Status List §2.1). */
export function w3cStatusEntries(office: Office, idx: number) {
  return (['revocation', 'suspension'] as const).map((purpose) => buildStatusListEntry({ statusListCredential: w3cListUri(office, purpose), statusListIndex: idx, statusPurpose: purpose }));
}

/**
 * A Bitstring Status List credential (W3C REC 2025 §2.2) as VC-JWT, signed by the office: bit set =
 * revoked (revocation list) or suspended (suspension list). Regenerated on every request from the
 * credential table, so a status change shows at once.
 */
export async function bitstringStatusListCredential(deps: Pick<IssuerDeps, 'store' | 'settings' | 'clock'>, office: Office, purpose: 'revocation' | 'suspension', ttl: number): Promise<string> {
  const entries = await deps.store.statusEntries(listName(office, 'jwt_vc_json'));
  const want = purpose === 'revocation' ? 'revoked' : 'suspended';
  const size = Math.max(BITSTRING_MIN_BITS, Math.ceil(deps.settings.statusListSize / 8) * 8);
  const encodedList = encodeBitstring(entries.filter((e) => e.status === want).map((e) => e.status_idx), size);
  const uri = w3cListUri(office, purpose);
  const iat = toSeconds(deps.clock());
  return signJwt(
    office.identity.signer,
    {
      iss: office.identity.did,
      jti: uri,
      iat,
      nbf: iat,
      exp: iat + 24 * 3600,
      vc: {
        '@context': ['https://www.w3.org/2018/credentials/v1', 'https://www.w3.org/ns/credentials/status/v1'],
        id: uri,
        type: ['VerifiableCredential', BITSTRING_STATUS_LIST_CREDENTIAL_TYPE],
        issuer: office.identity.did,
        ttl: ttl * 1000,
        credentialSubject: buildStatusListSubject({ id: `${uri}#list`, statusPurpose: purpose, encodedList }),
      },
    },
    { typ: 'JWT' },
  );
}

/**
 * Picks `count` free random indices in the office's list: draws candidates, asks the database which
 * are taken, draws again for those. The unique (list, index) constraint is the last word.
 */
export async function allocateIndices(deps: Pick<IssuerDeps, 'store' | 'settings'>, office: Office, count: number, format = 'dc+sd-jwt'): Promise<number[]> {
  const name = listName(office, format);
  const size = deps.settings.statusListSize;
  const picked = new Set<number>();
  for (let round = 0; picked.size < count; round++) {
    if (round === 20) {
      if ((await deps.store.countSlots(name)) + count > size * 0.9) throw new Error(`status list ${name} is nearly full`);
      round = 0;
    }
    const candidates: number[] = [];
    while (candidates.length < count - picked.size) {
      const i = randomInt(0, size);
      if (!picked.has(i) && !candidates.includes(i)) candidates.push(i);
    }
    const taken = await deps.store.takenSlots(name, candidates);
    for (const c of candidates) if (!taken.has(c)) picked.add(c);
  }
  return [...picked];
}

const VALUE: Record<CredentialStatus, number> = { valid: STATUS.VALID, revoked: STATUS.INVALID, suspended: STATUS.SUSPENDED };

/** The Status List Token (§5.1): `sub` = its URI, `iat`, `exp`, `ttl`, `status_list`. */
export async function statusListToken(deps: Pick<IssuerDeps, 'store' | 'settings' | 'clock'>, office: Office, ttl: number): Promise<string> {
  const entries = await deps.store.statusEntries(listName(office));
  const list = encodeStatusList(entries.map((e) => [e.status_idx, VALUE[e.status]] as [number, number]), 2, deps.settings.statusListSize);
  const iat = toSeconds(deps.clock());
  return signJwt(office.identity.signer, { sub: listUri(office), iat, exp: iat + 24 * 3600, ttl, status_list: list }, { typ: STATUS_LIST_TYP });
}
