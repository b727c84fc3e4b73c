import { CREDENTIALS_V1, CREDENTIALS_V2 } from '../jsonld-contexts/index.ts';
import { VCDM_PROBLEM, VcdmError } from './errors.ts';
import { isObject, isUrl, type JsonObject } from './values.ts';
import { checkLanguageValues } from './language-values.ts';
import { checkRelatedResources } from './related-resource.ts';
import { checkTypedObjects } from './typed-objects.ts';

/**
 * Structural rules of the W3C Verifiable Credentials Data Model, v1.1 (REC 2022-03-03) and v2.0
 * (REC 2025-05-15), for credentials in JSON (compact JSON-LD) form. Pure: no I/O, no clock.
 *
 * A failure throws a VcdmError naming the property (dotted path) and the rule, with a stable code
 * for our problem types and the VCDM 2.0 §7.2 problem type it corresponds to.
 */
export type VcdmVersion = '1.1' | '2.0';

export { VCDM_PROBLEM, VcdmError, type VcdmErrorCode } from './errors.ts';

export { isUrl, type JsonObject } from './values.ts';

export interface ValidatedCredential {
  version: VcdmVersion;
  credential: JsonObject;
  /** `@context` entries after the base context. */
  extraContexts: unknown[];
  types: string[];
  /** The issuer URL (`issuer` or `issuer.id`), undefined only when allowed to be absent. */
  issuer: string | undefined;
  subjects: JsonObject[];
  /** Milliseconds since the epoch; VCDM 2.0 validFrom/validUntil, VCDM 1.1 issuanceDate/expirationDate. */
  validFrom: number | undefined;
  validUntil: number | undefined;
}

export interface ValidateOptions {
  /** Only this version is acceptable (otherwise detected from the first `@context` entry). */
  version?: VcdmVersion;
  /** The unsecured credential of an issue request may leave `issuer` to the issuer service. */
  issuerOptional?: boolean;
}

/**
 * XML Schema 1.1 Part 2 `dateTimeStamp` (VCDM 2.0 §4.9) — a dateTime with a mandatory time zone —
 * which is also what VCDM 1.1 §4.6 asks of `issuanceDate` (an RFC 3339 combined date and time).
 */
const DATE_TIME_STAMP = /^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$/;

export function parseDateTimeStamp(v: unknown): number | undefined {
  if (typeof v !== 'string' || !DATE_TIME_STAMP.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** Detects the data model version from the first `@context` entry, without validating anything else. */
export function detectVersion(doc: unknown): VcdmVersion | undefined {
  if (!isObject(doc)) return undefined;
  const ctx = doc['@context'];
  const first = Array.isArray(ctx) ? ctx[0] : ctx;
  return first === CREDENTIALS_V2 ? '2.0' : first === CREDENTIALS_V1 ? '1.1' : undefined;
}

export function validateCredential(doc: unknown, opts: ValidateOptions = {}): ValidatedCredential {
  if (!isObject(doc)) throw new VcdmError('vcdm-not-an-object', '(credential)', 'a credential must be a JSON object', VCDM_PROBLEM.PARSING_ERROR);
  const version = checkContext(doc, opts.version);
  const types = checkTypes(doc);
  // VCDM 2.0 §4.4 / 1.1 §4.2: `id`, if present, is a single URL.
  if ('id' in doc && !isUrl(doc.id)) throw new VcdmError('vcdm-id', 'id', 'id must be a single URL');
  const issuer = checkIssuer(doc, opts.issuerOptional ?? false);
  const subjects = checkSubjects(doc);
  const { validFrom, validUntil } = version === '2.0' ? checkValidity2(doc) : checkValidity11(doc, opts.issuerOptional ?? false);
  checkStatus(doc);
  checkSchemas(doc);
  // VCDM 2.0 §4.6 / §11.1: name and description, on the credential and on an issuer object.
  checkLanguageValues(doc);
  if (isObject(doc.issuer)) checkLanguageValues(doc.issuer, 'issuer.');
  // §5.3 relatedResource; §5.4 refreshService, §5.5 termsOfUse, §5.6 evidence each with a type.
  checkRelatedResources(doc);
  checkTypedObjects(doc);
  const ctx = doc['@context'];
  return { version, credential: doc, extraContexts: Array.isArray(ctx) ? ctx.slice(1) : [], types, issuer, subjects, validFrom, validUntil };
}

function checkContext(doc: JsonObject, want: VcdmVersion | undefined): VcdmVersion {
  // VCDM 2.0 §4.3: "The value of the @context property MUST be an ordered set where the first item
  // is a URL with the value https://www.w3.org/ns/credentials/v2". An ordered set is a JSON array;
  // a lone string is the compact JSON-LD form of a set of one (the spec's own envelope examples use it).
  if (doc['@context'] === undefined) throw new VcdmError('vcdm-context', '@context', '@context is required');
  const ctx = typeof doc['@context'] === 'string' ? [doc['@context']] : doc['@context'];
  if (!Array.isArray(ctx) || ctx.length === 0) throw new VcdmError('vcdm-context', '@context', '@context must be an array whose first item is the base context URL');
  const version = detectVersion(doc);
  if (!version) throw new VcdmError('vcdm-context', '@context.0', `the first @context item must be ${CREDENTIALS_V2} (VCDM 2.0) or ${CREDENTIALS_V1} (VCDM 1.1)`);
  if (want && version !== want) throw new VcdmError('vcdm-context', '@context.0', `the first @context item must be ${want === '2.0' ? CREDENTIALS_V2 : CREDENTIALS_V1}`);
  // §4.3: subsequent items are URLs or objects processable as JSON-LD contexts; the base context once.
  for (const [i, c] of ctx.entries()) {
    if (i === 0) continue;
    if (!(isUrl(c) || isObject(c))) throw new VcdmError('vcdm-context', `@context.${i}`, '@context items must be URLs or context objects');
    if (c === CREDENTIALS_V1 || c === CREDENTIALS_V2) throw new VcdmError('vcdm-context', `@context.${i}`, 'a base context may only be the first @context item');
  }
  return version;
}

function checkTypes(doc: JsonObject): string[] {
  // VCDM 2.0 §4.5: `type` is one or more terms or absolute URLs and includes VerifiableCredential (1.1 §4.3 likewise).
  const t = doc.type;
  const types = typeof t === 'string' ? [t] : Array.isArray(t) ? t : undefined;
  if (!types || types.length === 0) throw new VcdmError('vcdm-type', 'type', 'type is required (a string or an array of strings)');
  for (const [i, x] of types.entries()) if (typeof x !== 'string' || x.length === 0 || /\s/.test(x)) throw new VcdmError('vcdm-type', `type.${i}`, 'each type must be a term or a URL');
  if (!types.includes('VerifiableCredential')) throw new VcdmError('vcdm-type', 'type', 'type must include VerifiableCredential');
  return types as string[];
}

function checkIssuer(doc: JsonObject, optional: boolean): string | undefined {
  // VCDM 2.0 §4.7: "The value of the issuer property MUST be either a URL or an object containing an
  // id property whose value is a URL" (1.1 §4.5: URI or object with id).
  const iss = doc.issuer;
  if (iss === undefined) {
    if (optional) return undefined;
    throw new VcdmError('vcdm-issuer', 'issuer', 'issuer is required');
  }
  if (typeof iss === 'string') {
    if (!isUrl(iss)) throw new VcdmError('vcdm-issuer', 'issuer', 'issuer must be a URL or an object with an id URL');
    return iss;
  }
  if (!isObject(iss)) throw new VcdmError('vcdm-issuer', 'issuer', 'issuer must be a URL or an object with an id URL');
  if (!isUrl(iss.id)) throw new VcdmError('vcdm-issuer', 'issuer.id', 'issuer.id must be a URL');
  return iss.id;
}

function checkSubjects(doc: JsonObject): JsonObject[] {
  // VCDM 2.0 §4.8: credentialSubject is required, one or more objects; an `id` in it is a URL (§4.4).
  const cs = doc.credentialSubject;
  if (cs === undefined) throw new VcdmError('vcdm-credential-subject', 'credentialSubject', 'credentialSubject is required');
  const list = Array.isArray(cs) ? cs : [cs];
  if (list.length === 0) throw new VcdmError('vcdm-credential-subject', 'credentialSubject', 'credentialSubject must not be empty');
  for (const [i, s] of list.entries()) {
    const at = Array.isArray(cs) ? `credentialSubject.${i}` : 'credentialSubject';
    if (!isObject(s)) throw new VcdmError('vcdm-credential-subject', at, 'credentialSubject must be an object (or an array of objects)');
    // §4.8: a subject object holding only its `id` is a conforming credentialSubject (the claim is
    // that this subject is the subject of the credential; the W3C VCDM 2.0 test suite's
    // credential-ok.json). An empty object identifies no one and claims nothing: refused.
    if (Object.keys(s).length === 0) throw new VcdmError('vcdm-credential-subject', at, 'credentialSubject must hold an id or at least one claim');
    if ('id' in s && !isUrl(s.id)) throw new VcdmError('vcdm-id', `${at}.id`, 'credentialSubject.id must be a URL');
  }
  return list as JsonObject[];
}

function checkValidity2(doc: JsonObject): { validFrom?: number; validUntil?: number } {
  // VCDM 2.0 §4.9: validFrom / validUntil are dateTimeStamp strings, validFrom ≤ validUntil.
  const from = dateProp(doc, 'validFrom');
  const until = dateProp(doc, 'validUntil');
  if (from !== undefined && until !== undefined && from > until) throw new VcdmError('vcdm-validity-range', 'validUntil', 'validUntil must not be earlier than validFrom', VCDM_PROBLEM.RANGE_ERROR);
  // VCDM 1.1 terms are not defined by the v2 context; a 2.0 credential that uses them almost certainly means validFrom/validUntil.
  for (const p of ['issuanceDate', 'expirationDate'] as const) {
    if (p in doc) throw new VcdmError('vcdm-property-not-allowed', p, `${p} is VCDM 1.1; a VCDM 2.0 credential uses ${p === 'issuanceDate' ? 'validFrom' : 'validUntil'}`);
  }
  return { ...(from !== undefined ? { validFrom: from } : {}), ...(until !== undefined ? { validUntil: until } : {}) };
}

function checkValidity11(doc: JsonObject, issuing: boolean): { validFrom?: number; validUntil?: number } {
  // VCDM 1.1 §4.6 issuanceDate (required; the issuer sets it when issuing), §4.7 expirationDate (optional).
  const from = dateProp(doc, 'issuanceDate');
  if (from === undefined && !issuing) throw new VcdmError('vcdm-date-time', 'issuanceDate', 'issuanceDate is required in a VCDM 1.1 credential');
  const until = dateProp(doc, 'expirationDate');
  if (from !== undefined && until !== undefined && from > until) throw new VcdmError('vcdm-validity-range', 'expirationDate', 'expirationDate must not be earlier than issuanceDate', VCDM_PROBLEM.RANGE_ERROR);
  for (const p of ['validFrom', 'validUntil'] as const) {
    if (p in doc) throw new VcdmError('vcdm-property-not-allowed', p, `${p} is VCDM 2.0; a VCDM 1.1 credential uses ${p === 'validFrom' ? 'issuanceDate' : 'expirationDate'}`);
  }
  return { ...(from !== undefined ? { validFrom: from } : {}), ...(until !== undefined ? { validUntil: until } : {}) };
}

function dateProp(doc: JsonObject, name: string): number | undefined {
  if (!(name in doc)) return undefined;
  const t = parseDateTimeStamp(doc[name]);
  if (t === undefined) throw new VcdmError('vcdm-date-time', name, `${name} must be a date-time with a time zone (XML Schema dateTimeStamp, e.g. 2026-01-01T00:00:00Z)`);
  return t;
}

function checkStatus(doc: JsonObject): void {
  // VCDM 2.0 §4.10: credentialStatus is one or more objects, each with a `type`; `id`, if present, a URL.
  if (!('credentialStatus' in doc)) return;
  const cs = doc.credentialStatus;
  const list = Array.isArray(cs) ? cs : [cs];
  for (const [i, s] of list.entries()) {
    const at = Array.isArray(cs) ? `credentialStatus.${i}` : 'credentialStatus';
    if (!isObject(s)) throw new VcdmError('vcdm-status', at, 'credentialStatus must be an object (or an array of objects)');
    if (typeof s.type !== 'string' && !Array.isArray(s.type)) throw new VcdmError('vcdm-status', `${at}.type`, 'a credentialStatus entry must have a type');
    if ('id' in s && !isUrl(s.id)) throw new VcdmError('vcdm-id', `${at}.id`, 'credentialStatus.id must be a URL');
  }
}

function checkSchemas(doc: JsonObject): void {
  // VCDM 2.0 §4.11: credentialSchema entries have an `id` URL and a `type`.
  if (!('credentialSchema' in doc)) return;
  const cs = doc.credentialSchema;
  const list = Array.isArray(cs) ? cs : [cs];
  for (const [i, s] of list.entries()) {
    const at = Array.isArray(cs) ? `credentialSchema.${i}` : 'credentialSchema';
    if (!isObject(s) || !isUrl(s.id) || (typeof s.type !== 'string' && !Array.isArray(s.type))) throw new VcdmError('vcdm-schema', at, 'a credentialSchema entry must have an id URL and a type');
  }
}

/** The issuer URL of a credential that has already been validated. */
export const issuerIdOf = (doc: JsonObject): string | undefined => (typeof doc.issuer === 'string' ? doc.issuer : isObject(doc.issuer) && typeof doc.issuer.id === 'string' ? doc.issuer.id : undefined);
