import { Oauth2ResourceUnauthorizedError, Oauth2ServerErrorResponseError } from '@openid4vc/oauth2';
import { ValidationError } from '@openid4vc/utils';
import { ProtocolError } from '../core/http/errors.ts';

/**
 * Translates the @openid4vc libraries' errors into our ProtocolError at the boundary, by class and
 * error code, never by message text. Anything else passes on unchanged (and becomes a 500).
 *
 * Every `error_description` that leaves is ours: the libraries' texts can quote what the client sent
 * (an `iss`, a `client_id`, a zod path with its value), change with every release, and are not written
 * for a wallet to show. The description is our sentence for the error code, followed, for a failed
 * verification, by one of a closed set of our hints naming the check that failed (`libraryHint`).
 * The hint is picked from the library's message, but only ever our fixed text goes out: a library
 * that rewords a message costs the hint, never leaks it.
 */

/** Our description per error code (RFC 6749 §5.2, RFC 6750 §3.1, RFC 9449 §7.1, OID4VCI 1.0 §6.3 and §8.3.1.2). */
const DESCRIPTIONS: Record<string, string> = {
  invalid_request: 'The request does not have the expected form.',
  invalid_client: 'The client could not be authenticated (wallet attestation).',
  invalid_grant: 'The grant is not valid.',
  unauthorized_client: 'This client may not use this grant.',
  unsupported_grant_type: 'This grant type is not supported.',
  invalid_scope: 'The requested scope is not offered.',
  invalid_target: 'The requested resource is not served here.',
  invalid_token: 'A valid access token is required.',
  insufficient_scope: 'The access token does not cover this request.',
  invalid_dpop_proof: 'The DPoP proof is not valid.',
  use_dpop_nonce: 'A DPoP proof with the server nonce from the DPoP-Nonce header is required.',
  invalid_credential_request: 'The credential request is not valid.',
  unknown_credential_configuration: 'The credential configuration is not offered.',
  unknown_credential_identifier: 'The credential identifier is not known for this access token.',
  invalid_proof: 'The proof could not be verified.',
  invalid_nonce: 'The c_nonce is not valid; fetch a new one.',
  invalid_transaction_id: 'The transaction_id is not known.',
  invalid_encryption_parameters: 'The encryption parameters are not supported.',
  credential_request_denied: 'The credential request was denied.',
  invalid_authorization_details: 'The authorization_details are not valid.',
  server_error: 'The request could not be processed.',
};
const FALLBACK = 'The request was refused.';

/** Our description for an error code (used where a library names only the code). */
export function ourDescription(error: string): string {
  return DESCRIPTIONS[error] ?? FALLBACK;
}

/**
 * Which check failed, in our words, from a closed list; undefined when we cannot tell. Reads the
 * messages of the error and its causes (library-internal text that never leaves the process).
 */
const HINTS: [RegExp, string][] = [
  [/attested_keys/, "its key is not among the key attestation's attested_keys"],
  [/nonce[^\n]*expired/i, 'its nonce has expired'],
  [/'exp'|expired/i, 'it has expired (exp)'],
  [/'nbf'|not yet valid/i, 'it is not valid yet (nbf)'],
  [/'iat'/, 'its issue time (iat) is not accepted'],
  [/'aud'|audience/i, 'its audience (aud) is not this server'],
  [/'nonce'/, 'its nonce is not the expected one'],
  [/'iss'|client_id/, 'its issuer (iss) is not the expected one'],
  [/\btyp\b/, 'its typ header is not the expected one'],
  [/\balg\b|algorithm/i, 'its signing algorithm is not accepted'],
  [/verification failed|signature/i, 'its signature could not be verified'],
];
function libraryHint(e: unknown): string | undefined {
  const texts: string[] = [];
  for (let c: unknown = e, i = 0; c instanceof Error && i < 5; c = c.cause, i++) texts.push(c.message);
  if (e instanceof Oauth2ServerErrorResponseError && e.errorResponse.error_description) texts.push(e.errorResponse.error_description);
  const all = texts.join('\n');
  for (const [re, hint] of HINTS) if (re.test(all)) return hint;
  if (e instanceof ValidationError || (e instanceof Error && e.cause instanceof ValidationError)) return 'it does not have the expected form';
  return undefined;
}

/** Our description of a library error `e` with code `error`, with a hint for the failed check where there is one: `<sentence>: <hint>.` */
export function describeLibraryError(error: string, e: unknown): string {
  const base = ourDescription(error);
  const hint = error === 'use_dpop_nonce' || error === 'server_error' ? undefined : libraryHint(e);
  return hint ? `${base.replace(/\.$/, '')}: ${hint}.` : base;
}

/** An RFC 6749 §5.2 / RFC 6750 §3 error code as a header can carry it; anything else is `fallback`. */
const safeCode = (code: string | undefined, fallback: string) => (code && /^[a-z_]{1,40}$/.test(code) ? code : fallback);

export function fromLibraryError(e: unknown): unknown {
  if (e instanceof ProtocolError) return e;
  if (e instanceof Oauth2ServerErrorResponseError) {
    const error = safeCode(e.errorResponse.error, 'invalid_request');
    return new ProtocolError(error, describeLibraryError(error, e), e.status, { cause: e });
  }
  if (e instanceof Oauth2ResourceUnauthorizedError) {
    const challenge = e.wwwAuthenticateHeaders.find((h) => h.scheme === 'Bearer') ?? { scheme: 'Bearer', error: 'invalid_token' };
    const error = safeCode(challenge.error, 'invalid_token');
    const description = describeLibraryError(error, e);
    // RFC 6750 §3: quoted parameters; our text only (printable ASCII, no quote or backslash), nothing the client sent.
    return new ProtocolError(error, description, 401, {
      headers: { 'WWW-Authenticate': `Bearer error="${error}", error_description="${description.replace(/[^\x20-\x7e]|["\\]/g, '')}"` },
      cause: e,
    });
  }
  if (e instanceof ValidationError) return new ProtocolError('invalid_request', ourDescription('invalid_request'), 400, { cause: e });
  return e;
}

/** Runs a protocol step and rethrows library errors as ProtocolError. */
export async function protocolStep<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw fromLibraryError(e);
  }
}
