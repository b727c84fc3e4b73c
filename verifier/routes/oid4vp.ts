import { Router } from 'express';
import { publicCors } from '../../core/http/app.ts';
import { notFound } from '../../core/http/errors.ts';
import type { RelyingParty, VerifierDeps } from '../deps.ts';
import { receiveResponse } from '../use-cases/receive-response.ts';
import { requestObject } from '../use-cases/request-object.ts';

/** The wallet-facing endpoints of each relying party: request_uri (RFC 9101 §5.2) and response_uri (OID4VP 1.0 §8.2). */
export function oid4vpRoutes(deps: VerifierDeps): Router {
  const r = Router();
  const rp = (slug: unknown): RelyingParty => {
    const x = deps.rps.get(String(slug));
    if (!x) throw notFound('unknown-verifier', 'No relying party at this path.');
    return x;
  };

  r.get('/verifiers/:slug/requests/:id/request.jwt', publicCors, async (req, res) => {
    const id = String(req.params.id);
    if (!/^[0-9a-f-]{36}$/.test(id)) throw notFound('unknown-request', 'No such request.');
    const jwt = await requestObject(deps, rp(req.params.slug), id);
    res.setHeader('Cache-Control', 'no-store');
    res.type('application/oauth-authz-req+jwt').send(jwt);
  });

  r.post('/verifiers/:slug/response', async (req, res) => {
    const out = await receiveResponse(deps, rp(req.params.slug), req.body);
    res.setHeader('Cache-Control', 'no-store');
    res.json(out);
  });
  return r;
}
