import { Router, type RequestHandler } from 'express';
import { requireJson } from '../../core/http/app.ts';
import { notFound } from '../../core/http/errors.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import { issueVcApi } from '../use-cases/issue-vc-api.ts';

/**
 * W3C VC-API issuer endpoint per office, for office back-ends (admin-authenticated by `guard`, the
 * same authentication as the admin API). The status lists its credentials point to are served by
 * routes/status-lists.ts.
 */
export function vcApiRoutes(deps: IssuerDeps, guard: RequestHandler[]): Router {
  const r = Router();
  const office = (slug: unknown): Office => {
    const o = deps.offices.get(String(slug));
    if (!o) throw notFound('unknown-office', `No office ${String(slug)}.`);
    return o;
  };

  // VC-API issueCredential: 201 {verifiableCredential} (+ credential_id for the admin status API).
  r.post('/offices/:slug/credentials/issue', ...guard, requireJson, async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const o = office(req.params.slug);
    res.status(201).json(await issueVcApi(deps, o, req.body, String(res.locals.actor)));
  });

  return r;
}
