import { randomBytes, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { z } from 'zod';
import { pushedAuthorizationRequestUriPrefix, type RequestLike } from '@openid4vc/oauth2';
import { ProtocolError } from '../../core/http/errors.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import type { Libraries } from '../oid4vci-lib.ts';
import { AuthorizationStore, secretHash } from './authorization-store.ts';
import { checkParBinding } from './client-binding.ts';

/** RFC 9126 §2.2 `expires_in`: the request_uri is short lived (and single use, authorize.ts). */
export const PAR_TTL_SECONDS = 60;

const bad = (d: string, code = 'invalid_request') => new ProtocolError(code, d);
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The wallet's redirect URI (RFC 6749 §3.1.2): absolute, no fragment; https, a wallet's private
 * scheme (RFC 8252 §7.1) or http on loopback (RFC 8252 §7.3); never a scheme a browser would run
 * or read locally.
 */
export function checkRedirectUri(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw bad('redirect_uri must be an absolute URI.');
  }
  if (u.hash || value.includes('#')) throw bad('redirect_uri must not contain a fragment (RFC 6749 §3.1.2).');
  if (['javascript:', 'data:', 'file:', 'vbscript:', 'blob:', 'about:'].includes(u.protocol)) throw bad('This redirect_uri scheme is not allowed.');
  if (u.protocol === 'http:' && !LOOPBACK.has(u.hostname)) throw bad('http redirect_uri is allowed only on loopback (RFC 8252 §7.3); use https or a private scheme.');
  return value;
}

/** One checked `authorization_details` entry of type `openid_credential` (OID4VCI 1.0 §5.1.1), as stored (migration 0014). */
export interface AuthorizationDetail {
  type: 'openid_credential';
  credential_configuration_id: string;
  locations?: string[];
}

/** RFC 9396 §5: the error for authorization details that are unknown, malformed or not allowed. */
const badDetails = (d: string) => new ProtocolError('invalid_authorization_details', d);

// OID4VCI 1.0 Appendix "Claims Path Pointer": a non-empty array of strings, nulls and non-negative integers.
const zClaimsDescription = z.looseObject({ path: z.array(z.union([z.string().max(200), z.null(), z.int().min(0)])).min(1).max(20), mandatory: z.boolean().optional() });
const zCredentialDetail = z.looseObject({
  type: z.literal('openid_credential'),
  credential_configuration_id: z.string().min(1).max(100),
  // OID4VCI 1.0 §5.1.1 "claims": OPTIONAL, a non-empty array of claims description objects.
  claims: z.array(zClaimsDescription).min(1).max(100).optional(),
  // RFC 9396 §2.2 common field: the resource servers (here: Credential Issuers) the access is for.
  locations: z.array(z.string().max(2000)).min(1).max(10).optional(),
});

/**
 * OID4VCI 1.0 Appendix "Processing Rules for Claims Description Objects": a repeated or
 * contradictory description aborts the processing: the same claim twice, `null` and an index into
 * the same array, or one path treating a claim as an array and another as an object.
 */
function contradictoryClaims(paths: (string | number | null)[][]): boolean {
  const kind = (c: string | number | null) => (typeof c === 'string' ? 'object' : c === null ? 'all' : 'index');
  for (let i = 0; i < paths.length; i++)
    for (let j = i + 1; j < paths.length; j++) {
      const a = paths[i]!;
      const b = paths[j]!;
      let k = 0;
      while (k < a.length && k < b.length && a[k] === b[k]) k++;
      if (k === a.length && k === b.length) return true; // the same claim twice
      if (k === a.length || k === b.length) continue; // one addresses a claim inside the other: allowed
      const ka = kind(a[k]!);
      const kb = kind(b[k]!);
      if (ka !== kb && !(ka === 'index' && kb === 'index')) return true; // array vs object, or null vs index
    }
  return false;
}

/**
 * The `authorization_details` parameter (RFC 9396 §2) of a PAR or a token request, checked for
 * this office (OID4VCI 1.0 §5.1.1): a JSON array with exactly one entry, of type
 * `openid_credential`, naming a `credential_configuration_id` the office offers by self-service
 * (one credential dataset per authorization, like one scope value). `claims` is checked for form
 * and contradictions and then ignored: the office issues what the citizen's login yields, every
 * claim selectively disclosable. `locations`, if sent, must name this Credential Issuer (RFC 9396
 * §2.2; we publish no `authorization_servers`, so it is optional, §5.1.1). Other members are
 * ignored (§5.1.1: the type is "never considered invalid due to unknown fields"). Everything else
 * is `invalid_authorization_details` (RFC 9396 §5). With `selfService: false` (the pre-authorized
 * code's token request, issuer/use-cases/exchange-token.ts) the configuration need not be a self-service one.
 */
export function parseAuthorizationDetails(office: Office, raw: string, opts: { selfService: boolean } = { selfService: true }): AuthorizationDetail[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw badDetails('authorization_details must be a JSON array (RFC 9396 §2).');
  }
  if (!Array.isArray(value) || value.length === 0) throw badDetails('authorization_details must be a non-empty JSON array of objects (RFC 9396 §2).');
  if (value.length !== 1) throw badDetails('Request exactly one credential configuration per authorization.');
  const entry = value[0] as unknown;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw badDetails('Each authorization_details entry must be an object (RFC 9396 §2).');
  const type = (entry as Record<string, unknown>).type;
  if (type !== 'openid_credential') throw badDetails(typeof type === 'string' ? `Unknown authorization_details type ${type.slice(0, 50)}; only openid_credential is supported.` : 'An authorization_details entry has no type (RFC 9396 §2).');
  const parsed = zCredentialDetail.safeParse(entry);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badDetails(`authorization_details of type openid_credential does not have the expected form${issue?.path.length ? ` (${issue.path.join('.')})` : ''} (OID4VCI 1.0 §5.1.1).`);
  }
  const d = parsed.data;
  if (!office.configurations.has(d.credential_configuration_id)) throw badDetails(`Unknown credential_configuration_id ${d.credential_configuration_id}.`);
  if (opts.selfService && !office.selfService?.configurations.includes(d.credential_configuration_id)) throw badDetails(`This office offers no self-service for ${d.credential_configuration_id}.`);
  if (d.locations && d.locations.some((l) => l !== office.issuerId)) throw badDetails('locations must name this Credential Issuer (RFC 9396 §2.2).');
  if (d.claims && contradictoryClaims(d.claims.map((c) => c.path))) throw badDetails('claims contains a repeated or contradictory claims description (OID4VCI 1.0, claims description processing rules).');
  return [{ type: 'openid_credential', credential_configuration_id: d.credential_configuration_id, ...(d.locations ? { locations: [office.issuerId] } : {}) }];
}

/** Parameters appear once (RFC 6749 §3.1): a repeated one arrives as an array and fails its string schema. */
const zPar = z.looseObject({
  response_type: z.literal('code', { message: 'response_type must be code' }),
  client_id: z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'client_id must be printable ASCII'),
  redirect_uri: z.string().min(1).max(2000),
  // RFC 7636 §4.2: a base64url SHA-256 is exactly 43 characters; `plain` is refused (HAIP).
  code_challenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'code_challenge must be a base64url SHA-256 (43 characters)'),
  code_challenge_method: z.literal('S256', { message: 'code_challenge_method must be S256' }),
  state: z.string().min(1).max(1000).optional(),
  scope: z.string().min(1).max(1000).optional(),
  authorization_details: z.string().max(10_000).optional(),
  issuer_state: z.string().min(1).max(1000).optional(),
  dpop_jkt: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'dpop_jkt must be a base64url SHA-256 thumbprint').optional(),
  request: z.never({ message: 'request objects (JAR) are not accepted here; send the parameters in the form body' }).optional(),
  request_uri: z.never({ message: 'request_uri must not be pushed (RFC 9126 §2.1)' }).optional(),
});

/**
 * Pushed authorization request (RFC 9126 §2), the office's self-service: the wallet pushes its
 * authorization request, we check it, bind it to the wallet's DPoP key if it sent one (RFC 9449
 * §10: `DPoP` header, or `dpop_jkt`), and answer with a single-use request_uri (§2.2). The credential
 * configuration is named by its `scope` (OID4VCI 1.0 §5.1.2) or by `authorization_details` (§5.1.1).
 */
export async function pushAuthorizationRequest(deps: IssuerDeps, libs: Libraries, office: Office, request: RequestLike, body: unknown): Promise<{ request_uri: string; expires_in: number }> {
  const self = office.selfService;
  if (!self) throw bad('This office offers no self-service.');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('The request must be form-encoded (RFC 9126 §2.1).');
  const parsed = zPar.safeParse(body);
  if (!parsed.success) throw bad(parsed.error.issues[0]?.message ?? 'The request does not have the expected form.');
  const p = parsed.data;
  const redirectUri = checkRedirectUri(p.redirect_uri);

  // OID4VCI 1.0 §5.1.1: by authorization_details (the token response then carries credential_identifiers, §6.2)
  // or §5.1.2: by scope. Both may come; §5.1.2 interprets them individually, and where both ask for the
  // same configuration the authorization details govern. One configuration per authorization in all.
  const details = p.authorization_details !== undefined ? parseAuthorizationDetails(office, p.authorization_details) : undefined;
  if (!details && !p.scope) throw bad('scope or authorization_details is required: the credential configuration to issue (OID4VCI 1.0 §5.1.1, §5.1.2).');
  const requested = (p.scope ?? '').split(' ').filter((s) => s.length > 0);
  const known = requested.filter((s) => self.configurations.includes(s) && office.configurations.has(s));
  // RFC 6749 §4.1.2.1 invalid_scope; `openid` is tolerated (the wallet does not get an ID token from us).
  const unknown = requested.filter((s) => !known.includes(s) && s !== 'openid');
  if (unknown.length > 0) throw bad(`This office offers no self-service for scope ${unknown[0]!.slice(0, 100)}.`, 'invalid_scope');
  const configurations = new Set([...known, ...(details ?? []).map((d) => d.credential_configuration_id)]);
  if (configurations.size !== 1) throw bad('Request exactly one credential configuration per authorization.', details ? 'invalid_request' : 'invalid_scope');

  // RFC 9449 §10 / OAuth attestation-based client authentication: checked by client-binding.ts.
  const binding = await checkParBinding(deps, libs, office, request, body as Record<string, unknown>);
  const headerJkt = binding.dpopJwk ? await calculateJwkThumbprint(binding.dpopJwk, 'sha256') : undefined;
  if (headerJkt && p.dpop_jkt && headerJkt !== p.dpop_jkt) throw new ProtocolError('invalid_dpop_proof', 'dpop_jkt does not match the DPoP proof key (RFC 9449 §10.1).');
  if (binding.clientId && binding.clientId !== p.client_id) throw new ProtocolError('invalid_client', 'client_id does not match the wallet attestation.', 401);

  const value = randomBytes(32).toString('base64url');
  const now = deps.clock();
  await new AuthorizationStore(deps.store.ds).insert({
    id: randomUUID(),
    office: office.slug,
    phase: 'pushed',
    request_uri_hash: secretHash(value),
    client_id: p.client_id,
    redirect_uri: redirectUri,
    code_challenge: p.code_challenge,
    wallet_state: p.state ?? null,
    configuration_id: [...configurations][0]!,
    authorization_details: details ? JSON.stringify(details) : null,
    dpop_jkt: headerJkt ?? p.dpop_jkt ?? null,
    browser_hash: null,
    login_state_hash: null,
    login_sealed: null,
    code_hash: null,
    offer_id: null,
    expires_at: now + PAR_TTL_SECONDS * 1000,
  });
  return libs.authorizationServer.createPushedAuthorizationResponse({ requestUri: `${pushedAuthorizationRequestUriPrefix}${value}`, expiresInSeconds: PAR_TTL_SECONDS }).pushedAuthorizationResponse as { request_uri: string; expires_in: number };
}
