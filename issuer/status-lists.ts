import { randomInt } from 'node:crypto';
import { signJwt } from '../core/crypto/jws.ts';
import { encodeStatusList, STATUS, STATUS_LIST_TYP } from '../core/status-list/token-status-list.ts';
import { toSeconds } from '../core/util/time.ts';
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
/** Public URI of a credential's status list, or null where it is not served yet (VC-JWT). */
export const publicListUri = (office: Office, format: string) => (format === 'dc+sd-jwt' ? listUri(office) : null);

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
