import { REASONS, type ReasonCode } from './verdict.ts';

/**
 * What a counter learns from an answer that did not verify, and why it is never final.
 *
 * A request's `state` (and its nonce) is public to anyone who fetched the request object, so
 * "someone posted an answer with the right state" proves nothing about who posted it. Two rules:
 *
 * 1. Only a response that verifies ends a request (`verified`). A wallet error response (OID4VP 1.0
 *    §8.5, e.g. `access_denied` when the citizen declines) and a presentation that fails verification
 *    leave the request open and answerable by a verifying response until it expires. The status API
 *    reports such a request as docs/contract.md promises (`rejected` with the reasons) and marks it
 *    `final: false`; the counter page keeps waiting for a verifying answer. A third party
 *    holding the state can therefore neither end a counter's request nor fake a final verdict; the
 *    most it can do is set this non-final hint, which a verifying response replaces.
 * 2. Nothing the sender wrote is shown. A wallet error is stored as its code only if the code is on
 *    the OID4VP 1.0 §8.5 / RFC 6749 §4.1.2.1 list (else `other`); `error_description` is dropped.
 *    A failed presentation is stored as our own reason codes (verifier/verdict.ts). The clerk reads
 *    our German/English text for those codes, marked as not final ("Die Wallet hat abgelehnt"), so a
 *    citizen who declined shows as declined while the request can still be answered.
 */

/** OID4VP 1.0 §8.5 and RFC 6749 §4.1.2.1 error codes a wallet may send to the response URI. */
export const WALLET_ERROR_CODES = [
  'access_denied',
  'wallet_unavailable',
  'vp_formats_not_supported',
  'invalid_request',
  'invalid_client',
  'invalid_scope',
  'invalid_request_uri_method',
  'invalid_transaction_data',
  'unauthorized_client',
  'unsupported_response_type',
  'server_error',
  'temporarily_unavailable',
] as const;
export type WalletErrorCode = (typeof WALLET_ERROR_CODES)[number] | 'other';

const DECLINED = 'Die Wallet hat abgelehnt (keine Zustimmung oder kein passender Nachweis); die Anfrage ist weiter offen. / The wallet declined (no consent or no matching credential); the request is still open.';
const FAILED = 'Die Wallet konnte die Anfrage nicht beantworten; die Anfrage ist weiter offen. / The wallet could not answer the request; the request is still open.';

/** Our text for each code; the wallet's own text is never shown. */
export const WALLET_ERROR_TEXT: Record<WalletErrorCode, string> = {
  access_denied: DECLINED,
  wallet_unavailable: 'Die Wallet war nicht erreichbar; die Anfrage ist weiter offen. / The wallet was unavailable; the request is still open.',
  vp_formats_not_supported: 'Die Wallet unterstützt die angefragten Formate nicht; die Anfrage ist weiter offen. / The wallet does not support the requested formats; the request is still open.',
  invalid_request: FAILED,
  invalid_client: FAILED,
  invalid_scope: FAILED,
  invalid_request_uri_method: FAILED,
  invalid_transaction_data: FAILED,
  unauthorized_client: FAILED,
  unsupported_response_type: FAILED,
  server_error: FAILED,
  temporarily_unavailable: FAILED,
  other: FAILED,
};

export type LastAttempt = { kind: 'wallet_error'; error: WalletErrorCode; at: number } | { kind: 'presentation'; codes: ReasonCode[]; at: number };

export function walletErrorCode(error: string): WalletErrorCode {
  return (WALLET_ERROR_CODES as readonly string[]).includes(error) ? (error as WalletErrorCode) : 'other';
}

/** For the store: codes only, bounded (at most 8 distinct reason codes). */
export function encodeAttempt(a: LastAttempt): string {
  return JSON.stringify(a.kind === 'wallet_error' ? a : { ...a, codes: [...new Set(a.codes)].slice(0, 8) });
}

/** Read back, keeping only codes from the closed lists. */
export function parseAttempt(text: string | null | undefined): LastAttempt | undefined {
  if (!text) return undefined;
  try {
    const a = JSON.parse(text) as Record<string, unknown>;
    const at = typeof a.at === 'number' ? a.at : 0;
    if (a.kind === 'wallet_error' && typeof a.error === 'string') return { kind: 'wallet_error', error: walletErrorCode(a.error), at };
    if (a.kind === 'presentation' && Array.isArray(a.codes)) return { kind: 'presentation', codes: a.codes.filter((c): c is ReasonCode => typeof c === 'string' && c in REASONS), at };
  } catch {
    // a row written by something else: no hint
  }
  return undefined;
}

/** The status API's view: not final, our text only. */
export function describeAttempt(a: LastAttempt): Record<string, unknown> {
  const at = new Date(a.at).toISOString();
  if (a.kind === 'wallet_error') return { final: false, kind: 'wallet_error', error: a.error, message: WALLET_ERROR_TEXT[a.error], at };
  return { final: false, kind: 'presentation', errors: a.codes.map((code) => ({ code, message: REASONS[code] })), at };
}
