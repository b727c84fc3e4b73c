import { z } from 'zod';
import { badRequest, notFound, ProtocolError } from '../../core/http/errors.ts';
import type { RelyingParty, VerifierDeps } from '../deps.ts';
import { encodeAttempt, walletErrorCode } from '../last-attempt.ts';
import type { RequestRow } from '../store/schema.ts';
import { createRequest } from './create-request.ts';
import { assertOpen, evaluate, openResponse, settle } from './receive-response.ts';
import { requestObject } from './request-object.ts';

/**
 * OpenID4VP 1.0 Appendix A over the W3C Digital Credentials API, for the counter page.
 *
 * The page asks this verifier for a DC API request (a signed Request Object, `response_mode`
 * `dc_api.jwt`, `expected_origins` = this verifier's public origin, no response_uri, no state), hands
 * it to `navigator.credentials.get` as `{ protocol: "openid4vp-v1-signed", data: { request } }` and
 * posts back what the platform returned. The response is decrypted with the request's own ECDH-ES
 * key and verified like a direct_post.jwt response, except that the KB-JWT / VP `aud` must be
 * `origin:<this verifier's origin>` (Appendix A.4; §5.9.3 reserves the `origin` prefix) and there is
 * no `state` (A.2). The verdict is stored as on the other paths (receive-response.ts `settle`).
 *
 * Session fixation (§14.2, A.5): both calls are the counter API, behind the clerk's access key for
 * this counter, so only the session that created the request can hand in its answer; the DC API
 * returns the answer to the page that asked (A: "the session ... will always continue in the initial
 * context"), and the origin in `aud`, checked by the wallet against `expected_origins`, means a
 * request relayed through another site yields nothing this verifier accepts.
 */
export const DC_API_PROTOCOL = 'openid4vp-v1-signed';
export const DC_API_RESPONSE_MODE = 'dc_api.jwt';

/** The store's type names the two direct_post modes; a DC API request is stored with `dc_api.jwt`. */
export const isDcApiRequest = (row: Pick<RequestRow, 'response_mode'>): boolean => row.response_mode === DC_API_RESPONSE_MODE;

/** The verifier's Origin (RFC 6454) as the browser reports it for the counter page: scheme, host, port. */
export const verifierOrigin = (publicUrl: string): string => new URL(publicUrl).origin;

/** Appendix A.4: the audience of every presentation answered over the DC API. */
export const dcApiAudience = (publicUrl: string): string => `origin:${verifierOrigin(publicUrl)}`;

const zCreate = z.record(z.string(), z.unknown());

/**
 * Creates a DC API request: the same template or DCQL query, registry check, nonce and ECDH-ES key as
 * every counter request (create-request.ts, asked for `direct_post.jwt`, which makes the key), stored
 * as `dc_api.jwt` so that neither request_uri nor the response endpoint ever serve or take it.
 */
export async function createDcApiRequest(deps: VerifierDeps, rp: RelyingParty, body: unknown) {
  const p = zCreate.safeParse(body);
  if (!p.success) throw badRequest('The body must be a JSON object with template or dcql_query.');
  if ('response_mode' in p.data) throw badRequest('A DC API request always uses response_mode dc_api.jwt.', { field: 'response_mode' });
  const created = await createRequest(deps, rp, p.data, { dcApi: true });
  const request = await requestObject(deps, rp, created.request_id, { dcApi: true });
  return { request_id: created.request_id, expires_at: created.expires_at, protocol: DC_API_PROTOCOL, data: { request } };
}

const invalidRequest = (d: string) => new ProtocolError('invalid_request', d);

/** What `navigator.credentials.get` resolved with (a DigitalCredential's protocol and data), as the page posts it. */
const zDcApiResult = z.looseObject({ protocol: z.string().max(64), data: z.record(z.string(), z.unknown()) });
const zEncrypted = z.looseObject({ response: z.string().min(1).max(300_000) });
/** A.4: a wallet's protocol error is `{ error }` inside `data`. */
const zWalletError = z.looseObject({ error: z.string().max(100).regex(/^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/) });
const zInner = z.looseObject({ vp_token: z.union([z.string(), z.record(z.string(), z.unknown())]) });

export interface DcApiOutcome {
  request_id: string;
  status: 'verified' | 'rejected';
  /** false: the request stays open (an answer that did not verify is a hint, never the verdict). */
  final: boolean;
  errors: { code: string }[];
}

/**
 * Takes what the counter page got from the DC API for request `id`. Throws ProtocolError
 * `invalid_request` for anything that is no answer to this request (wrong protocol, unencrypted,
 * encrypted to another request's key, undecryptable, answered or expired); a presentation that fails
 * is noted (non-final) and reported with its reason codes.
 */
export async function receiveDcApiResponse(deps: VerifierDeps, rp: RelyingParty, id: string, body: unknown): Promise<DcApiOutcome> {
  const row = await deps.store.getRequest(rp.slug, id);
  if (!row || !isDcApiRequest(row)) throw notFound('unknown-request', 'No DC API request with this id at this counter.');
  const p = zDcApiResult.safeParse(body);
  if (!p.success) throw invalidRequest('Expected the DigitalCredential as { protocol, data }.');
  assertOpen(deps, row);
  if (p.data.protocol !== DC_API_PROTOCOL) throw invalidRequest(`The request was made with protocol ${DC_API_PROTOCOL}.`);

  const walletError = zWalletError.safeParse(p.data.data);
  if (walletError.success && !('response' in p.data.data)) {
    const error = walletErrorCode(walletError.data.error);
    const now = deps.clock();
    await deps.store.noteAttempt(row.id, now, encodeAttempt({ kind: 'wallet_error', error, at: now }));
    deps.logger.info({ rp: rp.slug, request: row.id, error }, 'DC API wallet error noted (request stays open)');
    return { request_id: row.id, status: 'rejected', final: false, errors: [{ code: 'declined' }] };
  }
  // A.2 / §8.3: dc_api.jwt means the Authorization Response comes encrypted in `response`; a plain vp_token is refused.
  const enc = zEncrypted.safeParse(p.data.data);
  if (!enc.success) throw invalidRequest('This request expects an encrypted response (dc_api.jwt).');
  // The kid names the key of this request (request-object.ts, `enc-<id>`): an answer encrypted for another request is not this one's.
  let kid: unknown;
  try {
    kid = (JSON.parse(Buffer.from(enc.data.response.split('.')[0]!, 'base64url').toString('utf8')) as { kid?: unknown }).kid;
  } catch {
    throw invalidRequest('The response is not a JWE.');
  }
  if (kid !== `enc-${row.id}`) throw invalidRequest('The response is not encrypted for this request.');
  const inner = zInner.safeParse(await openResponse(deps, row, enc.data.response));
  if (!inner.success) throw invalidRequest('The decrypted response has no vp_token.');

  const verdict = await evaluate(deps, rp, row, inner.data.vp_token, dcApiAudience(deps.publicUrl));
  await settle(deps, rp, row, verdict);
  return { request_id: row.id, status: verdict.verified ? 'verified' : 'rejected', final: verdict.verified, errors: verdict.errors.map((e) => ({ code: e.code })) };
}
