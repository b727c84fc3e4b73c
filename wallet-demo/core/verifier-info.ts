import { decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import { z } from 'zod';
import { verifyJwt, JoseVerifyError } from '../../core/crypto/jws.ts';
import { resolveAssertionKey } from '../../core/did/resolver.ts';
import { pathCovers } from '../../core/trust/evaluate.ts';
import { zClaimPath, type I18nText } from '../../core/trust/model.ts';
import { WalletError, type WalletContext } from './wallet.ts';

/**
 * OID4VP 1.0 §5.1 `verifier_info` and §"Verifier Info" (issue 17, HAIP 1.0): a relying party may send,
 * inside its signed Request Object, attestations "issued by a trusted authority, to prove that the
 * Verifier has publicly registered its intent to request certain credentials". Ours is the trust
 * registry's registration attestation (`typ` `verifier-registration+jwt`, docs/contract.md "Trust
 * registry"): the registry signs what it holds about the relying party's `verify` grants: the
 * credential types, the claims and the purpose.
 *
 * "If the Wallet uses information from verifier_info, the Wallet MUST validate the signature and ensure
 * binding" (§5.1). So an attestation of ours is used only when
 * - it is signed (ES256) by a key the trust registry's DID document lists for assertions (the registry
 *   the wallet already trusts for its snapshots: `ctx.registryDid`),
 * - `iss` is that registry, `iat`/`exp` hold at the wallet's clock,
 * - `sub` is the relying party the request comes from (the DID of `decentralized_identifier:`, or for
 *   `x509_hash:` the DID the certificate names, see x509-client.ts): binding to the signed request.
 * One of ours that fails any of these is an error, not ignored: a forged or stale attestation is an
 * attack. Entries in other formats, with another `typ`, or from another registry are ignored
 * (§"Verifier Info": "SHOULD ignore any unrecognized or unsupported Verifier Info types"); the wallet
 * then asks the registry online, as without `verifier_info`.
 */
export const VERIFIER_REGISTRATION_TYP = 'verifier-registration+jwt';

/**
 * How long the registry's public key, once resolved, is relied on without asking again: the same day
 * an attestation lives, so a wallet that has met the registry once checks attestations offline.
 */
const REGISTRY_KEY_CACHE_MS = 24 * 3600_000;
/** Clock skew tolerated on `iat`/`exp` (seconds). */
const SKEW_S = 60;

const zI18n = z.object({ de: z.string().min(1).max(500), en: z.string().min(1).max(500) });
const zRegisteredCredential = z.looseObject({
  vct: z.string().min(1).max(512),
  w3c_types: z.array(z.string().min(1).max(200)).max(20).optional(),
  claims: z.array(zClaimPath).max(100).optional(),
  purpose: zI18n.optional(),
});
const zPayload = z.looseObject({
  iss: z.string(),
  sub: z.string(),
  iat: z.number(),
  exp: z.number(),
  name: zI18n,
  status: z.literal('active'),
  credentials: z.array(zRegisteredCredential).max(100),
});
const zEntry = z.looseObject({
  format: z.string().min(1).max(200),
  data: z.union([z.string().max(100_000), z.record(z.string(), z.unknown())]),
  credential_ids: z.array(z.string().min(1).max(200)).min(1).max(50).optional(),
});
/** §5.1: "A non-empty array of attestations". */
const zVerifierInfo = z.array(zEntry).min(1).max(20);

export type RegisteredCredential = z.infer<typeof zRegisteredCredential>;

/** A verified registration attestation: what the registry says this relying party may ask. */
export interface AttestedRegistration {
  name: I18nText;
  credentials: RegisteredCredential[];
  /** §5.1 `credential_ids`: the DCQL Credential Queries it is relevant to; undefined: all of them. */
  credentialIds?: string[];
  /** Epoch seconds. */
  exp: number;
}

const invalid = (de: string, en: string) => new WalletError('invalid_verifier_info', `${de} Nichts wurde geteilt. / ${en} Nothing was shared.`);

const keyCache = new Map<string, { jwk: JWK; until: number }>();

/** The registry's assertion key behind `kid`, cached (REGISTRY_KEY_CACHE_MS) so later checks need no network. */
async function registryKey(ctx: Pick<WalletContext, 'resolver' | 'clock'>, kid: string, registryDid: string): Promise<JWK> {
  const now = ctx.clock();
  const hit = keyCache.get(kid);
  if (hit && now < hit.until) return hit.jwk;
  const jwk = await resolveAssertionKey(ctx.resolver, kid, registryDid, now);
  keyCache.delete(kid);
  if (keyCache.size >= 100) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(kid, { jwk, until: now + REGISTRY_KEY_CACHE_MS });
  return jwk;
}

/** Verifies one attestation of ours (typ and iss already seen unverified); throws the citizen's error. */
async function verifyAttestation(ctx: Pick<WalletContext, 'resolver' | 'clock'>, jwt: string, registryDid: string, verifier: string): Promise<z.infer<typeof zPayload>> {
  const kid = (decodeProtectedHeader(jwt) as { kid?: unknown }).kid;
  let key: JWK;
  try {
    if (typeof kid !== 'string') throw new Error('no kid');
    key = await registryKey(ctx, kid, registryDid);
  } catch {
    throw invalid('Die Registrierungsbescheinigung der Stelle ist nicht mit einem Schlüssel des Vertrauensregisters signiert.', 'The organisation’s registration attestation is not signed with a key of the trust registry.');
  }
  let payload: unknown;
  try {
    payload = (await verifyJwt(jwt, key, { typ: VERIFIER_REGISTRATION_TYP, issuer: registryDid, requiredClaims: ['iss', 'sub', 'iat', 'exp'], currentDate: new Date(ctx.clock()), clockTolerance: SKEW_S })).payload;
  } catch (e) {
    const reason = e instanceof JoseVerifyError ? e.reason : 'malformed';
    if (reason === 'expired') throw invalid('Die Registrierungsbescheinigung der Stelle ist abgelaufen.', 'The organisation’s registration attestation has expired.');
    if (reason === 'not_yet_valid') throw invalid('Die Registrierungsbescheinigung der Stelle ist noch nicht gültig.', 'The organisation’s registration attestation is not yet valid.');
    throw invalid('Die Registrierungsbescheinigung der Stelle ist gefälscht oder beschädigt (Signatur ungültig).', 'The organisation’s registration attestation is forged or damaged (invalid signature).');
  }
  const parsed = zPayload.safeParse(payload);
  if (!parsed.success) throw invalid('Die Registrierungsbescheinigung der Stelle ist ungültig.', 'The organisation’s registration attestation is invalid.');
  // jose checks `exp` (and `nbf`) but not an `iat` in the future.
  if (parsed.data.iat > ctx.clock() / 1000 + SKEW_S) throw invalid('Die Registrierungsbescheinigung der Stelle ist noch nicht gültig.', 'The organisation’s registration attestation is not yet valid.');
  // Binding (§5.1 "ensure binding"): issued for the relying party that signed this request.
  if (parsed.data.sub !== verifier) throw invalid('Die Registrierungsbescheinigung gilt für eine andere Stelle als die anfragende.', 'The registration attestation was issued for another organisation than the one asking.');
  return parsed.data;
}

/**
 * The registry's registration attestations in a resolved Request Object's `verifier_info`, verified.
 * Empty when there are none the wallet can use (then the registry is asked online). Throws a
 * WalletError for a malformed `verifier_info` and for any attestation of ours that does not hold.
 */
export async function readVerifierInfo(ctx: Pick<WalletContext, 'resolver' | 'clock' | 'registryDid'>, requestPayload: Record<string, unknown>, verifier: string): Promise<AttestedRegistration[]> {
  const raw = requestPayload.verifier_info;
  if (raw === undefined) return [];
  const entries = zVerifierInfo.safeParse(raw);
  if (!entries.success) throw new WalletError('invalid_request', 'Die Anfrage ist ungültig (verifier_info). / The request is invalid (verifier_info).');
  const registryDid = ctx.registryDid;
  if (!registryDid) return [];
  const out: AttestedRegistration[] = [];
  for (const entry of entries.data) {
    if (entry.format !== 'jwt' || typeof entry.data !== 'string') continue;
    let typ: unknown;
    let iss: unknown;
    try {
      typ = decodeProtectedHeader(entry.data).typ;
      iss = decodeJwt(entry.data).iss;
    } catch {
      continue; // not a JWT at all: unrecognized
    }
    if (typ !== VERIFIER_REGISTRATION_TYP || iss !== registryDid) continue;
    const p = await verifyAttestation(ctx, entry.data, registryDid, verifier);
    out.push({ name: p.name, credentials: p.credentials, exp: p.exp, ...(entry.credential_ids ? { credentialIds: entry.credential_ids } : {}) });
  }
  return out;
}

type Path = (string | number | null)[];

export interface AttestedVerdict {
  authorized: boolean;
  /** Requested claim paths the attestation does not cover. */
  excess: Path[];
  /** Requested credential types the relying party is not registered for at all. */
  types: string[];
  purpose?: I18nText;
  /** The citizen's reason (German / English) when not authorized. */
  warning?: string;
}

/**
 * Does the attested registration cover one DCQL Credential Query? Every type the query may be
 * answered with (`dc+sd-jwt`: `meta.vct_values`, OID4VP 1.0 §B.3.5; `jwt_vc_json`: `meta.type_values`,
 * §B.1.1, mapped through the registered W3C types; and the types of the wallet's matching
 * credentials) must be registered, and every claim path covered by its registered claims, as the
 * registry's own evaluation reads them (core/trust/evaluate.ts pathCovers, evaluateRelyingParty).
 */
export function checkAgainstAttestation(att: AttestedRegistration, q: { vctValues?: readonly string[]; typeValues?: readonly (readonly string[])[]; candidateTypes: readonly string[]; paths: Path[] }): AttestedVerdict {
  const w3c = (q.typeValues ?? []).flat();
  const vcts = new Set<string>([...(q.vctValues ?? []), ...q.candidateTypes, ...att.credentials.filter((c) => w3c.length > 0 && c.w3c_types?.some((t) => w3c.includes(t))).map((c) => c.vct)]);
  const types: string[] = [];
  const excess: Path[] = [];
  let purpose: I18nText | undefined;
  for (const vct of vcts) {
    const reg = att.credentials.find((c) => c.vct === vct);
    if (!reg) {
      types.push(vct);
      continue;
    }
    purpose ??= reg.purpose;
    const allowed = reg.claims;
    if (allowed) for (const p of q.paths) if (!allowed.some((a) => pathCovers(a, p)) && !excess.some((e) => e.join('\u0000') === p.join('\u0000'))) excess.push(p);
  }
  if (vcts.size === 0) types.push('?');
  const authorized = types.length === 0 && excess.length === 0;
  const list = excess.map((p) => p.map((s) => (s === null ? '*' : String(s))).join('.')).join(', ');
  const warning = authorized
    ? undefined
    : excess.length > 0
      ? `Fragt mehr ab, als ihre Registrierungsbescheinigung des Vertrauensregisters erlaubt: ${list}. / Asks for more than its registration attestation from the trust registry allows: ${list}.`
      : 'Laut ihrer Registrierungsbescheinigung des Vertrauensregisters darf sie diesen Nachweis nicht prüfen. / According to its registration attestation from the trust registry it may not check this credential.';
  return { authorized, excess, types, ...(purpose ? { purpose } : {}), ...(warning ? { warning } : {}) };
}
