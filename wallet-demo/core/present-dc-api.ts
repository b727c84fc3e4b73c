import { planResolved, sendPresentation, type PresentationPlan, type ResolvedVpRequest } from './present.ts';
import { vpClient } from './protocol-clients.ts';
import { fetchableUrl, WalletError, type WalletContext } from './wallet.ts';

/**
 * The wallet's side of OpenID4VP 1.0 over the W3C Digital Credentials API (Appendix A), as a platform
 * wallet sees it: the platform hands over what the web page passed to `navigator.credentials.get`
 * (`{ protocol, data }`) and the page's Origin as the browser authenticated it; the wallet answers
 * with the `data` of the DigitalCredential the page receives. How the platform picks the wallet and
 * transports request and Origin is platform-specific (A.2) and not part of this module.
 *
 * Accepted: `openid4vp-v1-signed` (A.1) with a JWS Compact Request Object in `data.request` (A.3.1),
 * signed by a DID (`decentralized_identifier:`) or a city-CA certificate (`x509_hash:`), checked by
 * @openid4vc/openid4vp exactly as request_uri requests are (present.ts); `expected_origins` must
 * contain the Origin by simple string comparison (A.2), else `invalid_request`; `response_mode`
 * `dc_api.jwt` only (HAIP: encrypted responses). Unsigned requests are refused like unsigned
 * request_uri requests: the trust registry knows relying parties by their signing identity.
 */
export const DC_API_PROTOCOL = 'openid4vp-v1-signed';

const INVALID = 'Die Anfrage ist ungültig. / The request is invalid.';
const WRONG_ORIGIN =
  'Die Anfrage stammt nicht von der Website, für die die prüfende Stelle sie ausgestellt hat; nichts wurde geteilt. / The request does not come from the website the verifier issued it for; nothing was shared.';

/** Reads and checks a DC API request; nothing is sent. The plan then goes to the consent screen. */
export async function prepareDcApiPresentation(ctx: WalletContext, input: { protocol: unknown; data: unknown }, origin: string): Promise<PresentationPlan> {
  if (input.protocol !== DC_API_PROTOCOL) throw new WalletError('invalid_request', INVALID);
  const data = input.data as { request?: unknown } | null;
  if (data === null || typeof data !== 'object' || typeof data.request !== 'string' || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(data.request) || data.request.length > 100_000) throw new WalletError('invalid_request', INVALID);
  // A.2: no unsafe schemes; http only where explicitly allowed for local development (loopback, allowLocalHttp).
  if (!fetchableUrl(origin, ctx.allowLocalHttp) || new URL(origin).origin !== origin) throw new WalletError('invalid_request', WRONG_ORIGIN);
  const client = vpClient(ctx.resolver, {}, ctx.trustedCas ? { anchors: ctx.trustedCas, now: ctx.clock } : undefined);
  let resolved: ResolvedVpRequest;
  try {
    // Signature, typ and client identifier by the library; its expected_origins check is made below on the verified payload, so that a wrong origin is told apart.
    resolved = await client.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: { request: data.request } as never, origin, disableOriginValidation: true });
  } catch {
    throw new WalletError('invalid_request', 'Die Anfrage ist ungültig oder nicht korrekt signiert. / The request is invalid or not correctly signed.');
  }
  const payload = resolved.authorizationRequestPayload as Record<string, unknown>;
  // A.2: "The Wallet MUST compare values in this parameter to the provided Origin ... using simple string comparison".
  const expected = payload.expected_origins;
  if (!Array.isArray(expected) || expected.length === 0 || !expected.includes(origin)) throw new WalletError('invalid_request', WRONG_ORIGIN);
  if (payload.response_mode !== 'dc_api.jwt') throw new WalletError('invalid_request', 'Die Anfrage verlangt keine verschlüsselte Antwort. / The request does not ask for an encrypted response.');
  // §5.9.3: the `origin` prefix is reserved and MUST NOT be accepted in requests (planResolved also allows only DIDs and x509_hash).
  return planResolved(ctx, resolved, origin);
}

/** After consent: the presentation with audience `origin:<origin>` (A.4), encrypted to the verifier's key; the DigitalCredential's `data`. */
export async function answerDcApi(ctx: WalletContext, plan: PresentationPlan, origin: string, choice: Record<string, string> = {}): Promise<{ response: string }> {
  const sent = await sendPresentation(ctx, plan, choice, { dcApiOrigin: origin });
  if (!sent.dcApiResponse) throw new WalletError('invalid_request', INVALID);
  return { response: sent.dcApiResponse };
}

/**
 * Request in, DigitalCredential `data` out, for a caller that has the citizen's consent already (tests,
 * a platform shim that asked). A refusal is a WalletError whose `code` the platform returns as `{ error }` (A.4).
 */
export async function presentOverDcApi(ctx: WalletContext, input: { protocol: unknown; data: unknown }, origin: string, choice: Record<string, string> = {}): Promise<{ response: string }> {
  const plan = await prepareDcApiPresentation(ctx, input, origin);
  if (!plan.registered) throw new WalletError('invalid_request', 'Die prüfende Stelle ist nicht oder nicht dafür eingetragen. / The verifier is not registered for this.');
  return answerDcApi(ctx, plan, origin, choice);
}
