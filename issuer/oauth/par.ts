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
 * configuration is named by its `scope` (OID4VCI 1.0 §5.1.2).
 */
export async function pushAuthorizationRequest(deps: IssuerDeps, libs: Libraries, office: Office, request: RequestLike, body: unknown): Promise<{ request_uri: string; expires_in: number }> {
  const self = office.selfService;
  if (!self) throw bad('This office offers no self-service.');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('The request must be form-encoded (RFC 9126 §2.1).');
  const parsed = zPar.safeParse(body);
  if (!parsed.success) throw bad(parsed.error.issues[0]?.message ?? 'The request does not have the expected form.');
  const p = parsed.data;
  const redirectUri = checkRedirectUri(p.redirect_uri);

  // OID4VCI 1.0 §5.1.1: authorization_details would make the token response carry
  // credential_identifiers (§6.2) that our credential endpoint does not take yet: scope only.
  if (p.authorization_details !== undefined) throw bad('authorization_details is not supported yet; request the credential configuration by its scope (OID4VCI 1.0 §5.1.2).');
  if (!p.scope) throw bad('scope is required: the scope of the credential configuration (OID4VCI 1.0 §5.1.2).');
  const requested = p.scope.split(' ').filter((s) => s.length > 0);
  const known = requested.filter((s) => self.configurations.includes(s) && office.configurations.has(s));
  // RFC 6749 §4.1.2.1 invalid_scope; `openid` is tolerated (the wallet does not get an ID token from us).
  const unknown = requested.filter((s) => !known.includes(s) && s !== 'openid');
  if (unknown.length > 0) throw bad(`This office offers no self-service for scope ${unknown[0]!.slice(0, 100)}.`, 'invalid_scope');
  if (known.length !== 1) throw bad('Request exactly one credential configuration per authorization.', 'invalid_scope');

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
    configuration_id: known[0]!,
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
