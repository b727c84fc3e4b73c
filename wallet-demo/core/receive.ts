import { Oauth2ClientErrorResponseError } from '@openid4vc/oauth2';
import { Openid4vciRetrieveCredentialsError, type IssuerMetadataResult } from '@openid4vc/openid4vci';
import { resolveAssertionKey } from '../../core/did/resolver.ts';
import { verifySdJwtVc } from '../../core/formats/sd-jwt-vc/index.ts';
import { verifyVcJwt, type VcJwtFailureCode } from '../../core/formats/vc-jwt/verify-vc-jwt.ts';
import { evaluateCredentialIssuer } from '../../core/trust/evaluate.ts';
import { toIso } from '../../core/util/time.ts';
import { certifiedKeyInDid, issuerKeyPlan } from '../../core/x509/issuer-key.ts';
import { vciClient } from './protocol-clients.ts';
import type { HolderKeyRecord, StoredCredential } from './store.ts';
import { newHolderKey, newId, publicJwk, WalletError, type WalletContext } from './wallet.ts';

export interface ReceiveResult {
  credentials: StoredCredential[];
  /** Set when the office must approve first (OID4VCI 1.0 §9): collect later with collectPending(). */
  deferred?: { transactionId: string; configurationId: string };
  warnings: string[];
}

const COPIES = 3;

/**
 * Receives a credential over OID4VCI 1.0 (pre-authorized code): resolve the offer (link or QR
 * content), read the issuer's metadata, redeem the code with the transaction code, ask for several
 * copies with distinct keys (batch), check what arrives (signature by the office's key, certified by
 * the city CA or named in its did:web; our key in `cnf`; the registry's word on the office's DID) and store it encrypted.
 */
export async function receive(ctx: WalletContext, offerUri: string, txCode: string | undefined, progress: (msg: string) => void = () => undefined): Promise<ReceiveResult> {
  if (!/^(openid-credential-offer:\/\/|https?:\/\/)\S+$/.test(offerUri.trim())) throw new WalletError('malformed_offer', 'Das ist kein Credential-Angebot (openid-credential-offer://…). / This is not a credential offer.');
  const keys = () => ctx.store.snapshot.keys;
  const client = vciClient(keys);
  progress('Angebot wird gelesen … / Reading the offer …');
  let offer;
  try {
    offer = await client.resolveCredentialOffer(offerUri.trim());
  } catch {
    throw new WalletError('malformed_offer', 'Das Angebot ist ungültig oder abgelaufen. / The offer is invalid or has expired.');
  }
  const grant = offer.grants?.['urn:ietf:params:oauth:grant-type:pre-authorized_code'];
  if (!grant) throw new WalletError('unsupported_offer', 'Dieses Angebot braucht eine Anmeldung beim Amt: bitte „Online beantragen“ (CLI: self-service) verwenden. / This offer needs a login at the office: please use “Apply online” (CLI: self-service).');
  if (grant.tx_code && !txCode) throw new WalletError('tx_code_required', 'Bitte den Code eingeben, den Sie im Amt erhalten haben (--tx-code). / Please enter the code you received at the office.');
  if (txCode !== undefined && !/^[0-9A-Za-z]{1,16}$/.test(txCode)) throw new WalletError('tx_code_invalid', 'Der Code hat ein ungültiges Format. / The code has an invalid format.');

  let metadata: IssuerMetadataResult;
  try {
    metadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  } catch {
    throw new WalletError('issuer_unreachable', 'Die ausstellende Stelle ist nicht erreichbar. / The issuer cannot be reached.');
  }
  progress('Code wird eingelöst … / Redeeming the code …');
  let accessToken: string;
  try {
    const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer: offer, issuerMetadata: metadata, ...(txCode ? { txCode } : {}) });
    accessToken = accessTokenResponse.access_token;
  } catch (e) {
    if (e instanceof Oauth2ClientErrorResponseError && e.errorResponse.error === 'invalid_grant') throw grantRefused(e.errorResponse as Record<string, unknown>);
    throw new WalletError('token_failed', 'Das Amt hat den Code nicht angenommen. / The office did not accept the code.');
  }

  const result: ReceiveResult = { credentials: [], warnings: [] };
  for (const configurationId of offer.credential_configuration_ids) {
    const conf = metadata.credentialIssuer.credential_configurations_supported[configurationId] as { format?: string } | undefined;
    if (conf?.format !== 'dc+sd-jwt' && conf?.format !== 'jwt_vc_json') throw new WalletError('unsupported_format', `Format ${conf?.format} wird nicht unterstützt. / Format not supported.`);
    const copies = Math.max(1, Math.min(COPIES, metadata.credentialIssuer.batch_credential_issuance?.batch_size ?? 1));
    const holderKeys: HolderKeyRecord[] = [];
    for (let i = 0; i < copies; i++) holderKeys.push(await newHolderKey(ctx));
    progress(`Nachweis wird abgeholt (${copies} Kopien) … / Collecting the credential (${copies} copies) …`);
    const { c_nonce } = await client.requestNonce({ issuerMetadata: metadata });
    const proofs = [];
    for (const k of holderKeys) proofs.push((await client.createCredentialRequestJwtProof({ issuerMetadata: metadata, credentialConfigurationId: configurationId, signer: { method: 'jwk', alg: 'ES256', publicJwk: publicJwk(k) as never }, nonce: c_nonce })).jwt);
    let response;
    try {
      response = await client.retrieveCredentials({ issuerMetadata: metadata, accessToken, credentialConfigurationId: configurationId, proofs: { jwt: proofs } });
    } catch (e) {
      const err = e instanceof Openid4vciRetrieveCredentialsError ? (e.response.credentialErrorResponseResult?.data as { error?: string } | undefined)?.error : undefined;
      throw new WalletError(err ?? 'credential_failed', `Das Amt hat den Nachweis nicht ausgestellt (${err ?? 'Fehler'}). / The office did not issue the credential.`);
    }
    if (response.credentialResponse.transaction_id) {
      const transactionId = response.credentialResponse.transaction_id;
      ctx.store.update((d) => {
        (d.pending ??= []).push({ id: newId(), credentialIssuer: offer.credential_issuer, configurationId, format: conf.format as 'dc+sd-jwt', accessToken, transactionId, keyIds: holderKeys.map((k) => k.id), createdAt: toIso(ctx.clock()) });
      });
      result.deferred = { transactionId: response.credentialResponse.transaction_id, configurationId };
      continue;
    }
    const issued = (response.credentialResponse.credentials ?? []) as { credential: string }[];
    const group = newId();
    const display = displayOf(conf);
    // Every copy is verified before any is stored: one copy that fails means none is kept.
    const checked: StoredCredential[] = [];
    for (const [i, c] of issued.entries()) checked.push(await checkCredential(ctx, conf.format, c.credential, holderKeys[i]?.id ?? holderKeys[0]!.id, group, result.warnings, display));
    storeAll(ctx, checked);
    result.credentials.push(...checked);
  }
  return result;
}

type Display = NonNullable<StoredCredential['display']>;

/** Display names in German and English from the issuer's metadata for this configuration. */
export function displayOf(conf: unknown): Display {
  const md = (conf as { credential_metadata?: { display?: { name: string; locale?: string }[]; claims?: { path: (string | null | number)[]; display?: { name: string; locale?: string }[] }[] } }).credential_metadata;
  const pick = (list: { name: string; locale?: string }[] | undefined) => ({
    ...(list?.find((d) => d.locale?.startsWith('de')) ? { de: list.find((d) => d.locale?.startsWith('de'))!.name } : {}),
    ...(list?.find((d) => d.locale?.startsWith('en')) ? { en: list.find((d) => d.locale?.startsWith('en'))!.name } : {}),
  });
  const claims: Record<string, { de?: string; en?: string }> = {};
  for (const c of md?.claims ?? []) claims[c.path.filter((p) => p !== 'credentialSubject').join('.')] = pick(c.display);
  return { name: pick(md?.display), claims };
}

/** Verifies a received credential (see checkCredential) and stores it. */
export async function checkAndStore(ctx: WalletContext, format: 'dc+sd-jwt' | 'jwt_vc_json', raw: string, keyId: string, group: string, warnings: string[], display?: Display): Promise<StoredCredential> {
  const stored = await checkCredential(ctx, format, raw, keyId, group, warnings, display);
  storeAll(ctx, [stored]);
  return stored;
}

function storeAll(ctx: WalletContext, list: StoredCredential[]): void {
  if (list.length > 0) ctx.store.update((d) => d.credentials.push(...list));
}

/** Why a VC-JWT is refused on receipt, for the citizen (German / English). */
const VC_JWT_REFUSAL: Record<VcJwtFailureCode, string> = {
  malformed: 'Der erhaltene Nachweis ist beschädigt. / The credential received is malformed.',
  wrong_typ: 'Der erhaltene Nachweis hat nicht das erwartete Format (VC-JWT). / The credential received is not in the expected format (VC-JWT).',
  claim_mismatch: 'Die Angaben im erhaltenen Nachweis widersprechen sich (Aussteller, Inhaber oder Kennung). / The credential received contradicts itself (issuer, holder or id).',
  untrusted: 'Die ausstellende Stelle ist dafür nicht registriert. / The issuer is not registered for this credential.',
  unsupported_alg: 'Der erhaltene Nachweis ist nicht oder mit einem unzulässigen Verfahren signiert. / The credential received is unsigned or signed with an algorithm that is not allowed.',
  issuer_key_unresolved: 'Der Schlüssel der ausstellenden Stelle ist nicht zu finden. / The issuer’s key cannot be found.',
  invalid_signature: 'Die Signatur des erhaltenen Nachweises ist ungültig: er stammt nicht von der angegebenen Stelle. / The signature of the credential received is invalid: it was not issued by the office it names.',
  expired: 'Der erhaltene Nachweis ist bereits abgelaufen. / The credential received has already expired.',
  not_yet_valid: 'Der erhaltene Nachweis ist noch nicht gültig. / The credential received is not yet valid.',
};
const NOT_STORED = ' Nichts wurde gespeichert. / Nothing was stored.';

/** The public key inside a did:jwk (did:jwk spec §2), or undefined. */
function jwkOfDidJwk(did: string | undefined): { x?: unknown; y?: unknown } | undefined {
  if (!did?.startsWith('did:jwk:')) return undefined;
  try {
    return JSON.parse(Buffer.from(did.slice('did:jwk:'.length), 'base64url').toString('utf8')) as { x?: unknown; y?: unknown };
  } catch {
    return undefined;
  }
}

/**
 * Verifies a received credential like a verifier does, without storing it: the issuer's signature
 * with the key from its DID (ES256 only), the format's `typ`, the validity window, our key as the
 * holder binding, then the registry's word on the issuer (a warning when it says no).
 * A VC-JWT goes through the same verification as at the verifier (core/formats/vc-jwt/verify-vc-jwt.ts).
 */
export async function checkCredential(ctx: WalletContext, format: 'dc+sd-jwt' | 'jwt_vc_json', raw: string, keyId: string, group: string, warnings: string[], display?: Display): Promise<StoredCredential> {
  const now = ctx.clock();
  const key = ctx.store.snapshot.keys.find((k) => k.id === keyId)!;
  let type: string;
  let issuer: string;
  let claims: Record<string, unknown>;
  let w3cTypes: string[] | undefined;
  let exp: number | undefined;
  let iat = 0;
  if (format === 'dc+sd-jwt') {
    // SD-JWT VC §2.5: with `x5c` the key is the certificate's (its chain checked against the city CAs
    // this wallet trusts, as for x509_hash requests) and the issuer is the one DID the certificate names
    // beside the https `iss`; that DID's document must list the key and the registry is asked about it
    // (core/x509/issuer-key.ts, the verifier's rules). Without `x5c` the did:web `iss` and its `kid`.
    let entity: string | undefined;
    let certificateRefusal: string | undefined;
    const v = await verifySdJwtVc({
      sdJwt: raw,
      now,
      requireKeyBinding: false,
      issuerKey: async (h, p) => {
        const plan = issuerKeyPlan(h, String(p.iss), ctx.trustedCas?.() ?? [], now);
        if (!plan.ok) {
          certificateRefusal = plan.code;
          throw new Error(plan.code);
        }
        entity = plan.did;
        if (plan.via === 'did') return resolveAssertionKey(ctx.resolver, String(h.kid), plan.did, now);
        if (!(await certifiedKeyInDid(ctx.resolver, plan.did, h.kid, plan.publicJwk, now))) {
          certificateRefusal = 'certificate_key_not_in_did';
          throw new Error(certificateRefusal);
        }
        return plan.publicKey;
      },
    });
    if (!v.ok && certificateRefusal) throw new WalletError('invalid_credential', `Das Zertifikat der ausstellenden Stelle ist nicht von einer vertrauenswürdigen Stadt-CA oder passt nicht zur Stelle (${certificateRefusal}). / The issuer’s certificate is not from a trusted city CA or does not match the issuer.${NOT_STORED}`);
    if (!v.ok || !entity) throw new WalletError('invalid_credential', `Der erhaltene Nachweis ist ungültig (${v.ok ? 'issuer_key_unresolved' : v.code}). / The credential received is invalid.${NOT_STORED}`);
    if (v.cnfJwk?.x !== key.jwk.x || v.cnfJwk?.y !== key.jwk.y) throw new WalletError('invalid_credential', `Der Nachweis ist nicht an diese Wallet gebunden. / The credential is not bound to this wallet.${NOT_STORED}`);
    type = v.vct;
    // The DID: shown with the registry's name for it, and what the registry is asked about below.
    issuer = entity;
    claims = v.claims;
    exp = v.exp;
    iat = v.iat ?? 0;
    for (const k of ['iss', 'vct', 'vct#integrity', 'cnf', 'iat', 'exp', 'nbf', 'status', '_sd_alg']) delete claims[k];
  } else {
    // The wallet asked this office itself (the offer the citizen scanned), so its DID is resolved;
    // the registry's word is taken below as for SD-JWT VCs.
    const v = await verifyVcJwt({ jwt: raw, now, authorize: () => ({ ok: true, value: undefined }), issuerKey: (kid, iss) => resolveAssertionKey(ctx.resolver, kid, iss, now) });
    if (!v.ok) throw new WalletError('invalid_credential', VC_JWT_REFUSAL[v.code] + NOT_STORED);
    // Holder binding: the issuer put our proof key's did:jwk into sub (VCDM 1.1 §6.3.1 credentialSubject.id).
    const bound = jwkOfDidJwk(v.subject);
    if (bound?.x !== key.jwk.x || bound?.y !== key.jwk.y) throw new WalletError('invalid_credential', `Der Nachweis ist nicht an diese Wallet gebunden. / The credential is not bound to this wallet.${NOT_STORED}`);
    issuer = v.iss;
    w3cTypes = v.types;
    claims = v.claims;
    exp = v.expiresAt;
    iat = v.issuedAt ?? 0;
    type = w3cTypes.find((t) => t !== 'VerifiableCredential') ?? 'VerifiableCredential';
  }
  let issuerName: { de: string; en: string } | undefined;
  try {
    const index = await ctx.trust.index();
    const vct = format === 'dc+sd-jwt' ? type : index.state.credential_types.find((t) => t.w3c_types?.some((w) => w3cTypes?.includes(w)))?.vct;
    if (vct) type = vct;
    const verdict = evaluateCredentialIssuer(index, { issuer, vct: type, issuedAt: iat * 1000, now });
    if (verdict.trusted) issuerName = verdict.issuer_name;
    else warnings.push(`Die ausstellende Stelle ist dafür nicht registriert (${verdict.code}). / The issuer is not registered for this credential.`);
  } catch {
    warnings.push('Das Vertrauensregister war nicht erreichbar. / The trust registry could not be reached.');
  }
  const stored: StoredCredential = {
    id: newId(),
    format,
    raw,
    keyId,
    type,
    ...(w3cTypes ? { w3cTypes } : {}),
    issuer,
    ...(issuerName ? { issuerName } : {}),
    claims,
    receivedAt: toIso(now),
    ...(exp ? { expiresAt: toIso(exp * 1000) } : {}),
    group,
    ...(display ? { display } : {}),
  };
  return stored;
}


/**
 * Deferred pick-up (OID4VCI 1.0 §9): asks each office whose approval was pending; stores what has
 * been approved since. Returns how many credentials arrived and how many are still waiting.
 */
export async function collectPending(ctx: WalletContext): Promise<{ received: StoredCredential[]; waiting: number; warnings: string[] }> {
  const client = vciClient(() => ctx.store.snapshot.keys);
  const received: StoredCredential[] = [];
  const warnings: string[] = [];
  let waiting = 0;
  for (const p of ctx.store.snapshot.pending ?? []) {
    try {
      const metadata = await client.resolveIssuerMetadata(p.credentialIssuer);
      const r = await client.retrieveDeferredCredentials({ issuerMetadata: metadata, accessToken: p.accessToken, transactionId: p.transactionId });
      const creds = r.deferredCredentialResponse.credentials as { credential: string }[] | undefined;
      if (!creds) {
        waiting++;
        continue;
      }
      const group = newId();
      const display = displayOf(metadata.credentialIssuer.credential_configurations_supported[p.configurationId]);
      const checked: StoredCredential[] = [];
      for (const [i, c] of creds.entries()) checked.push(await checkCredential(ctx, p.format, c.credential, p.keyIds[i] ?? p.keyIds[0]!, group, warnings, display));
      storeAll(ctx, checked);
      received.push(...checked);
      ctx.store.update((d) => (d.pending = (d.pending ?? []).filter((x) => x.id !== p.id)));
    } catch {
      waiting++;
      warnings.push('Ein ausstehender Nachweis konnte nicht abgeholt werden. / A pending credential could not be collected.');
    }
  }
  return { received, waiting, warnings };
}

/**
 * Our own German and English words for a refused code, never the office's text. Our issuer says
 * why in `id_ideal_reason` (docs/contract.md); any other issuer gets the general message.
 */
function grantRefused(answer: Record<string, unknown>): WalletError {
  const left = typeof answer.attempts_remaining === 'number' && Number.isInteger(answer.attempts_remaining) ? answer.attempts_remaining : undefined;
  switch (answer.id_ideal_reason) {
    case 'tx_code_wrong':
      return new WalletError('invalid_grant', left === undefined ? 'Der Code ist falsch. Bitte prüfen Sie die Ziffern. / The code is wrong. Please check the digits.' : left === 1 ? 'Der Code ist falsch. Noch ein Versuch, dann wird das Angebot gesperrt. / The code is wrong. One more try, then the offer is locked.' : `Der Code ist falsch. Noch ${left} Versuche. / The code is wrong. ${left} tries left.`);
    case 'offer_locked':
      return new WalletError('invalid_grant', 'Das Angebot ist nach zu vielen falschen Codes gesperrt, auch für den richtigen Code. Bitte lassen Sie es im Amt neu ausstellen. / The offer is locked after too many wrong codes, also for the right one. Please ask the office for a new one.');
    case 'code_used':
      return new WalletError('invalid_grant', 'Dieses Angebot wurde schon eingelöst. / This offer has already been used.');
    case 'offer_expired':
      return new WalletError('invalid_grant', 'Dieses Angebot ist abgelaufen. Bitte lassen Sie es im Amt neu ausstellen. / This offer has expired. Please ask the office for a new one.');
    case 'code_unknown':
      return new WalletError('invalid_grant', 'Dieses Angebot kennt das Amt nicht (mehr). / The office does not know this offer (any more).');
    default:
      return new WalletError('invalid_grant', 'Das Amt hat den Code nicht angenommen: falsch, gesperrt, abgelaufen oder schon eingelöst. / The office did not accept the code: wrong, locked, expired or already used.');
  }
}
