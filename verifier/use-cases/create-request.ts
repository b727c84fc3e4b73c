import { randomUUID } from 'node:crypto';
import { DcqlQuery } from 'dcql';
import type { AuditLog } from '../../core/access/api-key-store.ts';
import type { AuditInput } from '../../core/audit/audit-table.ts';
import { exportJWK, generateKeyPair } from 'jose';
import { z } from 'zod';
import { badRequest, notFound, ProblemError } from '../../core/http/errors.ts';
import { parseOrThrow } from '../../core/http/validate.ts';
import { toIso } from '../../core/util/time.ts';
import type { RelyingParty, VerifierDeps } from '../deps.ts';
import { refusalOf } from '../catalog/registry-check.ts';
import { pooledRandomBytes } from '../../core/crypto/random.ts';

export const zCreateRequest = z
  .strictObject({
    template: z.string().min(1).max(64).optional(),
    dcql_query: z.record(z.string(), z.unknown()).optional(),
    /** OID4VP 1.0 §8.2 `direct_post` (default) or §8.3.1 `direct_post.jwt` (response encrypted to a per-request key). */
    response_mode: z.enum(['direct_post', 'direct_post.jwt']).default('direct_post'),
  })
  .refine((b) => (b.template === undefined) !== (b.dcql_query === undefined), { message: 'give either template or dcql_query', path: ['template'] });

/**
 * A counter asks only for what the trust registry lets it ask (its `verify` grants and their
 * claims): the same evaluation the wallet runs before it shows the request to the citizen.
 */
async function requireRegistration(deps: Pick<VerifierDeps, 'trust' | 'clock'>, rp: RelyingParty, query: DcqlQuery): Promise<void> {
  let index;
  try {
    index = await deps.trust.index();
  } catch {
    throw new ProblemError({ status: 503, code: 'trust-registry-unavailable', title: 'Service unavailable', detail: 'The trust registry cannot be reached; no request is created without its word.' });
  }
  const r = refusalOf(index, rp.identity.did, query, deps.clock(), 'dcql_query');
  if (r) {
    const detail = r.kind === 'claims' ? `${r.vct}: not registered for ${r.excess.map((p) => p.join('.')).join(', ')}` : `${r.vct}: ${r.message}`;
    throw new ProblemError({ status: 403, code: 'exceeds-registration', title: 'Forbidden', detail: `This counter may not ask for that (${detail}).` });
  }
}

export const requestUri = (deps: Pick<VerifierDeps, 'publicUrl'>, rp: RelyingParty, id: string) => `${deps.publicUrl}/verifiers/${rp.slug}/requests/${id}/request.jwt`;
export const responseUri = (deps: Pick<VerifierDeps, 'publicUrl'>, rp: RelyingParty) => `${deps.publicUrl}/verifiers/${rp.slug}/response`;

/**
 * A counter's presentation request: a DCQL query (template or given, validated with `dcql`), a
 * fresh nonce and state, and for `direct_post.jwt` an ephemeral ECDH-ES key. The wallet gets
 * `openid4vp://?client_id=…&request_uri=…` (OID4VP 1.0 §5.7, RFC 9101 §5.2).
 */
/**
 * `opts.dcApi` (verifier/use-cases/dc-api.ts): an encrypted request answered over the W3C Digital
 * Credentials API, stored as `dc_api.jwt` so that neither request_uri nor the response endpoint
 * ever serve or take it. Not a body member: a client cannot ask for it here.
 */
export async function createRequest(deps: Pick<VerifierDeps, 'store' | 'sealer' | 'clock' | 'settings' | 'publicUrl' | 'trust'>, rp: RelyingParty, body: unknown, opts: { dcApi?: boolean; record?: { log: AuditLog; entry: (requestId: string) => AuditInput } } = {}) {
  const input = parseOrThrow(zCreateRequest, body);
  let query: unknown;
  let parsed: DcqlQuery;
  if (input.template !== undefined) {
    // The relying party's own templates (catalogue), their DCQL parsed and validated when stored.
    const t = rp.templates.get(input.template);
    if (!t) throw notFound('unknown-template', `No template ${input.template} at ${rp.slug}; known: ${[...rp.templates.keys()].join(', ') || 'none'}.`);
    query = t.dcql_query;
    parsed = t.parsed;
  } else {
    query = input.dcql_query;
    try {
      parsed = DcqlQuery.parse(query as never);
      DcqlQuery.validate(parsed);
    } catch (e) {
      throw badRequest(`dcql_query: ${(e as Error).message.split('\n')[0]!.slice(0, 300)}`, { field: 'dcql_query' });
    }
  }
  await requireRegistration(deps, rp, parsed);

  const id = randomUUID();
  const now = deps.clock();
  let encKey: string | null = null;
  if (input.response_mode === 'direct_post.jwt' || opts.dcApi) {
    const { privateKey } = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
    encKey = deps.sealer.seal(JSON.stringify(await exportJWK(privateKey)), id);
  }
  const expiresAt = now + deps.settings.requestTtl * 1000;
  await deps.store.insertRequest({
    id,
    rp: rp.slug,
    nonce: pooledRandomBytes(24).toString('base64url'),
    state: pooledRandomBytes(24).toString('base64url'),
    dcql_query: JSON.stringify(query),
    response_mode: opts.dcApi ? 'dc_api.jwt' : input.response_mode,
    enc_key_sealed: encKey,
    status: 'pending',
    result_sealed: null,
    created_at: toIso(now),
    expires_at: expiresAt,
    result_expires_at: null,
  }, opts.record && { log: opts.record.log, entry: opts.record.entry(id) });
  const authorization_request = `openid4vp://?client_id=${encodeURIComponent(rp.clientId)}&request_uri=${encodeURIComponent(requestUri(deps, rp, id))}`;
  return { request_id: id, authorization_request, expires_at: toIso(expiresAt) };
}
