import { Router } from 'express';
import { notFound } from '../../core/http/errors.ts';
import { clerkAssets, sendClerkPage } from '../../core/http/pages.ts';
import type { IssuerDeps } from '../deps.ts';
import { DESK_CSS, DESK_JS, deskPage } from '../pages/desk.ts';

/**
 * The clerk's desk page of each office (German default, ?lang=en) with its own CSP, and its
 * script and style sheet. The page holds no secret: it calls the admin API with the access key the
 * clerk types in. Rendered per request from the office's current credential configurations, so a
 * catalogue change shows on the next load.
 */
export function deskRoutes(deps: Pick<IssuerDeps, 'offices' | 'walletUrl'>): Router {
  const r = Router();
  r.get('/offices/:slug/desk', (req, res) => {
    const o = deps.offices.get(String(req.params.slug));
    if (!o) throw notFound('unknown-office', 'No office at this path.');
    sendClerkPage(res, deskPage(o, req.query.lang === 'en' ? 'en' : 'de', deps.walletUrl));
  });
  clerkAssets(r, 'desk', DESK_JS, DESK_CSS);
  return r;
}
