import type { FastifyInstance } from 'fastify';
import { actorOf, adminHook, scopeParam, type AdminAccess } from '../../core/http/admin-auth.ts';
import { notFound } from '../../core/http/errors.ts';
import { requireJsonBody } from '../../core/http/fast-lane.ts';
import type { IssuerDeps } from '../deps.ts';
import { createOffer } from '../use-cases/create-offer.ts';

/**
 * `POST /api/offices/{slug}/offers` (docs/contract.md, Issuer): a clerk of the office creates a
 * Credential Offer. The first step of every issuance, so it runs on the fast lane
 * (core/http/fast-lane.ts) beside the OID4VCI routes; the rest of the admin API is issuer/routes/admin.ts.
 */
export function createOfferRoute(r: FastifyInstance, deps: IssuerDeps, access: AdminAccess): void {
  r.post<{ Params: { slug: string } }>(
    '/api/offices/:slug/offers',
    { onRequest: adminHook(access, { role: 'clerk', scope: scopeParam('office') }), preValidation: requireJsonBody },
    async (req, reply) => {
      const o = deps.offices.get(String(req.params.slug));
      if (!o) throw notFound('unknown-office', `No office ${String(req.params.slug)}.`);
      // Audited with the offer, without the claims: which office, which type, when, by whom.
      const created = await createOffer(deps, o, req.body, actorOf(req));
      reply.code(201).header('Location', `/api/offices/${o.slug}/offers/${created.offer_id}`);
      return created;
    },
  );
}
