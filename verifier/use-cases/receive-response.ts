import { compactDecrypt, importJWK, type JWK } from 'jose';
import { DcqlQuery } from 'dcql';
import { z } from 'zod';
import { ProtocolError } from '../../core/http/errors.ts';
import { dcqlSatisfied, type VerifiedInput } from '../dcql-satisfied.ts';
import type { RelyingParty, VerifierDeps } from '../deps.ts';
import type { RequestRow } from '../store/schema.ts';
import { encodeAttempt, walletErrorCode } from '../last-attempt.ts';
import { reason, type Verdict, type VerdictError, type VerifiedCredential } from '../verdict.ts';
import { checkSdJwtPresentation } from '../verify-sd-jwt-presentation.ts';
import { checkVcJwtPresentation } from '../verify-vc-jwt-presentation.ts';

const invalidRequest = (d: string) => new ProtocolError('invalid_request', d);

const zDirectPost = z.looseObject({ vp_token: z.string().max(200_000), state: z.string().max(200) });
/** §8.5: the wallet's error response (e.g. the citizen declined), sent to the response_uri as well. */
const zWalletError = z.looseObject({ error: z.string().max(100).regex(/^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/), error_description: z.string().max(500).optional(), state: z.string().max(200) });
const zDirectPostJwt = z.looseObject({ response: z.string().max(300_000) });
const zInner = z.looseObject({ vp_token: z.union([z.string(), z.record(z.string(), z.unknown())]), state: z.string().max(200).optional() });
/** §8.1: vp_token is a JSON object; each key a credential query id, each value an array of presentations. */
const zVpToken = z.record(z.string().max(64), z.array(z.string().min(1).max(100_000)).min(1).max(10));

/**
 * Parsed here rather than with @openid4vc/openid4vp's parseOpenid4vpAuthorizationResponse, which
 * (0.4.6, measured) cannot read wallet error responses, accepts bare (non-array) vp_token values and
 * keys that are no query id, and needs the request found before it can decrypt; the checks it does
 * make (state, JWE for encrypted modes) are made here too. DCQL matching uses the `dcql` package.
 *
 * Response endpoint (OID4VP 1.0 §8.2 direct_post, §8.3.1 direct_post.jwt). The request is found by
 * `state` and must be pending and unexpired; every presentation is verified and the DCQL query
 * must be satisfied. Only a response that verifies ends the request (one conditional update, so
 * exactly one response wins, also across instances) and only the claims the query asked for are kept.
 * Anything else — a presentation that fails, a wallet error response — leaves the request pending
 * and is noted as a non-final hint of fixed codes (verifier/last-attempt.ts explains why).
 * Nothing of the raw presentation, and no text a wallet sent, is stored or logged.
 */
export async function receiveResponse(deps: VerifierDeps, rp: RelyingParty, body: unknown): Promise<Record<string, unknown>> {
  let vpTokenRaw: unknown;
  let row: RequestRow | null;
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.error === 'string') return walletError(deps, rp, b);
  if (typeof b.response === 'string') {
    const p = zDirectPostJwt.safeParse(b);
    if (!p.success) throw invalidRequest('The response parameter is malformed.');
    const decrypted = await decryptResponse(deps, rp, p.data.response);
    row = decrypted.row;
    vpTokenRaw = decrypted.inner.vp_token;
  } else {
    const p = zDirectPost.safeParse(b);
    if (!p.success) throw invalidRequest('vp_token and state are required (application/x-www-form-urlencoded).');
    row = await deps.store.openRequestByState(p.data.state, deps.clock());
    if (!row || row.rp !== rp.slug) throw invalidRequest('No open presentation request for this state.');
    if (row.response_mode !== 'direct_post') throw invalidRequest('This request expects an encrypted response (direct_post.jwt).');
    vpTokenRaw = p.data.vp_token;
  }
  assertOpen(deps, row);

  const verdict = await evaluate(deps, rp, row, vpTokenRaw);
  await settle(deps, rp, row, verdict);
  if (verdict.errors.some((e) => e.code === 'invalid_presentation' && !e.credential_query_id)) throw invalidRequest('vp_token is not a JSON object of presentations keyed by credential query id.');
  return {};
}

/**
 * Stores what a response earned, the same for every path (direct_post, direct_post.jwt, the DC API in
 * dc-api.ts): a verifying one ends the request with its sealed verdict (exactly one wins, also across
 * instances), any other is noted as a non-final hint of fixed codes.
 */
export async function settle(deps: VerifierDeps, rp: RelyingParty, row: RequestRow, verdict: Verdict): Promise<void> {
  const now = deps.clock();
  if (verdict.verified) {
    // Exactly one verifying response ends the request, also across instances.
    if (!(await deps.store.finishVerified(row.id, now, deps.sealer.seal(JSON.stringify(verdict), row.id), now + deps.settings.resultTtl * 1000))) throw replay();
  } else if (!(await deps.store.noteAttempt(row.id, now, encodeAttempt({ kind: 'presentation', codes: verdict.errors.map((e) => e.code), at: now })))) {
    // Not pending any more: answered, or expired, since `row` was read (by another instance, or in
    // the meantime). Answered as a fresh read would have been.
    const fresh = await deps.store.getRequest(rp.slug, row.id);
    if (fresh) assertOpen(deps, fresh);
  }
  deps.logger.info({ rp: rp.slug, request: row.id, verified: verdict.verified, errors: verdict.errors.map((e) => e.code) }, 'presentation evaluated');
}

const replay = () => new ProtocolError('invalid_request', 'replay: this presentation request has already been answered.');

/** Only a pending, unexpired request takes answers; a verified one refuses them as replays. */
export function assertOpen(deps: VerifierDeps, row: RequestRow): void {
  if (row.status !== 'pending') throw replay();
  if (row.expires_at <= deps.clock()) throw invalidRequest('The presentation request has expired.');
}

/**
 * OID4VP 1.0 §8.5 error response at the response URI. Anyone who knows the state can send one, so
 * it does not end the request: its code, if on the §8.5 / RFC 6749 list, is noted as a non-final
 * hint ("Die Wallet hat abgelehnt") and the request stays answerable until it expires.
 * `error_description` is neither stored, nor logged, nor shown.
 */
async function walletError(deps: VerifierDeps, rp: RelyingParty, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const p = zWalletError.safeParse(body);
  if (!p.success) throw invalidRequest('A wallet error response needs error and state.');
  const row = await deps.store.findByState(p.data.state);
  if (!row || row.rp !== rp.slug) throw invalidRequest('No open presentation request for this state.');
  assertOpen(deps, row);
  const error = walletErrorCode(p.data.error);
  const now = deps.clock();
  if (!(await deps.store.noteAttempt(row.id, now, encodeAttempt({ kind: 'wallet_error', error, at: now })))) throw replay();
  deps.logger.info({ rp: rp.slug, request: row.id, error }, 'wallet error response noted (request stays open)');
  return {};
}

async function decryptResponse(deps: VerifierDeps, rp: RelyingParty, jwe: string): Promise<{ row: RequestRow; inner: z.infer<typeof zInner> }> {
  // The kid names the request (enc-<id>); the key is that request's and no other.
  let header: { kid?: string; alg?: string; enc?: string };
  try {
    header = JSON.parse(Buffer.from(jwe.split('.')[0]!, 'base64url').toString('utf8'));
  } catch {
    throw invalidRequest('The response is not a JWE.');
  }
  const id = typeof header.kid === 'string' && header.kid.startsWith('enc-') ? header.kid.slice(4) : '';
  const row = /^[0-9a-f-]{36}$/.test(id) ? await deps.store.openRequest(rp.slug, id, deps.clock()) : null;
  if (!row) throw invalidRequest('No open presentation request for this response.');
  // A DC API request (dc-api.ts) is answered through the counter page only, with the origin as audience.
  if (row.response_mode !== 'direct_post.jwt') throw invalidRequest('This request is not answered at the response endpoint.');
  const p = zInner.safeParse(await openResponse(deps, row, jwe));
  if (!p.success) throw invalidRequest('The decrypted response has no vp_token.');
  // §8.3: state inside the encrypted response must be this request's.
  if (p.data.state !== row.state) throw invalidRequest('The response state does not match the request.');
  return { row, inner: p.data };
}

/** §8.3: decrypts an encrypted response (ECDH-ES, A128GCM/A256GCM) with the request's own key; the caller checks what is inside. */
export async function openResponse(deps: VerifierDeps, row: RequestRow, jwe: string): Promise<unknown> {
  if (row.status !== 'pending' || !row.enc_key_sealed) throw new ProtocolError('invalid_request', 'replay: this presentation request has already been answered.');
  let inner: unknown;
  try {
    const key = await importJWK(JSON.parse(deps.sealer.open(row.enc_key_sealed, row.id)) as JWK, 'ECDH-ES');
    const { plaintext } = await compactDecrypt(jwe, key, { keyManagementAlgorithms: ['ECDH-ES'], contentEncryptionAlgorithms: ['A128GCM', 'A256GCM'] });
    inner = JSON.parse(new TextDecoder().decode(plaintext));
  } catch {
    throw invalidRequest('The response could not be decrypted.');
  }
  return inner;
}

/**
 * A request's DCQL query as stored (checked when the request was made), parsed once per distinct text:
 * requests from one template share it (issue 16: `DcqlQuery.parse` on every response was 0.9 % of the
 * verifier's busy time). Bounded; read only by the code below and by the dcql library's matcher.
 */
const parsedQueries = new Map<string, DcqlQuery>();
function storedQuery(text: string): DcqlQuery {
  let q = parsedQueries.get(text);
  if (!q) {
    q = DcqlQuery.parse(JSON.parse(text));
    if (parsedQueries.size >= 256) parsedQueries.clear();
    parsedQueries.set(text, q);
  }
  return q;
}

/**
 * Verifies a vp_token against the request's DCQL query and nonce. `audience` is what the KB-JWT / VP
 * `aud` must be: the client_id (§8.6, Appendix B), or `origin:<origin>` over the DC API (Appendix A.4).
 */
export async function evaluate(deps: VerifierDeps, rp: RelyingParty, row: RequestRow, raw: unknown, audience: string = rp.clientId): Promise<Verdict> {
  let vpToken: z.infer<typeof zVpToken>;
  try {
    const parsed = typeof raw === 'string' ? JSON.parse(raw) : raw;
    vpToken = zVpToken.parse(parsed);
  } catch {
    return { verified: false, errors: [reason('invalid_presentation')], warnings: [], credentials: [] };
  }
  const query = storedQuery(row.dcql_query);
  const byId = new Map(query.credentials.map((c) => [c.id, c]));
  const errors: VerdictError[] = [];
  const warnings: string[] = [];
  const credentials: VerifiedCredential[] = [];
  const dcqlInput: Record<string, VerifiedInput[]> = {};
  const now = deps.clock();

  for (const [queryId, presentations] of Object.entries(vpToken)) {
    const cq = byId.get(queryId);
    if (!cq) {
      errors.push(reason('query_not_satisfied', queryId, 'not asked for'));
      continue;
    }
    if (cq.format !== 'dc+sd-jwt' && cq.format !== 'jwt_vc_json') {
      errors.push(reason('invalid_presentation', queryId, `format ${cq.format} not supported`));
      continue;
    }
    if (presentations.length > 1 && !cq.multiple) {
      errors.push(reason('query_not_satisfied', queryId, 'more presentations than asked for'));
      continue;
    }
    const paths = cq.claims?.map((c) => c.path as (string | number | null)[]) ?? [];
    if (cq.format === 'jwt_vc_json') {
      for (const presentation of presentations) {
        const r = await checkVcJwtPresentation({ resolver: deps.resolver, holders: deps.holders, trust: () => deps.trust.index(), bitstring: deps.bitstring }, { presentation, nonce: row.nonce, clientId: audience, now, queryId });
        if (!Array.isArray(r)) {
          errors.push(r.error);
          continue;
        }
        for (const c of r) {
          warnings.push(...c.warnings);
          (dcqlInput[queryId] ??= []).push({ credential_format: 'jwt_vc_json', type: c.types, claims: { credentialSubject: c.claims }, cryptographic_holder_binding: true });
          const kept = onlyRequested({ credentialSubject: c.claims }, paths).credentialSubject as Record<string, unknown> | undefined;
          credentials.push({ credential_query_id: queryId, vct: c.vct, issuer: c.issuer, issuer_name: c.issuer_name, claims: kept ?? {} });
        }
      }
      continue;
    }
    for (const presentation of presentations) {
      const r = await checkSdJwtPresentation(
        { resolver: deps.resolver, trust: () => deps.trust.index(), status: deps.status, offlineGrace: deps.settings.statusOfflineGrace, ...(deps.trustedCas ? { trustedCas: () => deps.trustedCas!.list() } : {}) },
        { presentation, nonce: row.nonce, clientId: audience, now, queryId },
      );
      if (!r.ok) {
        errors.push(r.error);
        continue;
      }
      warnings.push(...r.warnings);
      (dcqlInput[queryId] ??= []).push({ credential_format: 'dc+sd-jwt', vct: r.vct, claims: r.claims, cryptographic_holder_binding: true });
      credentials.push({ credential_query_id: queryId, vct: r.vct, issuer: r.issuer, issuer_name: r.issuer_name, claims: onlyRequested(r.claims, paths) });
    }
  }

  if (errors.length === 0) {
    // OID4VP 1.0 §6.4 and §8.6 step 3: the verified presentations together must satisfy the query.
    if (!dcqlSatisfied(query, dcqlInput)) errors.push(reason('query_not_satisfied'));
  }
  return { verified: errors.length === 0, errors, warnings, credentials: errors.length === 0 ? credentials : [] };
}

/** Keeps only the claims a query asked for (claims path pointers, OID4VP 1.0 §7); everything else is dropped. */
export function onlyRequested(claims: Record<string, unknown>, paths: (string | number | null)[][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    let src: unknown = claims;
    let dst: Record<string, unknown> = out;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      if (typeof seg !== 'string' || src === null || typeof src !== 'object' || !(seg in (src as object))) break;
      const value = (src as Record<string, unknown>)[seg];
      if (i === path.length - 1) dst[seg] = value;
      else {
        dst = (dst[seg] ??= {}) as Record<string, unknown>;
        src = value;
      }
    }
  }
  return out;
}
