import { Router, type RequestHandler } from 'express';
import { publicCors, requireJson } from '../../core/http/app.ts';
import { notFound } from '../../core/http/errors.ts';
import { VC_JWT_MEDIA_TYPE } from '../../core/formats/vc-jose-cose/index.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import { bitstringStatusListCredentialV2, issueVcApi } from '../use-cases/issue-vc-api.ts';

/** Seconds a relying party may cache a status list (Bitstring Status List §2.2 `ttl`, in ms on the wire). */
const STATUS_LIST_TTL = 300;

/**
 * W3C VC-API issuer endpoint per office, for office back-ends (admin-authenticated by `guard`, the
 * same authentication as the admin API), and the public VCDM 2.0 status list credentials that the
 * `vc+jwt` credentials point to.
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

  // Bitstring Status List v1.0 §2.2 as VCDM 2.0 secured with VC-JOSE-COSE (application/vc+jwt).
  r.get('/offices/:slug/status-lists/w3c/v2/:purpose', publicCors, async (req, res) => {
    const o = office(req.params.slug);
    const purpose = req.params.purpose;
    if (purpose !== 'revocation' && purpose !== 'suspension') throw notFound('unknown-status-list', 'No such status list.');
    res.setHeader('Cache-Control', `public, max-age=${Math.min(60, STATUS_LIST_TTL)}`);
    res.type(VC_JWT_MEDIA_TYPE).send(await bitstringStatusListCredentialV2(deps, o, purpose, STATUS_LIST_TTL));
  });
  return r;
}
