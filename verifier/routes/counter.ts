import { Router } from 'express';
import { notFound } from '../../core/http/errors.ts';
import { clerkAssets, sendClerkPage } from '../../core/http/pages.ts';
import type { VerifierDeps } from '../deps.ts';
import { COUNTER_CSS, COUNTER_JS, counterPage } from '../pages/counter.ts';
import { counterView } from '../catalog/page-view.ts';

/** The clerk's counter page of each relying party (German default, ?lang=en), with its own CSP: scripts and styles from this origin only. */
export function counterRoutes(deps: VerifierDeps): Router {
  const r = Router();
  r.get('/verifiers/:slug/counter', (req, res) => {
    const lang = req.query.lang === 'en' ? 'en' : 'de';
    const p = deps.rps.get(String(req.params.slug));
    if (!p) throw notFound('unknown-verifier', 'No relying party at this path.');
    // Templates and type display definitions from the catalogue (verifier/catalog/page-view.ts).
    sendClerkPage(res, counterPage(p, lang, deps.walletUrl, counterView(deps, p.slug)));
  });
  clerkAssets(r, 'counter', COUNTER_JS, COUNTER_CSS);
  return r;
}
