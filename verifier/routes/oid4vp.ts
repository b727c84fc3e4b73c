import { Router } from 'express';
import { publicCors } from '../../core/http/app.ts';
import { notFound } from '../../core/http/errors.ts';
import { clerkAssets, sendClerkPage } from '../../core/http/pages.ts';
import type { RelyingParty, VerifierDeps } from '../deps.ts';
import { receiveResponse } from '../use-cases/receive-response.ts';
import { requestObject } from '../use-cases/request-object.ts';
import { COUNTER_CSS, COUNTER_JS, counterPage } from '../pages/counter.ts';
import { counterView } from '../catalog/page-view.ts';

/** The wallet-facing endpoints of each relying party: request_uri (RFC 9101 §5.2) and response_uri (OID4VP 1.0 §8.2). */
export function oid4vpRoutes(deps: VerifierDeps): Router {
  const r = Router();
  const rp = (slug: unknown): RelyingParty => {
    const x = deps.rps.get(String(slug));
    if (!x) throw notFound('unknown-verifier', 'No relying party at this path.');
    return x;
  };

  // The clerk's counter page (German default, ?lang=en). Its own CSP: scripts and styles from this origin only.
  r.get('/verifiers/:slug/counter', (req, res) => {
    const lang = req.query.lang === 'en' ? 'en' : 'de';
    const p = rp(req.params.slug);
    // Templates and type display definitions from the catalogue (verifier/catalog/page-view.ts).
    sendClerkPage(res, counterPage(p, lang, deps.walletUrl, counterView(deps, p.slug)));
  });
  clerkAssets(r, 'counter', COUNTER_JS, COUNTER_CSS);

  r.get('/verifiers/:slug/requests/:id/request.jwt', publicCors, async (req, res) => {
    const id = String(req.params.id);
    if (!/^[0-9a-f-]{36}$/.test(id)) throw notFound('unknown-request', 'No such request.');
    const jwt = await requestObject(deps, rp(req.params.slug), id);
    res.setHeader('Cache-Control', 'no-store');
    // Exactly this media type (RFC 9101 §10.2): res.send() would append "; charset=utf-8".
    res.setHeader('Content-Type', 'application/oauth-authz-req+jwt');
    res.status(200).end(jwt);
  });

  r.post('/verifiers/:slug/response', async (req, res) => {
    const out = await receiveResponse(deps, rp(req.params.slug), req.body);
    res.setHeader('Cache-Control', 'no-store');
    res.json(out);
  });
  return r;
}
