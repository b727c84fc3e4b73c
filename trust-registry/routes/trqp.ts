import { Router, type Request, type Response } from 'express';
import { signJwt } from '../../core/crypto/jws.ts';
import { requireJson } from '../../core/http/app.ts';
import { notFound } from '../../core/http/errors.ts';
import { parseOrThrow } from '../../core/http/validate.ts';
import { evaluateAuthorization, evaluateRecognition, type Evaluation } from '../../core/trust/evaluate.ts';
import { zTrqpAuthorizationRequest, zTrqpRecognitionRequest } from '../../core/trust/model.ts';
import { toIso, toSeconds } from '../../core/util/time.ts';
import type { Registry } from '../registry.ts';

/** `typ` of a TRQP answer signed by the registry (returned for `Accept: application/jwt`). */
export const TRQP_RESPONSE_TYP = 'trqp-response+jwt';

const NOT_FOUND: Partial<Record<Evaluation['reason'], [string, string]>> = {
  unknown_entity: ['unknown-entity', 'entity_id is not registered'],
  unknown_authority: ['unknown-authority', 'authority_id is not a registered authority'],
  unknown_action: ['unknown-action', 'action is not known to this registry'],
  unknown_resource: ['unknown-resource', 'resource is not a registered credential type'],
};

/**
 * TRQP v2 (Trust over IP, Trust Registry Query Protocol 2.0, core/api.md and the RESTful binding):
 * authorization and recognition queries, with `context.time` for questions about the past.
 * Unknown entity, authority, action or resource: `404` problem details (RESTful binding).
 */
export function trqpRoutes(registry: Registry): Router {
  const r = Router();

  const answer = async (req: Request, res: Response, body: Record<string, unknown>) => {
    res.setHeader('Cache-Control', 'no-store');
    res.vary('Accept');
    if (req.accepts(['application/json', 'application/jwt']) === 'application/jwt') {
      const { identity } = registry.deps;
      const jwt = await signJwt(identity.signer, { ...body, iss: identity.did, iat: toSeconds(registry.clock()) }, { typ: TRQP_RESPONSE_TYP });
      res.type('application/jwt').send(jwt);
      return;
    }
    res.json(body);
  };

  const refuseUnknown = (ev: Evaluation) => {
    const nf = NOT_FOUND[ev.reason];
    if (nf) throw notFound(nf[0], nf[1]);
  };

  r.post('/trqp/authorization', requireJson, async (req, res) => {
    const q = parseOrThrow(zTrqpAuthorizationRequest, req.body, { what: 'TRQP authorization query' });
    const time = q.context?.time ? Date.parse(q.context.time) : registry.clock();
    const ev = evaluateAuthorization(await registry.index(), { entity_id: q.entity_id, authority_id: q.authority_id, action: q.action, resource: q.resource, time });
    refuseUnknown(ev);
    await answer(req, res, {
      entity_id: q.entity_id,
      authority_id: q.authority_id,
      action: q.action,
      resource: q.resource,
      authorized: ev.authorized,
      ...(q.context?.time ? { time_requested: q.context.time } : {}),
      time_evaluated: toIso(time),
      message: ev.message,
      ...(q.context ? { context: q.context } : {}),
    });
  });

  r.post('/trqp/recognition', requireJson, async (req, res) => {
    const q = parseOrThrow(zTrqpRecognitionRequest, req.body, { what: 'TRQP recognition query' });
    const time = q.context?.time ? Date.parse(q.context.time) : registry.clock();
    const ev = evaluateRecognition(await registry.index(), { entity_id: q.entity_id, authority_id: q.authority_id, action: q.action, resource: q.resource, time });
    refuseUnknown(ev);
    await answer(req, res, {
      entity_id: q.entity_id,
      authority_id: q.authority_id,
      ...(q.action ? { action: q.action } : {}),
      ...(q.resource ? { resource: q.resource } : {}),
      recognized: ev.authorized,
      ...(q.context?.time ? { time_requested: q.context.time } : {}),
      time_evaluated: toIso(time),
      message: ev.reason === 'authorized' ? 'recognized' : ev.message,
      ...(q.context ? { context: q.context } : {}),
    });
  });

  return r;
}
