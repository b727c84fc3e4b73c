import express, { Router } from 'express';
import { notFound } from '../../core/http/errors.ts';
import { setErrorStyle } from '../../core/http/error-exit.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import { createAttestationChallenge } from '../oauth/wallet-attestation.ts';

/**
 * The challenge endpoint of each office's authorization server (draft-ietf-oauth-attestation-based-client-auth-07,
 * "Challenge Retrieval", "Challenge Endpoint"): `POST /offices/{slug}/challenge` answers
 * `200 {"attestation_challenge": "…"}` with `Cache-Control: no-store`, no client authentication and no body.
 * Advertised as `challenge_endpoint` in the authorization server metadata (issuer/metadata.ts). The
 * challenge is stateless (issuer/oauth/wallet-attestation.ts), so nothing is stored per call; the
 * endpoint is rate limited per client like the other OAuth endpoints (issuer/service.ts `oauthPath`).
 */
export function attestationChallengeRoutes(deps: Pick<IssuerDeps, 'offices' | 'codes' | 'clock'>): Router {
  const r = Router();
  r.post('/offices/:slug/challenge', (req: express.Request, res: express.Response) => {
    setErrorStyle(res, 'oauth');
    res.setHeader('Cache-Control', 'no-store');
    const office: Office | undefined = deps.offices.get(String(req.params.slug));
    if (!office) throw notFound('unknown-office', 'No office at this path.');
    res.json({ attestation_challenge: createAttestationChallenge(deps, office) });
  });
  return r;
}
