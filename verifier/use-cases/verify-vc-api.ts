import type { Resolver } from 'did-resolver';
import { z } from 'zod';
import { resolveHolderKey } from '../../core/did/holder-resolver.ts';
import { KeyResolutionError, resolveAssertionKey } from '../../core/did/resolver.ts';
import { verifyVcJwt, type VcJwtFailure } from '../../core/formats/vc-jwt/verify-vc-jwt.ts';
import { CREDENTIALS_V2, unknownContexts } from '../../core/formats/jsonld-contexts/index.ts';
import { EnvelopeError, parseEnvelope, VC_JWT_TYP, VP_JWT_TYP, VcJoseError, verifyJoseSecured } from '../../core/formats/vc-jose-cose/index.ts';
import { VCDM_PROBLEM, VcdmError, validateCredential, type JsonObject, type ValidatedCredential } from '../../core/formats/vcdm/validate-credential.ts';
import { PROBLEM_BASE, ProblemError } from '../../core/http/errors.ts';
import { parseOrThrow } from '../../core/http/validate.ts';
import type { BitstringStatusClient } from '../../core/status-list/bitstring-status-client.ts';
import { evaluateCredentialIssuer, type TrustIndex } from '../../core/trust/evaluate.ts';
import { toIso } from '../../core/util/time.ts';
import { w3cIssuerTrust } from '../issuer-trust.ts';
import { checkVcJwtPresentation } from '../verify-vc-jwt-presentation.ts';

/**
 * VC-API verification (W3C CCG VC-API `POST /credentials/verify`, `POST /presentations/verify`):
 * `200 {verified, checks, warnings, errors}` whenever the verification process ran, whatever its
 * outcome; `400` only for input that could not be verified at all (VC-API verifier.yml).
 *
 * Checks (the names in `checks`):
 * - `proof`: the securing mechanism — VC-JOSE-COSE (`vc+jwt`, VCDM 2.0) or VC-JWT (VCDM 1.1 §6.3) —
 *   with the issuer's key from its DID (`kid`), resolved only after the trust registry named that
 *   issuer for the credential's type (verifier/issuer-trust.ts: no DID the sender chose is fetched
 *   otherwise); then the document must be a conforming VCDM document. A presentation's holder is
 *   resolved offline only (did:jwk, did:key; core/did/holder-resolver.ts).
 * - `validity`: VCDM 2.0 §4.9 validFrom/validUntil (VCDM 1.1: nbf/exp of the VC-JWT).
 * - `status`: W3C Bitstring Status List entries (revocation, suspension), fetched only once a
 *   trusted issuer's signature verified.
 * - `trust`: the registry's word on the issuer for this credential type at issuance and now
 *   (core/trust/evaluate.ts, the function the OID4VP path uses).
 *
 * Errors and warnings are RFC 9457 / VCDM 2.0 §7.2 ProblemDetails with a stable `type` (the VCDM
 * types where one fits), a `code`, and the `check` they belong to. No claims are returned or logged.
 */
export interface VerifyDeps {
  /** Issuers' DIDs; consulted only for issuers the registry names for the credential's type. */
  resolver: Resolver;
  /** Holders' DIDs: did:jwk and did:key, resolved offline (core/did/holder-resolver.ts). */
  holders: Resolver;
  trust: { index(): Promise<TrustIndex> };
  /** VCDM 1.1 VC-JWT lists (core/status-list). */
  bitstring: BitstringStatusClient;
  /** VCDM 2.0 lists secured with VC-JOSE-COSE. */
  bitstringV2: BitstringStatusClient;
  clock: () => number;
}

export type CheckName = 'proof' | 'validity' | 'status' | 'trust' | 'challenge';

export interface ProblemDetail {
  type: string;
  code: string;
  title: string;
  detail: string;
  check?: CheckName;
}

export interface CredentialResult {
  verified: boolean;
  checks: CheckName[];
  warnings: ProblemDetail[];
  errors: ProblemDetail[];
  /** What was verified, without claims. */
  credential?: { vcdm: '1.1' | '2.0'; issuer: string; issuer_name: { de: string; en: string } | null; type: string[]; vct?: string; validFrom?: string; validUntil?: string };
}

export interface PresentationResult extends CredentialResult {
  presentationResult: { verified: boolean; holder?: string };
  credentialResults: CredentialResult[];
}

const SKEW_MS = 60_000;

const TITLES: Record<string, string> = {
  CRYPTOGRAPHIC_SECURITY_ERROR: 'Cryptographic security error',
  MALFORMED_VALUE_ERROR: 'Malformed value',
  RANGE_ERROR: 'Value out of range',
};

function problem(code: string, detail: string, check?: CheckName, vcdm?: keyof typeof VCDM_PROBLEM): ProblemDetail {
  return { type: vcdm ? VCDM_PROBLEM[vcdm] : PROBLEM_BASE + code.replace(/_/g, '-'), code, title: vcdm ? TITLES[vcdm] ?? code : code.replace(/_/g, ' '), detail, ...(check ? { check } : {}) };
}

const zOptions = z.looseObject({ challenge: z.string().min(1).max(512).optional(), domain: z.union([z.string().min(1).max(2048), z.array(z.string().min(1).max(2048)).min(1).max(10)]).optional() });
const zVerifyCredential = z.looseObject({ verifiableCredential: z.union([z.string().max(200_000), z.record(z.string(), z.unknown())], 'verifiableCredential is required: a compact JWT or an EnvelopedVerifiableCredential'), options: zOptions.optional() });
const zVerifyPresentation = z.looseObject({ verifiablePresentation: z.union([z.string().max(400_000), z.record(z.string(), z.unknown())], 'verifiablePresentation is required: a compact JWT or an EnvelopedVerifiablePresentation'), options: zOptions.optional() });

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** 400 for input that cannot be verified at all (VC-API: "Invalid or malformed input"). */
function inputProblem(field: string, detail: string, code = 'invalid-verifiable-credential'): ProblemError {
  return new ProblemError({ status: 400, code, title: 'Invalid request', detail: `${field}: ${detail}`, extra: { field } });
}

/** Which securing mechanism the input uses; anything else is a 400. */
function securedForm(value: string | Record<string, unknown>, field: string, kind: 'credential' | 'presentation'): { mech: 'jose'; jws: string } | { mech: 'jwt11'; jws: string } {
  if (typeof value === 'object') {
    if ('proof' in value) throw inputProblem(field, 'embedded proofs (Data Integrity) are not supported; send a VC-JOSE-COSE envelope or a VC-JWT', 'unsupported-securing-mechanism');
    const types = Array.isArray(value.type) ? value.type : [value.type];
    const envelope = kind === 'credential' ? 'EnvelopedVerifiableCredential' : 'EnvelopedVerifiablePresentation';
    if (!types.includes(envelope)) throw inputProblem(field, `an unsecured ${kind} cannot be verified; send an ${envelope} or a compact JWT`, 'unsecured-input');
    try {
      return { mech: 'jose', jws: parseEnvelope(value, kind).jws };
    } catch (e) {
      if (e instanceof EnvelopeError) throw inputProblem(`${field}.${e.field}`, e.message, e.unsupported ? 'unsupported-securing-mechanism' : 'invalid-envelope');
      throw e;
    }
  }
  if (!COMPACT.test(value)) throw inputProblem(field, 'not a compact JWS');
  let typ: unknown;
  try {
    typ = JSON.parse(Buffer.from(value.split('.')[0]!, 'base64url').toString('utf8')).typ;
  } catch {
    throw inputProblem(field, 'the JWS header is not JSON');
  }
  return typ === (kind === 'credential' ? VC_JWT_TYP : VP_JWT_TYP) ? { mech: 'jose', jws: value } : { mech: 'jwt11', jws: value };
}

export async function verifyCredentialRequest(deps: VerifyDeps, body: unknown): Promise<CredentialResult> {
  const req = parseOrThrow(zVerifyCredential, body);
  const form = securedForm(req.verifiableCredential, 'verifiableCredential', 'credential');
  return form.mech === 'jose' ? verifyJoseCredential(deps, form.jws) : verifyVcJwt11(deps, form.jws);
}

/**
 * What one credential check collects (checks run, warnings, errors) and the trust index it is judged
 * against; a registry that cannot be reached is the first error and leaves `index` unset.
 */
async function beginCheck(deps: VerifyDeps) {
  const checks: CheckName[] = ['proof'];
  const warnings: ProblemDetail[] = [];
  const errors: ProblemDetail[] = [];
  const done = (extra: Partial<CredentialResult> = {}): CredentialResult => ({ verified: errors.length === 0, checks, warnings, errors, ...extra });
  let index: TrustIndex | undefined;
  try {
    index = await deps.trust.index();
  } catch {
    errors.push(problem('trust_unavailable', 'the trust registry cannot be reached', 'trust'));
  }
  return { checks, warnings, errors, done, index };
}

/** VCDM 2.0 secured with VC-JOSE-COSE. */
export async function verifyJoseCredential(deps: VerifyDeps, jws: string): Promise<CredentialResult> {
  const now = deps.clock();
  const { checks, warnings, errors, done, index } = await beginCheck(deps);
  if (!index) return done();
  let untrusted: { code: string; message: string } | undefined;
  let verified;
  try {
    verified = await verifyJoseSecured(jws, {
      kind: 'credential',
      now,
      resolveKey: async (kid, issuer) => {
        // The registry first, on the claimed issuer and type: a DID it does not name as an issuer of
        // this type is never resolved (no fetch to a did:web the sender chose).
        const claimed = claimedDocument(jws);
        const gate = w3cIssuerTrust(index, { issuer, types: claimed.types, issuedAt: claimed.validFrom ?? now, now });
        if (!gate.ok) {
          untrusted = gate;
          throw new KeyResolutionError('issuer not authorized for this type');
        }
        return resolveAssertionKey(deps.resolver, kid, issuer, now);
      },
    });
  } catch (e) {
    if (untrusted) {
      checks.push('trust');
      errors.push(problem(untrusted.code, untrusted.message, 'trust'));
    } else errors.push(joseProblem(e));
    return done();
  }
  // VCDM 2.0 §7.1: a verified document that is not a conforming document is a MALFORMED_VALUE_ERROR.
  let vc: ValidatedCredential;
  try {
    vc = validateCredential(verified.document, { version: '2.0' });
  } catch (e) {
    if (!(e instanceof VcdmError)) throw e;
    errors.push(problem(e.code, `${e.field}: ${e.message}`, 'proof', 'MALFORMED_VALUE_ERROR'));
    return done();
  }
  contextWarnings(vc, warnings);
  const summary = { vcdm: '2.0' as const, issuer: vc.issuer!, type: vc.types, ...(vc.validFrom !== undefined ? { validFrom: toIso(vc.validFrom) } : {}), ...(vc.validUntil !== undefined ? { validUntil: toIso(vc.validUntil) } : {}) };

  // VCDM 2.0 §4.9: the credential is valid from validFrom until validUntil.
  checks.push('validity');
  if (vc.validFrom !== undefined && vc.validFrom > now + SKEW_MS) errors.push(problem('not_yet_valid', `the credential is valid from ${toIso(vc.validFrom)}`, 'validity', 'RANGE_ERROR'));
  if (vc.validUntil !== undefined && vc.validUntil < now - SKEW_MS) errors.push(problem('expired', `the credential was valid until ${toIso(vc.validUntil)}`, 'validity', 'RANGE_ERROR'));

  checks.push('status');
  await checkStatus(deps.bitstringV2, vc.credential.credentialStatus, vc.issuer!, errors, warnings);

  checks.push('trust');
  const trust = checkTrust(index, vc.types, vc.issuer!, vc.validFrom ?? now, now, errors, warnings);
  return done({ credential: { ...summary, issuer_name: trust.issuer_name, ...(trust.vct ? { vct: trust.vct } : {}) } });
}

/** VCDM 1.1 VC-JWT (VCDM 1.1 §6.3.1), as the OID4VCI `jwt_vc_json` credentials and VC-API 1.1 issuance produce. */
export async function verifyVcJwt11(deps: VerifyDeps, jwt: string): Promise<CredentialResult> {
  const now = deps.clock();
  const { checks, warnings, errors, done, index } = await beginCheck(deps);
  if (!index) return done();
  // The one VC-JWT verification (core/formats/vc-jwt/verify-vc-jwt.ts), as on the OID4VP path:
  // header and claims, then the registry on the claimed issuer and type, only then the issuer's DID.
  const v = await verifyVcJwt({
    jwt,
    now,
    skewSeconds: SKEW_MS / 1000,
    authorize: (c) => w3cIssuerTrust(index, { issuer: c.iss, types: c.types, issuedAt: (c.issuedAt ?? 0) * 1000, now }),
    issuerKey: (kid, iss) => resolveAssertionKey(deps.resolver, kid, iss, now),
  });
  if (!v.ok) {
    if (v.code === 'untrusted') checks.push('trust');
    else if (v.code === 'expired' || v.code === 'not_yet_valid' || v.code === 'invalid_signature' || v.code === 'issuer_key_unresolved') checks.push('validity');
    errors.push(vcJwtProblem(v));
    return done();
  }
  checks.push('validity');
  // VCDM 1.1 §6.3.1 decoding: the credential is `vc` with iss, nbf, exp, jti and sub put back.
  const decoded = decodeVcJwt11(v.vc as JsonObject, v.payload as JsonObject);
  let vc: ValidatedCredential;
  try {
    vc = validateCredential(decoded, { version: '1.1' });
  } catch (e) {
    if (!(e instanceof VcdmError)) throw e;
    errors.push(problem(e.code, `vc.${e.field}: ${e.message}`, 'proof', 'MALFORMED_VALUE_ERROR'));
    return done();
  }
  contextWarnings(vc, warnings);
  // Status lists only now: the credential is signed by an issuer the registry names for this type.
  checks.push('status');
  await checkStatus(deps.bitstring, vc.credential.credentialStatus, v.iss, errors, warnings);
  checks.push('trust');
  const trust = v.authorization;
  for (const w of trust.warnings) warnings.push(problem('trust_warning', w, 'trust'));
  return done({
    credential: { vcdm: '1.1', issuer: v.iss, issuer_name: trust.issuer_name ?? index.entities.get(v.iss)?.name ?? null, type: vc.types, vct: trust.vct, ...(vc.validFrom !== undefined ? { validFrom: toIso(vc.validFrom) } : {}), ...(vc.validUntil !== undefined ? { validUntil: toIso(vc.validUntil) } : {}) },
  });
}

function vcJwtProblem(f: VcJwtFailure): ProblemDetail {
  switch (f.code) {
    case 'untrusted':
      return problem(f.trustCode ?? 'untrusted_issuer', f.message, 'trust');
    case 'expired':
    case 'not_yet_valid':
      return problem(f.code, f.message, 'validity', 'RANGE_ERROR');
    case 'malformed':
      return problem('malformed_credential', f.message, 'proof', 'MALFORMED_VALUE_ERROR');
    case 'claim_mismatch':
      return problem('claim_mismatch', f.message, 'proof', 'MALFORMED_VALUE_ERROR');
    case 'wrong_typ':
      return problem('bad_typ', f.message, 'proof', 'CRYPTOGRAPHIC_SECURITY_ERROR');
    case 'unsupported_alg':
      return problem('bad_algorithm', f.message, 'proof', 'CRYPTOGRAPHIC_SECURITY_ERROR');
    case 'issuer_key_unresolved':
      return problem('key_unresolved', f.message, 'proof', 'CRYPTOGRAPHIC_SECURITY_ERROR');
    case 'invalid_signature':
      return problem('invalid_signature', f.message, 'proof', 'CRYPTOGRAPHIC_SECURITY_ERROR');
  }
}

function decodeVcJwt11(vc: JsonObject, p: JsonObject): JsonObject {
  const out: JsonObject = { ...vc };
  if (out.issuer === undefined) out.issuer = p.iss;
  if (out.issuanceDate === undefined && typeof p.nbf === 'number') out.issuanceDate = toIso(p.nbf * 1000);
  if (out.expirationDate === undefined && typeof p.exp === 'number') out.expirationDate = toIso(p.exp * 1000);
  if (out.id === undefined && typeof p.jti === 'string') out.id = p.jti;
  const cs = out.credentialSubject;
  if (typeof p.sub === 'string' && typeof cs === 'object' && cs !== null && !Array.isArray(cs) && (cs as JsonObject).id === undefined) out.credentialSubject = { ...(cs as JsonObject), id: p.sub };
  return out;
}

function joseProblem(e: unknown): ProblemDetail {
  if (e instanceof VcJoseError) {
    if (e.reason === 'expired' || e.reason === 'not_yet_valid') return problem(e.reason, e.message, 'validity', 'RANGE_ERROR');
    if (e.reason === 'malformed' || e.reason === 'forbidden_claim') return problem(e.reason === 'malformed' ? 'malformed_jws' : 'forbidden_claim', e.message, 'proof', 'MALFORMED_VALUE_ERROR');
    const code = { bad_alg: 'bad_algorithm', bad_typ: 'bad_typ', bad_signature: 'invalid_signature', key_unresolved: 'key_unresolved', issuer_mismatch: 'issuer_mismatch' }[e.reason] ?? 'invalid_signature';
    return problem(code, e.message, 'proof', 'CRYPTOGRAPHIC_SECURITY_ERROR');
  }
  return problem('invalid_signature', 'the credential could not be verified', 'proof', 'CRYPTOGRAPHIC_SECURITY_ERROR');
}

function contextWarnings(vc: ValidatedCredential, warnings: ProblemDetail[]): void {
  // core/formats/jsonld-contexts: unknown contexts are a warning when verifying (no JSON-LD processing is done).
  for (const c of unknownContexts(vc.extraContexts, vc.version)) warnings.push(problem('unknown_context', `@context ${c} is not a bundled context; terms it defines were not interpreted`));
}

interface StatusChecker {
  check(entry: { statusPurpose: string; statusListIndex: string; statusListCredential: string }, issuer: string): Promise<{ ok: true; status: number } | { ok: false; code: string; message: string }>;
}

/** Bitstring Status List v1.0 §3.2 for each entry; status types we do not understand are ignored with a warning (VC-JOSE-COSE Validation). */
async function checkStatus(client: StatusChecker, status: unknown, issuer: string, errors: ProblemDetail[], warnings: ProblemDetail[]): Promise<void> {
  for (const entry of Array.isArray(status) ? status : status === undefined ? [] : [status]) {
    const e = entry as { type?: unknown; statusPurpose?: unknown; statusListIndex?: unknown; statusListCredential?: unknown };
    if (e.type !== 'BitstringStatusListEntry') {
      warnings.push(problem('unsupported_status_type', `credentialStatus of type ${String(e.type)} is not understood and was ignored`, 'status'));
      continue;
    }
    if (typeof e.statusPurpose !== 'string' || typeof e.statusListIndex !== 'string' || typeof e.statusListCredential !== 'string') {
      errors.push(problem('status_invalid', 'a BitstringStatusListEntry lacks statusPurpose, statusListIndex or statusListCredential', 'status', 'MALFORMED_VALUE_ERROR'));
      continue;
    }
    const s = await client.check({ statusPurpose: e.statusPurpose, statusListIndex: e.statusListIndex, statusListCredential: e.statusListCredential }, issuer);
    if (!s.ok) errors.push(problem(s.code, s.message, 'status'));
    else if (s.status === 1 && e.statusPurpose === 'revocation') errors.push(problem('credential_revoked', 'the credential has been revoked', 'status'));
    else if (s.status === 1 && e.statusPurpose === 'suspension') errors.push(problem('credential_suspended', 'the credential is suspended', 'status'));
    else if (s.status === 1) warnings.push(problem('status_set', `the ${e.statusPurpose} status is set`, 'status'));
  }
}

function checkTrust(index: TrustIndex, types: string[], issuer: string, issuedAt: number, now: number, errors: ProblemDetail[], warnings: ProblemDetail[]): { vct?: string; issuer_name: { de: string; en: string } | null } {
  const name = index.entities.get(issuer)?.name ?? null;
  const ct = index.state.credential_types.find((t) => t.w3c_types?.some((w) => types.includes(w)));
  if (!ct) {
    errors.push(problem('untrusted_issuer', 'the credential type is not registered in the trust registry', 'trust'));
    return { issuer_name: name };
  }
  const verdict = evaluateCredentialIssuer(index, { issuer, vct: ct.vct, issuedAt, now });
  if (!verdict.trusted) errors.push(problem(verdict.code ?? 'untrusted_issuer', verdict.message, 'trust'));
  for (const w of verdict.warnings) warnings.push(problem('trust_warning', w, 'trust'));
  return { vct: ct.vct, issuer_name: verdict.issuer_name ?? name };
}

/* ---------------------------------------------------------------- presentations */

export async function verifyPresentationRequest(deps: VerifyDeps, body: unknown): Promise<PresentationResult> {
  const req = parseOrThrow(zVerifyPresentation, body);
  const form = securedForm(req.verifiablePresentation, 'verifiablePresentation', 'presentation');
  const options = req.options ?? {};
  if (form.mech === 'jose') return verifyJosePresentation(deps, form.jws, options);
  // VP-JWT (VCDM 1.1 §6.3.1): nonce and aud bind it to one verification; both are required here.
  if (options.challenge === undefined || typeof options.domain !== 'string') {
    throw inputProblem('options', 'a VCDM 1.1 VP-JWT is verified against options.challenge (its nonce) and options.domain (its aud)', 'invalid-request');
  }
  return verifyVpJwt11(deps, form.jws, options.challenge, options.domain);
}

const fail = (errors: ProblemDetail[], checks: CheckName[] = ['proof']): PresentationResult => ({ verified: false, checks, warnings: [], errors, presentationResult: { verified: false }, credentialResults: [] });

async function verifyJosePresentation(deps: VerifyDeps, jws: string, options: { challenge?: string | undefined; domain?: string | string[] | undefined }): Promise<PresentationResult> {
  const now = deps.clock();
  const checks: CheckName[] = ['proof'];
  const warnings: ProblemDetail[] = [];
  const errors: ProblemDetail[] = [];
  let verified;
  try {
    // The holder is whoever presents: resolved offline (did:jwk, did:key), never fetched.
    verified = await verifyJoseSecured(jws, { kind: 'presentation', now, resolveKey: (kid, holder) => resolveHolderKey(deps.holders, kid, holder) });
  } catch (e) {
    return fail([joseProblem(e)]);
  }
  const vp = verified.document;
  // VCDM 2.0 §4.3 and §4.13: @context starts with the v2 base context; type includes VerifiablePresentation.
  const ctx = vp['@context'];
  if (!Array.isArray(ctx) || ctx[0] !== CREDENTIALS_V2) return fail([problem('vcdm-context', `@context: the first item must be ${CREDENTIALS_V2}`, 'proof', 'MALFORMED_VALUE_ERROR')]);
  const types = Array.isArray(vp.type) ? vp.type : [vp.type];
  if (!types.includes('VerifiablePresentation')) return fail([problem('vcdm-type', 'type must include VerifiablePresentation', 'proof', 'MALFORMED_VALUE_ERROR')]);

  // VC-API options: challenge and domain are bound through the JWT claims nonce and aud (RFC 7519 §4.1.3).
  checks.push('challenge');
  if (options.challenge === undefined) warnings.push(problem('no_challenge', 'no options.challenge was given, so a replayed presentation cannot be told apart', 'challenge'));
  else if (vp.nonce !== options.challenge) errors.push(problem('challenge_mismatch', 'the presentation nonce does not match options.challenge', 'challenge'));
  if (options.domain !== undefined) {
    const want = Array.isArray(options.domain) ? options.domain : [options.domain];
    const aud = Array.isArray(vp.aud) ? vp.aud : [vp.aud];
    if (!aud.some((a) => typeof a === 'string' && want.includes(a))) errors.push(problem('domain_mismatch', 'the presentation aud does not match options.domain', 'challenge'));
  }

  // VC-JOSE-COSE §3.1.2: credentials in a presentation MUST be secured and use EnvelopedVerifiableCredential.
  const list = vp.verifiableCredential === undefined ? [] : Array.isArray(vp.verifiableCredential) ? vp.verifiableCredential : [vp.verifiableCredential];
  if (list.length > 10) return fail([problem('too_many_credentials', 'at most 10 credentials per presentation', 'proof', 'RANGE_ERROR')]);
  const credentialResults: CredentialResult[] = [];
  for (const [i, c] of list.entries()) {
    let inner: string;
    try {
      inner = parseEnvelope(c, 'credential').jws;
    } catch (e) {
      credentialResults.push({ verified: false, checks: ['proof'], warnings: [], errors: [problem('unsecured_credential', `verifiableCredential.${i}: ${(e as Error).message}`, 'proof', 'MALFORMED_VALUE_ERROR')] });
      continue;
    }
    const r = await verifyJoseCredential(deps, inner);
    // Binding the subject to the holder is a business rule outside VC-API verification; say when they differ.
    const subjects = credentialSubjectIds(inner);
    if (subjects.length > 0 && !subjects.includes(verified.controller)) r.warnings.push(problem('holder_not_subject', `verifiableCredential.${i}: the holder is not the credential subject`));
    credentialResults.push(r);
  }
  if (credentialResults.some((r) => !r.verified)) errors.push(problem('credential_not_verified', 'at least one credential in the presentation did not verify; see credentialResults', 'proof'));
  const presentationOk = errors.every((e) => e.code === 'credential_not_verified');
  return { verified: errors.length === 0, checks, warnings, errors, presentationResult: { verified: presentationOk, holder: verified.controller }, credentialResults };
}

function credentialSubjectIds(jws: string): string[] {
  try {
    const doc = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8')) as JsonObject;
    const cs = doc.credentialSubject;
    return (Array.isArray(cs) ? cs : [cs]).map((s) => (s as JsonObject | undefined)?.id).filter((x): x is string => typeof x === 'string');
  } catch {
    return [];
  }
}

/** types and validFrom (ms) of a VC-JOSE-COSE document, read without verification (for the trust gate only). */
function claimedDocument(jws: string): { types: string[]; validFrom?: number } {
  try {
    const doc = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8')) as JsonObject;
    const types = (Array.isArray(doc.type) ? doc.type : [doc.type]).filter((t): t is string => typeof t === 'string');
    const validFrom = typeof doc.validFrom === 'string' ? Date.parse(doc.validFrom) : NaN;
    return { types, ...(Number.isFinite(validFrom) ? { validFrom } : {}) };
  } catch {
    return { types: [] };
  }
}

/** VCDM 1.1 VP-JWT with VC-JWTs inside: the OID4VP path's check (nonce, aud, holder binding, each VC-JWT). */
async function verifyVpJwt11(deps: VerifyDeps, jwt: string, challenge: string, domain: string): Promise<PresentationResult> {
  const out = await checkVcJwtPresentation({ resolver: deps.resolver, holders: deps.holders, trust: () => deps.trust.index(), bitstring: deps.bitstring }, { presentation: jwt, nonce: challenge, clientId: domain, now: deps.clock(), queryId: 'vc-api' });
  const checks: CheckName[] = ['proof', 'challenge', 'validity', 'status', 'trust'];
  if (!Array.isArray(out)) return fail([problem(out.error.code, out.error.message)], checks);
  const credentialResults: CredentialResult[] = out.map((c) => ({
    verified: true,
    checks: ['proof', 'validity', 'status', 'trust'],
    warnings: c.warnings.map((w) => problem('trust_warning', w, 'trust')),
    errors: [],
    credential: { vcdm: '1.1', issuer: c.issuer, issuer_name: c.issuer_name, type: c.types, vct: c.vct },
  }));
  return { verified: true, checks, warnings: [], errors: [], presentationResult: { verified: true }, credentialResults };
}
