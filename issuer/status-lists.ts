import { signJwt } from '../core/crypto/jws.ts';
import { signStatusListCredentialV2 } from '../core/formats/vc-jose-cose/bitstring-status-v2.ts';
import { encodeStatusList, STATUS, STATUS_LIST_TYP } from '../core/status-list/token-status-list.ts';
import { toSeconds } from '../core/util/time.ts';
import { BITSTRING_MIN_BITS, BITSTRING_STATUS_LIST_CREDENTIAL_TYPE, buildStatusListEntry, buildStatusListSubject, encodeBitstring } from '../core/status-list/bitstring-status-list.ts';
import type { IssuerDeps, Office } from './deps.ts';
import { statusListName } from './store/status-list-store.ts';
import type { CredentialRow, CredentialStatus, StatusListFamily } from './store/schema.ts';

/**
 * The offices' status lists, numbered from 1 per office and family, each served at its own URL and
 * signed by the office. A credential names its list in its status reference (Token Status List
 * `status.status_list.uri`, Bitstring Status List `statusListCredential`), so a second list is just
 * another URL (draft-ietf-oauth-status-list §6.2, §12.4 "multiple Status Lists"). List 1 keeps the URLs
 * it had before lists were numbered, so credentials issued then still resolve:
 *
 * | list | Token Status List (dc+sd-jwt) | Bitstring, VC-JWT (jwt_vc_json) | Bitstring, VCDM 2.0 (vc+jwt) |
 * |---|---|---|---|
 * | 1 | `<issuer id>/status-lists/1` | `…/status-lists/w3c/{purpose}` | `…/status-lists/w3c/v2/{purpose}` |
 * | n ≥ 2 | `<issuer id>/status-lists/{n}` | `…/status-lists/w3c/{purpose}/{n}` | `…/status-lists/w3c/v2/{purpose}/{n}` |
 *
 * `{purpose}` is `revocation` or `suspension`. A list is built from the credential table and signed
 * when asked for, then kept in memory (signedList below) while its version (raised in the transaction
 * of every status change, in every process and instance) is unchanged, for at most a minute; so a
 * status change shows at once.
 */
export type { StatusListFamily };
export type W3cPurpose = 'revocation' | 'suspension';

/** SD-JWT VC use the Token Status List; VC-JWT and VC-JOSE-COSE credentials share one bitstring index space. */
export const familyOf = (format: string): StatusListFamily => (format === 'dc+sd-jwt' ? 'tsl' : 'bsl');

export const listName = (office: Office, family: StatusListFamily, number: number) => statusListName(office.slug, family, number);

/** The number of a stored list name `<family>:<office>:<n>`. */
export function listNumberOf(statusList: string): number {
  const n = Number(statusList.slice(statusList.lastIndexOf(':') + 1));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error('not a status list name');
  return n;
}

/** Token Status List URI of list `number` (its `sub`, and the `uri` in the credentials). */
export const listUri = (office: Office, number: number) => `${office.issuerId}/status-lists/${number}`;
/** W3C Bitstring Status List credential (VC-JWT) of list `number`, one per purpose. */
export const w3cListUri = (office: Office, purpose: W3cPurpose, number: number) => `${office.issuerId}/status-lists/w3c/${purpose}${number === 1 ? '' : `/${number}`}`;
/** The same bits as a VCDM 2.0 BitstringStatusListCredential secured with VC-JOSE-COSE, for VC-API `vc+jwt` credentials. */
export const w3cV2ListUri = (office: Office, purpose: W3cPurpose, number: number) => `${office.issuerId}/status-lists/w3c/v2/${purpose}${number === 1 ? '' : `/${number}`}`;

/** Public URI of a credential's status list (for VC-JWT and vc+jwt: its revocation list). */
export function publicListUri(office: Office, c: Pick<CredentialRow, 'format' | 'status_list'>): string {
  const n = listNumberOf(c.status_list);
  return c.format === 'dc+sd-jwt' ? listUri(office, n) : c.format === 'vc+jwt' ? w3cV2ListUri(office, 'revocation', n) : w3cListUri(office, 'revocation', n);
}

/**
 * The `credentialStatus` of a VCDM 2.0 credential in a bitstring list: a revocation and a suspension
 * entry at the same index (W3C Bitstring Status List §2.1; VCDM 2.0 §4.10 allows several). VCDM 1.1
 * (VC-JWT) credentials take vcJwtStatusEntry instead.
 */
export function w3cStatusEntries(office: Office, number: number, idx: number, vcdm: '1.1' | '2.0' = '1.1') {
  const uri = vcdm === '1.1' ? w3cListUri : w3cV2ListUri;
  return (['revocation', 'suspension'] as const).map((purpose) => buildStatusListEntry({ statusListCredential: uri(office, purpose, number), statusListIndex: idx, statusPurpose: purpose }));
}

/**
 * The `credentialStatus` of a VC-JWT (VCDM 1.1) credential: ONE revocation entry. VCDM 1.1 §4.9
 * defines credentialStatus as one object (wallets such as Credo refuse an array), so a VC-JWT
 * credential cannot be suspended; the status API answers 409 for it (issuer/routes/admin.ts).
 */
export function vcJwtStatusEntry(office: Office, number: number, idx: number): Record<string, unknown> {
  return buildStatusListEntry({ statusListCredential: w3cListUri(office, 'revocation', number), statusListIndex: idx, statusPurpose: 'revocation' }) as unknown as Record<string, unknown>;
}

/** Whether credentials of this format can be suspended: not VC-JWT, whose one status entry is a revocation entry. */
export const suspendable = (format: string) => format !== 'jwt_vc_json';

type ListDeps = Pick<IssuerDeps, 'store' | 'settings' | 'clock'>;

/**
 * The entries of list `number` and the size it is served with: the size it was opened with, never
 * less than its highest index + 1 (list 1 of a database from before migration 0007 has no row; it is
 * served with the configured size, or more if its indices need it). Null: no such list.
 */
async function listContents(deps: ListDeps, office: Office, family: StatusListFamily, number: number): Promise<{ entries: Pick<CredentialRow, 'status_idx' | 'status'>[]; size: number; opened: boolean } | null> {
  const name = listName(office, family, number);
  const row = await deps.store.statusLists.getList(name);
  if (!row && number !== 1) return null;
  const entries = await deps.store.statusEntries(name);
  const size = entries.reduce((max, e) => Math.max(max, e.status_idx + 1), row?.size ?? deps.settings.statusListSize);
  return { entries, size, opened: row !== null };
}

/** How long a signed list is served from memory at most, even unchanged (its `iat` stays this fresh). */
const SIGNED_LIST_MAX_AGE_MS = 60_000;
type Signed = { version: number; kid: string; at: number; body: string | null };
/** Per store (so two issuers in one process never share an entry), per list URL. */
const signedLists = new WeakMap<object, Map<string, Signed>>();

/**
 * Issue 16: every GET of a status list read all its credential rows, encoded and signed them. Now the
 * signed list is reused while (a) the list's version is the one it was built at (one primary-key
 * read per GET; the version is raised in the same transaction as the status change, and read before
 * the rows, so a list built during a change is tagged with the older version and rebuilt on the next
 * GET), (b) the office signs with the same key, (c) it is less than a minute old. Lists without a row
 * (list 1 of a database from before migration 0007, whose size follows its highest index) are never
 * kept.
 */
async function signedList(deps: ListDeps, office: Office, family: StatusListFamily, number: number, url: string, build: () => Promise<{ body: string | null; opened: boolean }>): Promise<string | null> {
  let cache = signedLists.get(deps.store);
  if (!cache) signedLists.set(deps.store, (cache = new Map()));
  const version = await deps.store.statusLists.version(listName(office, family, number));
  const now = deps.clock();
  const kid = office.identity.signer.kid;
  const hit = cache.get(url);
  if (hit && hit.version === version && hit.kid === kid && now - hit.at >= 0 && now - hit.at < SIGNED_LIST_MAX_AGE_MS) return hit.body;
  const { body, opened } = await build();
  if (opened && body !== null) cache.set(url, { version, kid, at: now, body });
  return body;
}

const VALUE: Record<CredentialStatus, number> = { valid: STATUS.VALID, revoked: STATUS.INVALID, suspended: STATUS.SUSPENDED };

/** The Status List Token of list `number` (draft-ietf-oauth-status-list §5.1): `sub` = its URI, `iat`, `exp`, `ttl`, `status_list`. Null: no such list. */
export function statusListToken(deps: ListDeps, office: Office, number: number, ttl: number): Promise<string | null> {
  return signedList(deps, office, 'tsl', number, `${listUri(office, number)}?ttl=${ttl}`, async () => {
    const list = await listContents(deps, office, 'tsl', number);
    if (!list) return { body: null, opened: false };
    const statusList = encodeStatusList(list.entries.map((e) => [e.status_idx, VALUE[e.status]] as [number, number]), 2, list.size);
    const iat = toSeconds(deps.clock());
    return { body: await signJwt(office.identity.signer, { sub: listUri(office, number), iat, exp: iat + 24 * 3600, ttl, status_list: statusList }, { typ: STATUS_LIST_TYP }), opened: list.opened };
  });
}

/** The bits of one purpose of a bitstring list (§2.2: at least 131,072 entries, whole bytes). */
async function encodedBits(deps: ListDeps, office: Office, purpose: W3cPurpose, number: number): Promise<{ bits: string; opened: boolean } | null> {
  const list = await listContents(deps, office, 'bsl', number);
  if (!list) return null;
  const want = purpose === 'revocation' ? 'revoked' : 'suspended';
  const size = Math.max(BITSTRING_MIN_BITS, Math.ceil(list.size / 8) * 8);
  return { bits: encodeBitstring(list.entries.filter((e) => e.status === want).map((e) => e.status_idx), size), opened: list.opened };
}

/**
 * A Bitstring Status List credential (W3C REC 2025 §2.2) as VC-JWT, signed by the office: bit set =
 * revoked (revocation list) or suspended (suspension list). Null: no such list.
 */
export function bitstringStatusListCredential(deps: ListDeps, office: Office, purpose: W3cPurpose, number: number, ttl: number): Promise<string | null> {
  const uri = w3cListUri(office, purpose, number);
  return signedList(deps, office, 'bsl', number, `${uri}?ttl=${ttl}`, async () => {
    const bits = await encodedBits(deps, office, purpose, number);
    if (bits === null) return { body: null, opened: false };
    return { body: await signBitstringV1(deps, office, uri, purpose, bits.bits, ttl), opened: bits.opened };
  });
}

function signBitstringV1(deps: ListDeps, office: Office, uri: string, purpose: W3cPurpose, encodedList: string, ttl: number): Promise<string> {
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

/** The same list as a VCDM 2.0 BitstringStatusListCredential secured with VC-JOSE-COSE (Bitstring Status List v1.0 §2.2). Null: no such list. */
export function bitstringStatusListCredentialV2(deps: ListDeps, office: Office, purpose: W3cPurpose, number: number, ttlSeconds: number): Promise<string | null> {
  const uri = w3cV2ListUri(office, purpose, number);
  return signedList(deps, office, 'bsl', number, `${uri}?ttl=${ttlSeconds}`, async () => {
    const bits = await encodedBits(deps, office, purpose, number);
    if (bits === null) return { body: null, opened: false };
    const body = await signStatusListCredentialV2(office.identity.signer, { issuer: office.identity.did, uri, purpose, encodedList: bits.bits, now: deps.clock(), validForMs: 24 * 3600_000, ttlMs: ttlSeconds * 1000 });
    return { body, opened: bits.opened };
  });
}
