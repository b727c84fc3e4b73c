import type { FastifyInstance } from 'fastify';
import { notFound } from '../../core/http/errors.ts';
import type { RelyingParty, VerifierDeps } from '../deps.ts';
import { receiveResponse } from '../use-cases/receive-response.ts';
import { requestObject } from '../use-cases/request-object.ts';

/**
 * The wallet-facing endpoints of each relying party: request_uri (RFC 9101 §5.2) and response_uri
 * (OID4VP 1.0 §8.2). Mounted on the service's fast lane (core/http/fast-lane.ts): the wallet's hot routes.
 */
export function oid4vpRoutes(r: FastifyInstance, deps: VerifierDeps): void {
  const rp = (slug: unknown): RelyingParty => {
    const x = deps.rps.get(String(slug));
    if (!x) throw notFound('unknown-verifier', 'No relying party at this path.');
    return x;
  };

  r.get<{ Params: { slug: string; id: string } }>('/verifiers/:slug/requests/:id/request.jwt', async (req, reply) => {
    const id = String(req.params.id);
    if (!/^[0-9a-f-]{36}$/.test(id)) throw notFound('unknown-request', 'No such request.');
    const jwt = await requestObject(deps, rp(req.params.slug), id);
    // Exactly this media type (RFC 9101 §10.2), without a charset parameter; public, as the wallet may be a web page.
    reply.header('Access-Control-Allow-Origin', '*').header('Cache-Control', 'no-store').type('application/oauth-authz-req+jwt');
    return jwt;
  });

  r.post<{ Params: { slug: string } }>('/verifiers/:slug/response', async (req, reply) => {
    const out = await receiveResponse(deps, rp(req.params.slug), req.body);
    reply.header('Cache-Control', 'no-store');
    return out;
  });
}

