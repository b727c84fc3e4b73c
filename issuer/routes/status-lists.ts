import { Router, type Response } from 'express';
import { publicCors } from '../../core/http/app.ts';
import { notFound } from '../../core/http/errors.ts';
import { VC_JWT_MEDIA_TYPE } from '../../core/formats/vc-jose-cose/index.ts';
import { STATUS_LIST_MEDIA_TYPE } from '../../core/status-list/token-status-list.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import { bitstringStatusListCredential, bitstringStatusListCredentialV2, statusListToken, type W3cPurpose } from '../status-lists.ts';

/** Seconds a relying party may cache a status list (Token Status List `ttl`; Bitstring Status List §2.2 `ttl`, in ms on the wire). */
const STATUS_LIST_TTL = 300;

/**
 * The offices' status lists, public and with CORS for browser-based holders and verifiers (URL
 * scheme in issuer/status-lists.ts). Each list has exactly one URL: it is the list's `sub` or `id`,
 * which verifiers compare with the URL they fetched.
 */
export function statusListRoutes(deps: IssuerDeps): Router {
  const r = Router();
  const office = (slug: unknown): Office => {
    const o = deps.offices.get(String(slug));
    if (!o) throw notFound('unknown-office', 'No office at this path.');
    return o;
  };
  const noList = () => notFound('unknown-status-list', 'No such status list.');
  /** List numbers as they appear in URLs: 1, 2, … (no sign, no leading zero). List 1 of a W3C list has no number in its URL. */
  const number = (raw: unknown, w3c: boolean): number => {
    if (raw === undefined) return 1;
    const s = String(raw);
    if (!/^[1-9][0-9]{0,8}$/.test(s) || (w3c && s === '1')) throw noList();
    return Number(s);
  };
  const purposeOf = (raw: unknown): W3cPurpose => {
    if (raw !== 'revocation' && raw !== 'suspension') throw noList();
    return raw;
  };
  const send = (res: Response, type: string, body: string | null) => {
    if (body === null) throw noList();
    res.setHeader('Cache-Control', `public, max-age=${Math.min(60, STATUS_LIST_TTL)}`);
    res.type(type).send(body);
  };

  // Token Status List (draft-ietf-oauth-status-list §8.1 request, §8.2 response: application/statuslist+jwt).
  r.get('/offices/:slug/status-lists/:n', publicCors, async (req, res) => {
    const o = office(req.params.slug);
    send(res, STATUS_LIST_MEDIA_TYPE, await statusListToken(deps, o, number(req.params.n, false), STATUS_LIST_TTL));
  });

  // Bitstring Status List v1.0 §2.2 as VCDM 2.0 secured with VC-JOSE-COSE (application/vc+jwt), for VC-API vc+jwt credentials.
  r.get('/offices/:slug/status-lists/w3c/v2/:purpose{/:n}', publicCors, async (req, res) => {
    const o = office(req.params.slug);
    send(res, VC_JWT_MEDIA_TYPE, await bitstringStatusListCredentialV2(deps, o, purposeOf(req.params.purpose), number(req.params.n, true), STATUS_LIST_TTL));
  });

  // W3C Bitstring Status List credentials (VC-JWT) for jwt_vc_json credentials.
  r.get('/offices/:slug/status-lists/w3c/:purpose{/:n}', publicCors, async (req, res) => {
    const o = office(req.params.slug);
    send(res, 'application/jwt', await bitstringStatusListCredential(deps, o, purposeOf(req.params.purpose), number(req.params.n, true), STATUS_LIST_TTL));
  });
  return r;
}
