import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AuditLog } from '../../core/access/api-key-store.ts';
import { noStore, requireJson } from '../../core/http/app.ts';
import { authorize, scopeParam, type AdminAccess } from '../../core/http/admin-auth.ts';
import { notFound, ProblemError, ProtocolError } from '../../core/http/errors.ts';
import { parseOrThrow } from '../../core/http/validate.ts';
import type { RelyingParty, VerifierDeps } from '../deps.ts';
import { createDcApiRequest, receiveDcApiResponse } from '../use-cases/dc-api.ts';

const zId = z.string().regex(/^[0-9a-f-]{36}$/, 'must be an id');

/**
 * The counter page's two DC API calls (OID4VP 1.0 Appendix A), part of the counter API: behind the
 * clerk's bearer token or API key for this counter (`verifier:<slug>`), answered as RFC 9457 problem
 * JSON. A refused answer keeps the protocol's code (`invalid_request`) as the `error` member.
 * - `POST /api/verifiers/{slug}/dc-api/requests` `{template}` or `{dcql_query}` -> `201 {request_id,
 *   expires_at, protocol: "openid4vp-v1-signed", data: {request}}`: what the page passes to
 *   `navigator.credentials.get({ digital: { requests: [{ protocol, data }] } })`.
 * - `POST /api/verifiers/{slug}/requests/{id}/dc-api-response` `{protocol, data}` (the DigitalCredential)
 *   -> `200 {request_id, status: "verified" | "rejected", final, errors: [{code}]}`; the verdict is
 *   then read as for every request at `GET /api/verifiers/{slug}/requests/{id}`.
 */
export function dcApiRoutes(deps: VerifierDeps, access: AdminAccess, audit: AuditLog): Router {
  const r = Router();
  const clerk: RequestHandler[] = [access.authenticate, noStore, authorize({ role: 'clerk', scope: scopeParam('verifier') }), requireJson];
  const rp = (slug: unknown): RelyingParty => {
    const x = deps.rps.get(String(slug));
    if (!x) throw notFound('unknown-verifier', `No relying party ${String(slug)}.`);
    return x;
  };

  r.post('/api/verifiers/:slug/dc-api/requests', ...clerk, async (req, res) => {
    const p = rp(req.params.slug);
    const created = await createDcApiRequest(deps, p, req.body);
    // Audited like every request, without the query's claims.
    await audit.append({ at: new Date(deps.clock()).toISOString(), actor: String(res.locals.actor), action: 'request.create', target: created.request_id, details: { verifier: p.slug, template: (req.body as { template?: unknown }).template ?? null, via: 'dc_api' } });
    res.status(201).location(`/api/verifiers/${p.slug}/requests/${created.request_id}`).json(created);
  });

  r.post('/api/verifiers/:slug/requests/:id/dc-api-response', ...clerk, async (req, res) => {
    const p = rp(req.params.slug);
    const id = parseOrThrow(zId, req.params.id, { what: 'path' });
    try {
      res.json(await receiveDcApiResponse(deps, p, id, req.body));
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      throw new ProblemError({ status: 400, code: 'invalid-dc-api-response', title: 'Invalid request', detail: e.description ?? e.error, extra: { error: e.error } });
    }
  });
  return r;
}
