import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { unknownContexts } from '../../core/formats/jsonld-contexts/index.ts';
import { envelopeCredential, signCredentialJose, type EnvelopedVerifiableCredential } from '../../core/formats/vc-jose-cose/index.ts';
import { VcdmError, validateCredential, type JsonObject, type ValidatedCredential } from '../../core/formats/vcdm/validate-credential.ts';
import { ProblemError, badRequest, forbidden } from '../../core/http/errors.ts';
import { parseOrThrow } from '../../core/http/validate.ts';
import { evaluateAuthorization, type TrustIndex } from '../../core/trust/evaluate.ts';
import { toIso } from '../../core/util/time.ts';
import { CONFORMANCE } from '../../core/demo/leipzig.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import { StatusListUnavailable, withStatusSlots, type ReservedSlot } from '../allocate-status-slots.ts';
import { vcJwtStatusEntry, w3cStatusEntries } from '../status-lists.ts';
import type { CredentialRow, OfferRow } from '../store/schema.ts';
import { checkOpenClaims, checkTypes, conformanceTypes, isConformanceOffice, validityOf, w3cConfigurationFor } from './vc-api-policy.ts';

/**
 * VC-API "Issue Credential" (W3C CCG VC-API, `POST /credentials/issue`) for an office back-end:
 * `{credential, options}` in -> `201 {verifiableCredential}` out.
 *
 * - VCDM 1.1 credentials are issued as VC-JWT (VCDM 1.1 §6.3.1) through Veramo, exactly like the
 *   OID4VCI `jwt_vc_json` path, with W3C Bitstring Status List entries on the office's VC-JWT list.
 * - VCDM 2.0 credentials are secured with VC-JOSE-COSE (`application/vc+jwt`) and returned as an
 *   EnvelopedVerifiableCredential (VCDM 2.0 §4.13.1), with BitstringStatusListEntry values pointing at
 *   the office's VCDM 2.0 status list credentials (same bits, see status-lists.ts `w3cV2ListUri`).
 *
 * The flow: parse, validate the data model, map `type` to a registry credential type, ask the
 * registry whether this office may issue it now, take type and validity period from the office's
 * configuration of that type (vc-api-policy.ts), check the claims against the type's schema,
 * reserve a status slot, sign, record (so the admin status API revokes/suspends it like any other
 * credential), audit — without the claims. Nothing is written before every check has passed.
 */
const zIssueRequest = z.looseObject({
  credential: z.record(z.string(), z.unknown(), 'must be a credential object'),
  // VC-API IssueCredentialOptions: open; nothing in it changes what we sign.
  options: z.record(z.string(), z.unknown(), 'must be an object').optional(),
});

/** Formats of the credential records (issuer_credentials.format): VC-JWT as in OID4VCI, `vc+jwt` for VC-JOSE-COSE. */
export const VC_API_FORMATS = { '1.1': 'jwt_vc_json', '2.0': 'vc+jwt' } as const;

/** VCDM 1.1 members the VC-JWT path carries over (Veramo builds the rest); anything else would be silently dropped. */
const VCDM11_MEMBERS = new Set(['@context', 'id', 'type', 'issuer', 'issuanceDate', 'expirationDate', 'credentialSubject']);

export interface IssuedVcApi {
  verifiableCredential: string | EnvelopedVerifiableCredential;
  credential_id: string;
}

export async function issueVcApi(deps: IssuerDeps, office: Office, body: unknown, actor: string): Promise<IssuedVcApi> {
  const req = parseOrThrow(zIssueRequest, body);
  const vc = validateDataModel(req.credential);
  checkIssuable(vc, office);
  const index = await trustIndex(deps);
  // The conformance office issues its one type whatever the suites call it; other offices map `type` through the registry.
  const vct = isConformanceOffice(office) ? CONFORMANCE.vct : credentialTypeOf(index, vc);
  requireAuthorization(deps, index, office, vct);
  const configuration = w3cConfigurationFor(office, vct);
  const types = configuration.claims ? checkTypes(vc, configuration) : conformanceTypes(vc, index);
  const subject = vc.subjects[0]!;
  const { id: subjectId, ...claims } = subject;
  if (configuration.claims) parseOrThrow(configuration.claims, claims, { code: 'invalid-claims', what: 'credential', fieldPrefix: 'credential.credentialSubject' });
  else checkOpenClaims(claims);
  // VCDM 1.1 §6.3.1 moves credentialSubject.id into `sub`; the VC-JWT library then refuses the empty
  // credentialSubject left behind, so a VCDM 1.1 subject needs a claim besides its id (2.0 does not).
  if (vc.version === '1.1' && Object.keys(claims).length === 0) {
    throw new ProblemError({ status: 400, code: 'vcdm-credential-subject', title: 'Invalid credential', detail: 'credential.credentialSubject: a VCDM 1.1 (VC-JWT) credential needs at least one claim besides id; a subject with only an id can be issued as VCDM 2.0', extra: { field: 'credential.credentialSubject' } });
  }

  const now = deps.clock();
  const { validFrom, validUntil } = validityOf(vc, configuration, claims, now);
  const format = VC_API_FORMATS[vc.version];
  const credentialId = randomUUID();

  let verifiableCredential: IssuedVcApi['verifiableCredential'];
  try {
    // Both versions share the office's W3C bitstring lists (one index space, one bit per purpose).
    verifiableCredential = await withStatusSlots(deps, office, 'bsl', 1, async ([slot]) => {
      const signed = await sign(deps, office, vc, { types, subjectId, claims, validFrom, validUntil, slot: slot! });
      await record(deps, office, configuration.id, { id: credentialId, format, slot: slot!, now, validUntil });
      return signed;
    });
  } catch (e) {
    if (e instanceof StatusListUnavailable) {
      throw new ProblemError({ status: 503, code: 'status-list-unavailable', title: 'Service unavailable', detail: 'Keine Statuslisten-Position verfügbar, nichts wurde ausgestellt; bitte später erneut versuchen. / No status list entry can be assigned now; nothing was issued. Try again later.', headers: { 'Retry-After': '30' } });
    }
    throw e;
  }

  await deps.store.audit({ at: toIso(now), actor, action: 'credential.issue', target: credentialId, details: { office: office.slug, channel: 'vc-api', vcdm: vc.version, vct } });
  deps.logger.info({ office: office.slug, vct, vcdm: vc.version }, 'credential issued (VC-API)');
  return { verifiableCredential, credential_id: credentialId };
}

/** Secures the credential: VCDM 1.1 as VC-JWT (through Veramo), VCDM 2.0 with VC-JOSE-COSE, with the slot's status entries. */
async function sign(
  deps: Pick<IssuerDeps, 'vcJwt'>,
  office: Office,
  vc: ValidatedCredential,
  c: { types: string[]; subjectId: unknown; claims: Record<string, unknown>; validFrom: number; validUntil: number; slot: ReservedSlot },
): Promise<IssuedVcApi['verifiableCredential']> {
  if (vc.version === '1.1') {
    return deps.vcJwt.issue({
      issuer: office.identity,
      types: c.types.filter((t) => t !== 'VerifiableCredential'),
      // VCDM 1.1 §6.3.1: the credential's `id` is carried as the JWT's `jti`.
      ...(typeof vc.credential.id === 'string' ? { id: vc.credential.id } : {}),
      holder: c.subjectId as string,
      claims: c.claims,
      issuedAt: c.validFrom,
      expiresAt: c.validUntil,
      // VCDM 1.1 §4.9: one status object, the revocation entry (issuer/status-lists.ts vcJwtStatusEntry).
      credentialStatus: vcJwtStatusEntry(office, c.slot.number, c.slot.idx),
    });
  }
  const credential: JsonObject = {
    ...vc.credential,
    type: c.types,
    issuer: typeof vc.credential.issuer === 'object' ? { ...(vc.credential.issuer as JsonObject), id: office.identity.did } : office.identity.did,
    validFrom: vc.credential.validFrom ?? toIso(c.validFrom),
    validUntil: vc.credential.validUntil ?? toIso(c.validUntil),
    // Bitstring Status List v1.0 §2.1: one entry per purpose, same index, in the slot's list.
    credentialStatus: w3cStatusEntries(office, c.slot.number, c.slot.idx, '2.0'),
  };
  return envelopeCredential(await signCredentialJose(office.identity.signer, credential));
}

/** Turns a data-model violation into a `400` problem naming the property (VCDM 2.0 §7.2 type alongside). */
export function vcdmProblem(e: VcdmError, prefix: string): ProblemError {
  const field = e.field === '(credential)' ? prefix : `${prefix}.${e.field}`;
  return new ProblemError({ status: 400, code: e.code, title: 'Invalid credential', detail: `${field}: ${e.message}`, extra: { field, vcdm_problem_type: e.problemType } });
}

function validateDataModel(credential: unknown): ValidatedCredential {
  let vc: ValidatedCredential;
  try {
    vc = validateCredential(credential, { issuerOptional: true });
  } catch (e) {
    if (e instanceof VcdmError) throw vcdmProblem(e, 'credential');
    throw e;
  }
  // VCDM 2.0 §4.3: we must understand every context of what we sign (core/formats/jsonld-contexts).
  const unknown = unknownContexts(vc.extraContexts, vc.version);
  if (unknown.length > 0) {
    const i = vc.extraContexts.findIndex((c) => typeof c !== 'string' || unknown.includes(c)) + 1;
    throw new ProblemError({ status: 400, code: 'vcdm-unknown-context', title: 'Invalid credential', detail: `credential.@context.${i}: ${unknown[0]} is not a context this issuer knows; known contexts are bundled, none is fetched`, extra: { field: `credential.@context.${i}`, vcdm_problem_type: 'https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR' } });
  }
  return vc;
}

function checkIssuable(vc: ValidatedCredential, office: Office): void {
  const c = vc.credential;
  const notAllowed = (field: string, detail: string) => new ProblemError({ status: 400, code: 'vcdm-property-not-allowed', title: 'Invalid credential', detail: `credential.${field}: ${detail}`, extra: { field: `credential.${field}` } });
  // VC-API: the input is an unsecured credential; the issuer adds the securing mechanism.
  if ('proof' in c) throw notAllowed('proof', 'an unsecured credential carries no proof');
  if ('credentialStatus' in c) throw notAllowed('credentialStatus', 'the status entry is assigned by the issuer');
  // VC-JOSE-COSE §3.1.3: the JWT claim names vc and vp MUST NOT be present (the credential is the JWT payload).
  if (vc.version === '2.0') for (const k of ['vc', 'vp']) if (k in c) throw notAllowed(k, 'vc and vp must not be members of a credential secured with VC-JOSE-COSE');
  if (vc.version === '1.1') {
    for (const k of Object.keys(c)) if (!VCDM11_MEMBERS.has(k)) throw notAllowed(k, 'not supported for VCDM 1.1 (VC-JWT) issuance; use VCDM 2.0');
    const iss = c.issuer;
    if (typeof iss === 'object' && iss !== null) for (const k of Object.keys(iss)) if (k !== 'id') throw notAllowed(`issuer.${k}`, 'not supported for VCDM 1.1 (VC-JWT) issuance; use VCDM 2.0');
  }
  // VCDM 2.0 §4.7: a credential MUST have an issuer. On this route the route defines it — the office
  // in the path is the issuer — so a request without `issuer` gets the office's DID (sign() fills it
  // in); an `issuer` that is given must be that DID (or an object with it as id), else 400 naming
  // credential.issuer. VC-API issue: 400 when "the provided value of 'issuer' does not match the
  // expected configuration". (The CCG VC-API issuer suite also expects 400 for a missing issuer; we
  // keep filling it in, as existing office back-ends rely on — see the README's conformance notes.)
  if (vc.issuer !== undefined && vc.issuer !== office.identity.did) {
    throw new ProblemError({ status: 400, code: 'issuer-mismatch', title: 'Invalid credential', detail: `credential.issuer: must be this office's DID ${office.identity.did} (or be left out)`, extra: { field: 'credential.issuer' } });
  }
  // Our credential types describe one person each.
  if (vc.subjects.length !== 1) throw new ProblemError({ status: 400, code: 'vcdm-credential-subject', title: 'Invalid credential', detail: 'credential.credentialSubject: exactly one subject is supported', extra: { field: 'credential.credentialSubject' } });
}

async function trustIndex(deps: Pick<IssuerDeps, 'trust'>): Promise<TrustIndex> {
  try {
    return await deps.trust.index();
  } catch {
    throw new ProblemError({ status: 503, code: 'trust-unavailable', title: 'Service unavailable', detail: 'The trust registry cannot be reached; try again later.', headers: { 'Retry-After': '30' } });
  }
}

/** The registry credential type (`vct`) a credential's `type` names, through the registry's `w3c_types`. */
function credentialTypeOf(index: TrustIndex, vc: ValidatedCredential): string {
  const matches = index.state.credential_types.filter((t) => t.w3c_types?.some((w) => vc.types.includes(w)));
  if (matches.length === 0) {
    throw new ProblemError({ status: 400, code: 'unknown-credential-type', title: 'Invalid credential', detail: `credential.type: none of ${vc.types.filter((t) => t !== 'VerifiableCredential').join(', ') || '(no type besides VerifiableCredential)'} is a credential type in the trust registry`, extra: { field: 'credential.type' } });
  }
  if (matches.length > 1) throw badRequest('credential.type: names more than one registered credential type', { field: 'credential.type' });
  return matches[0]!.vct;
}

/** Like the OID4VCI path (issue-credential.ts requireTrust): may this office issue this type now? */
function requireAuthorization(deps: Pick<IssuerDeps, 'clock'>, index: TrustIndex, office: Office, vct: string): void {
  const verdict = evaluateAuthorization(index, { entity_id: office.identity.did, authority_id: index.root, action: 'issue', resource: vct, time: deps.clock() });
  if (!verdict.authorized) throw forbidden('issuance-not-authorized', `The trust registry does not authorize ${office.slug} to issue ${vct} now (${verdict.message}).`);
}

/**
 * Records the credential like an OID4VCI one, so `POST /api/offices/{slug}/credentials/{id}/status`
 * revokes or suspends it. A credential row belongs to an offer row; a VC-API issuance gets one with
 * random, never-disclosed code hashes (it cannot be redeemed) that goes to `issued` together with the
 * credential, in the store's one transaction (completeIssuance). It holds no claims.
 */
async function record(deps: Pick<IssuerDeps, 'store'>, office: Office, configurationId: string, c: { id: string; format: string; slot: ReservedSlot; now: number; validUntil: number }): Promise<void> {
  const unusable = () => createHash('sha256').update(randomBytes(32)).digest('hex');
  const offer: OfferRow = {
    id: randomUUID(),
    office: office.slug,
    configuration_id: configurationId.slice(0, 100),
    claims_sealed: null,
    pre_auth_code_hash: unusable(),
    tx_code_hash: unusable(),
    tx_code_failures: 0,
    approval: 'auto',
    approved_at: null,
    state: 'token_issued',
    created_at: toIso(c.now),
    expires_at: c.now,
  };
  const row: CredentialRow = { id: c.id, offer_id: offer.id, office: office.slug, configuration_id: offer.configuration_id, format: c.format, status_list: c.slot.statusList, status_idx: c.slot.idx, status: 'valid', issued_at: toIso(c.now), expires_at: toIso(c.validUntil) };
  await deps.store.insertOffer(offer);
  if ((await deps.store.completeIssuance(offer.id, [row])) !== 'issued') throw new Error('VC-API credential could not be recorded');
}
