import { Router, type Request, type Response } from 'express';
import { signJwt } from '../../core/crypto/jws.ts';
import { requireJson } from '../../core/http/app.ts';
import { notFound } from '../../core/http/errors.ts';
import { parseOrThrow } from '../../core/http/validate.ts';
import { evaluateAuthorization, evaluateRecognition, type Evaluation } from '../../core/trust/evaluate.ts';
import { zTrqpAuthorizationRequest, zTrqpRecognitionRequest } from '../../core/trust/model.ts';
import { toIso, toSeconds } from '../../core/util/time.ts';
import { correctionMark } from '../corrections.ts';
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
 * The members of an answer: only what the registry defines (TRQP v2 core/api.md,
 * trqp_authorization_response and trqp_recognition_response), each copied from the validated query
 * or set by the evaluation; never the request body. Issue 18: signed answers must not carry
 * whatever a client sent, or a signed registry answer could be made to say anything.
 *
 * Unknown request members are ignored, not refused: the TRQP request schemas leave the top level
 * open and allow further `context` members (`additionalProperties` of type string), so a conforming
 * client may send them. `context` is echoed as "the context object that was supplied for the query
 * that was evaluated" (trqp_authorization_response): of it, this registry evaluates `time` only.
 */
interface AnswerQuery {
  entity_id: string;
  authority_id: string;
  action?: string | undefined;
  resource?: string | undefined;
  context?: { time?: string | undefined } | undefined;
}

function answerBody(kind: 'authorized' | 'recognized', q: AnswerQuery, ev: Evaluation, time: number, mark: ReturnType<typeof correctionMark>): Record<string, unknown> {
  const t = q.context?.time;
  return {
    entity_id: q.entity_id,
    authority_id: q.authority_id,
    ...(q.action !== undefined ? { action: q.action } : {}),
    ...(q.resource !== undefined ? { resource: q.resource } : {}),
    [kind]: ev.authorized,
    ...(t !== undefined ? { time_requested: t } : {}),
    time_evaluated: toIso(time),
    message: kind === 'recognized' && ev.reason === 'authorized' ? 'recognized' : ev.message,
    ...(t !== undefined ? { context: { time: t } } : {}),
    // Issue 18: the answer about a past moment changed by a correction recorded since, marked with
    // what the registry said at that moment and which corrections changed it.
    ...(mark
      ? {
          correction: {
            [`${kind}_as_recorded`]: mark.recorded.authorized,
            message_as_recorded: kind === 'recognized' && mark.recorded.reason === 'authorized' ? 'recognized' : mark.recorded.message,
            corrections: mark.corrections.map((c) => ({ grant_id: c.grant_id, kind: c.kind, effective_at: c.effective_at, recorded_at: c.recorded_at })),
          },
        }
      : {}),
  };
}

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
    const now = registry.clock();
    const time = q.context?.time ? Date.parse(q.context.time) : now;
    const { index, records } = await registry.view();
    const query = { entity_id: q.entity_id, authority_id: q.authority_id, action: q.action, resource: q.resource, time };
    const ev = evaluateAuthorization(index, query);
    refuseUnknown(ev);
    const mark = correctionMark(index.state, records, time, now, ev, (i) => evaluateAuthorization(i, query));
    await answer(req, res, answerBody('authorized', q, ev, time, mark));
  });

  r.post('/trqp/recognition', requireJson, async (req, res) => {
    const q = parseOrThrow(zTrqpRecognitionRequest, req.body, { what: 'TRQP recognition query' });
    const now = registry.clock();
    const time = q.context?.time ? Date.parse(q.context.time) : now;
    const { index, records } = await registry.view();
    const query = { entity_id: q.entity_id, authority_id: q.authority_id, action: q.action, resource: q.resource, time };
    const ev = evaluateRecognition(index, query);
    refuseUnknown(ev);
    const mark = correctionMark(index.state, records, time, now, ev, (i) => evaluateRecognition(i, query));
    await answer(req, res, answerBody('recognized', q, ev, time, mark));
  });

  return r;
}
