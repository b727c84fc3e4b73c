import { Oauth2ResourceUnauthorizedError, Oauth2ServerErrorResponseError } from '@openid4vc/oauth2';
import { ValidationError } from '@openid4vc/utils';
import { ProtocolError } from '../core/http/errors.ts';

/**
 * Translates the @openid4vc libraries' errors into our ProtocolError at the boundary, by class and
 * error code, never by message text. Anything else passes on unchanged (and becomes a 500).
 */
export function fromLibraryError(e: unknown): unknown {
  if (e instanceof ProtocolError) return e;
  if (e instanceof Oauth2ServerErrorResponseError) {
    return new ProtocolError(e.errorResponse.error, e.errorResponse.error_description, e.status, { cause: e });
  }
  if (e instanceof Oauth2ResourceUnauthorizedError) {
    const challenge = e.wwwAuthenticateHeaders.find((h) => h.scheme === 'Bearer') ?? { scheme: 'Bearer', error: 'invalid_token' };
    const error = challenge.error ?? 'invalid_token';
    const description = challenge.error_description ?? 'A valid access token is required.';
    // RFC 6750 §3: quoted parameters, nothing the client sent echoed back.
    return new ProtocolError(error, description, 401, {
      headers: { 'WWW-Authenticate': `Bearer error="${error}", error_description="${description.replace(/["\\]/g, '')}"` },
      cause: e,
    });
  }
  if (e instanceof ValidationError) return new ProtocolError('invalid_request', 'The request does not have the expected form.', 400, { cause: e });
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
