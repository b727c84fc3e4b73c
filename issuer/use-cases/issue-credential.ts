import { randomBytes, randomUUID } from 'node:crypto';
import type { RequestLike } from '@openid4vc/oauth2';
import type { JWK } from 'jose';
import { ProtocolError } from '../../core/http/errors.ts';
import { peekHeader } from '../../core/crypto/jws.ts';
import { unverifiedClaims } from '../../core/crypto/es256-compact.ts';
import { sameJwkKey } from '../../core/crypto/jwk.ts';
import { disclosablePaths } from '../../core/catalog/claims-schema.ts';
import { claimPathsOf } from '../../core/catalog/model.ts';
import { issueSdJwtVc } from '../../core/formats/sd-jwt-vc/index.ts';
import { didJwk } from '../../core/formats/vc-jwt/vc-jwt-issuer.ts';
import { evaluateAuthorization } from '../../core/trust/evaluate.ts';
import { toIso, toSeconds } from '../../core/util/time.ts';
import type { CredentialConfiguration } from '../credential-configurations.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import { didJwkKey, signerKey, type Libraries } from '../oid4vci-lib.ts';
import type { IssuerMetadataResult } from '@openid4vc/openid4vci';
import { protocolStep } from '../protocol-errors.ts';
import { checkCNonce } from '../c-nonce.ts';
import { grantedCredentialIdentifiers, parseCredentialRequest, requestedConfigurationId } from '../credential-request.ts';
import { verifyResourceRequest } from '../oauth/dpop.ts';
import { checkKeyAttestation, proofVerifier } from '../oauth/key-attestation.ts';
import { StatusListUnavailable, withStatusSlots, type ReservedSlot } from '../allocate-status-slots.ts';
import { familyOf, listUri, vcJwtStatusEntry } from '../status-lists.ts';
import type { CredentialRow, OfferRow } from '../store/schema.ts';
import type { UsedNonce } from '../store/issuer-store.ts';

const err = (code: string, description: string, status = 400) => new ProtocolError(code, description, status);
/** Proof `iat` must be within this many seconds in the past (and not in the future beyond skew). */
const PROOF_MAX_AGE = 300;
const CLOCK_SKEW = 60;

/**
 * Credential endpoint (OID4VCI 1.0 §8): authenticate the access token, find the offer, check the
 * request and each key proof (§8.2.1.1, Appendix F.1), ask the trust registry whether the office
 * may issue this type now, sign one credential per proof key with its own status index, record
 * them, and drop the offer's claims.
 */
export async function issueCredential(deps: IssuerDeps, libs: Libraries, office: Office, issuerMetadata: IssuerMetadataResult, request: RequestLike, body: unknown) {
  const { offer, clientId, credentialIdentifiers } = await authenticateToken(deps, libs, office, issuerMetadata, request);
  if (offer.state === 'issued') throw invalidToken('The credential for this access token has already been issued.');
  if (offer.state === 'deferred') throw err('invalid_credential_request', 'This issuance is deferred; collect it from the deferred credential endpoint.');
  if (offer.state !== 'token_issued') throw invalidToken('The access token is not valid for this offer.');

  const b = (body ?? {}) as Record<string, unknown>;
  // §8.2: 1.0 requests name a credential_configuration_id and carry `proofs`; `proof` and `format` are earlier drafts.
  if (typeof b !== 'object' || Array.isArray(b)) throw err('invalid_credential_request', 'The request body must be a JSON object.');
  if ('proof' in b || 'format' in b) throw err('invalid_credential_request', '`proof` and `format` are not part of OID4VCI 1.0; use `proofs` and `credential_configuration_id`.');
  // §8.2: by credential_identifier when the token response carried credential_identifiers (§6.2), else by configuration id.
  const configurationId = requestedConfigurationId(b, credentialIdentifiers);
  const configuration = office.configurations.get(configurationId);
  if (!configuration) throw err('unknown_credential_configuration', `Unknown credential_configuration_id ${configurationId}.`);
  if (configuration.id !== offer.configuration_id) throw err('credential_request_denied', 'The access token does not cover this credential configuration.');
  // A proof that is not an ES256 compact JWS is an invalid proof (§8.3.1.2), not a malformed request.
  const rawProofs = (b.proofs as { jwt?: unknown } | undefined)?.jwt;
  if (Array.isArray(rawProofs)) for (const p of rawProofs) checkProofShape(p);
  const parsed = parseCredentialRequest(b);
  const proofs = parsed.proofs?.jwt;
  if (!proofs || proofs.length === 0) throw err('invalid_proof', 'proofs.jwt is required: one key proof per credential.');
  if (proofs.length > deps.settings.batchSize) throw err('invalid_credential_request', `At most ${deps.settings.batchSize} proofs per request (batch_size).`);

  const { keys: holderKeys, nonces } = await verifyProofs(deps, libs, office, issuerMetadata, configuration, proofs, clientId);

  await requireTrust(deps, office, configuration);

  // Deferred issuance (§9): an offer that needs a clerk's approval parks the proven keys and answers 202.
  if (offer.approval === 'manual' && !offer.approved_at) {
    for (const n of nonces) if (!(await deps.store.useNonce(n.value, n.office, n.expiresAt))) throw nonceUsed();
    const transactionId = randomBytes(24).toString('base64url');
    if (!(await deps.store.deferIssuance(offer.id, deps.codes.transactionHash(transactionId), JSON.stringify(holderKeys)))) throw invalidToken('The access token has already been used.');
    return { status: 202, body: await protocolStep(() => libs.issuer.createCredentialResponse({ credentialRequest: LIBRARY_1_0_REQUEST, transactionId, interval: DEFERRED_INTERVAL })) };
  }
  // The c_nonces are marked used in the transaction that records the credentials (one commit, issue 16).
  const credentials = await signAndRecord(deps, office, configuration, offer, holderKeys, nonces);
  // §8.3: `credentials`, an array of objects with `credential`, one per proof. Written out: the library's
  // createCredentialResponse validates our own answer with zod (0.65 % of the issuer's busy time, issue 16).
  return { status: 200, body: { credentials } };
}

/** Verifies the access token (RFC 9068 JWT from this office, via jwks_uri) and loads the offer it was issued for. */
export async function authenticate(deps: Pick<IssuerDeps, 'store' | 'clock' | 'codes'>, libs: Libraries, office: Office, issuerMetadata: IssuerMetadataResult, request: RequestLike): Promise<OfferRow> {
  return (await authenticateToken(deps, libs, office, issuerMetadata, request)).offer;
}

/**
 * The same, with the token's `client_id` (set when the wallet authenticated at the token endpoint).
 * A DPoP-bound token (`cnf.jkt`) needs the DPoP scheme and a fresh proof with `ath` and our nonce
 * (RFC 9449 §7, §9; issuer/oauth/dpop.ts).
 */
export async function authenticateToken(deps: Pick<IssuerDeps, 'store' | 'clock' | 'codes'>, libs: Libraries, office: Office, issuerMetadata: IssuerMetadataResult, request: RequestLike): Promise<{ offer: OfferRow; clientId?: string; credentialIdentifiers?: Map<string, string> }> {
  const { tokenPayload } = await verifyResourceRequest(deps, libs, office, issuerMetadata.authorizationServers, request);
  if (typeof tokenPayload.sub !== 'string') throw invalidToken('The access token has no subject.');
  const offer = await deps.store.getOffer(office.slug, tokenPayload.sub);
  if (!offer) throw invalidToken('The access token does not belong to an offer of this office.');
  // OID4VCI 1.0 §6.2 credential_identifiers, carried in the token as RFC 9396 §9.1 authorization_details.
  const credentialIdentifiers = grantedCredentialIdentifiers(tokenPayload as Record<string, unknown>);
  return { offer, ...(typeof tokenPayload.client_id === 'string' ? { clientId: tokenPayload.client_id } : {}), ...(credentialIdentifiers ? { credentialIdentifiers } : {}) };
}

/**
 * What the library's createCredentialResponse reads of a parsed request: only the draft `format`,
 * which a 1.0 request (all this issuer accepts, issuer/credential-request.ts) never has.
 */
const LIBRARY_1_0_REQUEST = {} as Parameters<Libraries['issuer']['createCredentialResponse']>[0]['credentialRequest'];

/** Seconds a wallet should wait between polls of the deferred endpoint. */
export const DEFERRED_INTERVAL = 60;

/** Trust check before signing: may this office issue this type now (registry snapshot, cached)? */
export async function requireTrust(deps: Pick<IssuerDeps, 'trust' | 'clock'>, office: Office, configuration: CredentialConfiguration): Promise<void> {
  let index;
  try {
    index = await deps.trust.index();
  } catch {
    throw err('temporarily_unavailable', 'The trust registry cannot be reached; try again later.', 503);
  }
  const verdict = evaluateAuthorization(index, { entity_id: office.identity.did, authority_id: index.root, action: 'issue', resource: configuration.vct, time: deps.clock() });
  if (!verdict.authorized) throw err('credential_request_denied', `The office may not issue this credential type now (${verdict.message}).`);
}

/**
 * Signs one credential per holder key, each with its own random status slot, records them and
 * closes the offer. The slots are reserved for this request and become the credentials' in the
 * transaction that records them; a request that loses the race for the offer (or fails otherwise)
 * gives them back, so concurrent requests on one token leave one set of slots claimed.
 */
export async function signAndRecord(deps: IssuerDeps, office: Office, configuration: CredentialConfiguration, offer: OfferRow, holderKeys: JWK[], nonces: UsedNonce[] = []): Promise<{ credential: string }[]> {
  const claims = JSON.parse(deps.sealer.open(offer.claims_sealed!, offer.id)) as Record<string, unknown>;
  const now = deps.clock();
  const exp = expiry(configuration, claims, now);
  let credentials: { credential: string }[];
  try {
    credentials = await withStatusSlots(deps, office, familyOf(configuration.format), holderKeys.length, async (slots) => {
      const rows: CredentialRow[] = [];
      const out: { credential: string }[] = [];
      for (const [i, jwk] of holderKeys.entries()) {
        const slot = slots[i]!;
        out.push({ credential: await sign(deps, office, configuration, claims, jwk, now, exp, slot) });
        rows.push({ id: randomUUID(), offer_id: offer.id, office: office.slug, configuration_id: configuration.id, format: configuration.format, status_list: slot.statusList, status_idx: slot.idx, status: 'valid', issued_at: toIso(now), expires_at: toIso(exp) });
      }
      const done = await deps.store.completeIssuance(offer.id, rows, nonces);
      if (done === 'nonce_used') throw nonceUsed();
      if (done === 'offer_closed') throw invalidToken('The credential for this access token has already been issued.');
      return out;
    });
  } catch (e) {
    // OID4VCI 1.0 §8.3.1.2: the request is not accepted; nothing was issued and the offer stays open.
    if (e instanceof StatusListUnavailable) throw err('credential_request_denied', 'No status list entry can be assigned to the credential now; nothing was issued. Try again later.');
    throw e;
  }
  deps.logger.info({ office: office.slug, configuration: configuration.id, count: credentials.length }, 'credentials issued');
  return credentials;
}

function checkProofShape(p: unknown): void {
  if (typeof p !== 'string' || p.length > 8192 || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(p)) throw err('invalid_proof', 'A proof is not a compact JWS.');
  try {
    peekHeader(p);
  } catch {
    throw err('invalid_proof', 'A proof uses an algorithm that is not allowed (ES256 only).');
  }
}

export const invalidToken = (d: string) =>
  new ProtocolError('invalid_token', d, 401, { headers: { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${d.replace(/["\\]/g, '')}"` } });

/**
 * Verifies every key proof; returns the proven keys and the proofs' c_nonces, each checked as ours,
 * for this office and unexpired. Marking them used (once each, across instances) is the caller's,
 * together with what they were spent on.
 */
async function verifyProofs(deps: IssuerDeps, libs: Libraries, office: Office, issuerMetadata: IssuerMetadataResult, configuration: CredentialConfiguration, proofs: string[], clientId: string | undefined): Promise<{ keys: JWK[]; nonces: UsedNonce[] }> {
  const keys: JWK[] = [];
  const nonces = new Set<string>();
  const nowS = toSeconds(deps.clock());
  for (const jwt of proofs) {
    // A look at the nonce before the library's full check of the proof (core/crypto/es256-compact.ts).
    const claims = unverifiedClaims(jwt);
    if (!claims) throw err('invalid_proof', 'A proof is not a JWT.');
    const nonce = claims.nonce;
    if (typeof nonce !== 'string' || nonce.length === 0) throw err('invalid_nonce', 'A proof has no c_nonce; fetch one from the nonce endpoint.');
    // Appendix F.1: a `kid` names the DID key the credential binds to. Checked here, before the library,
    // so the wallet learns why (only did:jwk, resolved from the DID itself; nothing is fetched).
    const { kid } = peekHeader(jwt);
    if (typeof kid === 'string' && kid.startsWith('did:')) {
      const k = didJwkKey(kid);
      if ('refused' in k) throw err('invalid_proof', `The proof kid is not accepted: ${k.refused}.`);
    }
    // Library: typ openid4vci-proof+jwt, signature (our callback: ES256, public P-256 jwk), aud = credential issuer, nonce;
    // with a key_attestation header (Appendix D) also its x5c chain to a trusted CA and the proof key among attested_keys.
    const { signer, payload, keyAttestation } = await protocolStep(() => proofVerifier(deps, libs, jwt).verifyCredentialRequestJwtProof({ issuerMetadata, jwt, expectedNonce: nonce as string, now: new Date(deps.clock()) }));
    // Appendix D, §12.2.4 key_attestations_required: missing or not meeting it is invalid_proof.
    checkKeyAttestation(deps, configuration, keyAttestation, nonce);
    // Ours: the library accepts any past iat (F.1: iat is REQUIRED; freshness is the issuer's policy).
    if (typeof payload.iat !== 'number' || payload.iat > nowS + CLOCK_SKEW || payload.iat < nowS - PROOF_MAX_AGE) throw err('invalid_proof', 'The proof iat is not recent.');
    // §F.1: iss MUST be omitted for anonymous pre-authorized access, and is the client_id of an authenticated client.
    if (payload.iss !== undefined && (clientId === undefined || payload.iss !== clientId)) throw err('invalid_proof', clientId === undefined ? 'The proof must not contain iss for anonymous access.' : 'The proof iss is not the client_id of this access token.');
    const key = signerKey(signer as never);
    if ('refused' in key) throw err('invalid_proof', `The proof key is not accepted: ${key.refused}.`);
    // The same key twice, as equal RFC 7638 thumbprints would say, without hashing (core/crypto/jwk.ts;
    // issue 16: the library's thumbprint validated the JWK with zod and hashed it for every proof, also
    // for the usual single one).
    if (keys.some((k) => sameJwkKey(k, key.jwk))) throw err('invalid_proof', 'Each proof must use a different key.');
    // A did:jwk proof: the credential binds to exactly the DID the wallet sent, kept as the key's `kid`
    // (re-encoding the JWK could order its members differently and give another DID string).
    keys.push(key.did ? { ...key.jwk, kid: `${key.did}#0` } : key.jwk);
    nonces.add(nonce);
  }
  const used: UsedNonce[] = [];
  for (const n of nonces) {
    const u = checkCNonce(deps, office, n);
    if (!u) throw nonceUsed();
    used.push(u);
  }
  return { keys, nonces: used };
}

const nonceUsed = () => err('invalid_nonce', 'The c_nonce is unknown, used or expired; fetch a new one.');

/** Credential expiry: its validity period, but never past the document's own `gueltig_bis`. */
function expiry(c: CredentialConfiguration, claims: Record<string, unknown>, now: number): number {
  let exp = now + c.validityDays * 86_400_000;
  if (typeof claims.gueltig_bis === 'string') exp = Math.min(exp, Date.parse(`${claims.gueltig_bis}T23:59:59Z`));
  return Math.max(exp, now + 60_000);
}

async function sign(deps: Pick<IssuerDeps, 'vcJwt' | 'certificates' | 'settings'>, office: Office, c: CredentialConfiguration, claims: Record<string, unknown>, holderKey: JWK, now: number, exp: number, slot: ReservedSlot): Promise<string> {
  const holderDid = provenDidJwk(holderKey);
  const jwk = holderDid ? (({ kid: _, ...bare }) => bare)(holderKey) : holderKey;
  if (c.format === 'dc+sd-jwt') {
    // HAIP, SD-JWT VC §2.5 "Inline X.509 Certificates": with a city CA the office's certificate chain as
    // `x5c` and `iss` = its https Credential Issuer Identifier, which the certificate names as a SAN URI
    // beside the did:web (the entity the registry authorises; kept as the `kid`, also the key's id in the
    // JWT VC Issuer Metadata). Without a city CA (or ISSUER_X5C=0): the did:web `iss` and `kid` as before.
    const x5c = deps.settings.x5c ? await deps.certificates?.x5cFor(office) : undefined;
    return issueSdJwtVc({
      signer: office.identity.signer,
      iss: x5c ? office.issuerId : office.identity.did,
      vct: c.vct,
      // SD-JWT VC §3.2.2.2: integrity of the Type Metadata document the vct names (core/catalog/type-metadata.ts).
      vctIntegrity: c.integrity,
      claims,
      disclosable: disclosableIn(c, claims),
      cnf: { jwk },
      iat: toSeconds(now),
      exp: toSeconds(exp),
      // draft-ietf-oauth-status-list §6.2: the status claim names the list (its uri) and the index in it.
      status: { status_list: { idx: slot.idx, uri: listUri(office, slot.number) } },
      ...(x5c ? { x5c } : {}),
    });
  }
  // jwt_vc_json: bound to the holder's did:jwk as credentialSubject.id (the DID the wallet sent, else
  // the did:jwk of its jwk), with one W3C Bitstring Status List entry (VCDM 1.1 §4.9: one object).
  return deps.vcJwt.issue({ issuer: office.identity, types: [c.w3cType!], holder: holderDid ?? didJwk(jwk), claims, issuedAt: now, expiresAt: exp, credentialStatus: vcJwtStatusEntry(office, slot.number, slot.idx) });
}

/**
 * What to make selectively disclosable (SD-JWT VC §9.6 `sd`, RFC 9901 §4.2.6): the type's
 * disclosable paths (every claim not `sd: never`) that the credential carries. A claim the offer
 * carries that the type no longer defines (the type changed after the offer was sealed) is made
 * disclosable too: privacy is the default, never plaintext by accident.
 */
function disclosableIn(c: CredentialConfiguration, claims: Record<string, unknown>): string[][] {
  const present = (path: string[]) => {
    let v: unknown = claims;
    for (const k of path) {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, k)) return false;
      v = (v as Record<string, unknown>)[k];
    }
    return true;
  };
  const known = new Set(claimPathsOf(c.type).map((p) => p.join('.')));
  const unknown: string[][] = [];
  const walk = (obj: Record<string, unknown>, prefix: string[]) => {
    for (const [k, v] of Object.entries(obj)) {
      const path = [...prefix, k];
      if (!known.has(path.join('.'))) unknown.push(path);
      else if (typeof v === 'object' && v !== null && !Array.isArray(v)) walk(v as Record<string, unknown>, path);
    }
  };
  walk(claims, []);
  return [...disclosablePaths(c.type).filter(present), ...unknown];
}

/**
 * The did:jwk a key proven by a did:jwk kid carries as its `kid` (verifyProofs), only if that DID is
 * this very key: a `jwk` header can carry any `kid`, and a credential binds only to a proven key.
 */
function provenDidJwk(key: JWK): string | undefined {
  if (typeof key.kid !== 'string' || !key.kid.startsWith('did:jwk:')) return undefined;
  const named = didJwkKey(key.kid);
  if (!('jwk' in named) || named.jwk.crv !== key.crv || named.jwk.x !== key.x || named.jwk.y !== key.y) return undefined;
  return named.did;
}
