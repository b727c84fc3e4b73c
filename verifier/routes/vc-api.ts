import { Router, type RequestHandler } from 'express';
import { requireJson } from '../../core/http/app.ts';
import { vcJoseBitstringLoader } from '../../core/formats/vc-jose-cose/index.ts';
import { BitstringStatusClient } from '../../core/status-list/bitstring-status-client.ts';
import type { VerifierDeps } from '../deps.ts';
import { verifyCredentialRequest, verifyPresentationRequest, type VerifyDeps } from '../use-cases/verify-vc-api.ts';

/**
 * W3C VC-API verifier endpoints (`POST /credentials/verify`, `POST /presentations/verify`), behind
 * `guard` (the admin API's authentication). They answer `200 {verified, checks, warnings, errors}`
 * whenever verification ran; malformed input is a `400` problem.
 */
export function vcApiRoutes(deps: VerifierDeps, guard: RequestHandler[]): Router {
  const r = Router();
  const verify: VerifyDeps = {
    resolver: deps.resolver,
    holders: deps.holders,
    trust: deps.trust,
    bitstring: deps.bitstring,
    bitstringV2: new BitstringStatusClient({ clock: deps.clock, load: vcJoseBitstringLoader({ resolver: deps.resolver, maxAgeMs: deps.settings.statusListMaxAge * 1000 }) }),
    clock: deps.clock,
  };
  r.post('/credentials/verify', ...guard, requireJson, async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await verifyCredentialRequest(verify, req.body));
  });
  r.post('/presentations/verify', ...guard, requireJson, async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await verifyPresentationRequest(verify, req.body));
  });
  return r;
}
