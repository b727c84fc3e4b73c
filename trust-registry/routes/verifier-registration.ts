import { Router } from 'express';
import { z } from 'zod';
import { publicCors } from '../../core/http/app.ts';
import { rateLimit } from '../../core/http/rate-limit.ts';
import { parseOrThrow, zDid } from '../../core/http/validate.ts';
import type { Registry } from '../registry.ts';
import { signRegistrationAttestation } from '../verifier-attestation.ts';

export const VERIFIER_ATTESTATION_PATH = '/verifier-attestations';

const zQuery = z.strictObject({ entity_id: zDid });

/**
 * `GET /verifier-attestations?entity_id=<relying party DID>` (docs/contract.md, Trust registry): the
 * relying party's registration attestation, a JWT of `typ` `verifier-registration+jwt` signed by the
 * registry (trust-registry/verifier-attestation.ts), for OID4VP 1.0 §5.1 `verifier_info`. Public, as
 * the snapshot is: what a counter may ask is public information. Rate limited per client like the
 * other public reads (RATE_LIMIT_PUBLIC). 404 for an unknown relying party or one without a
 * registration in force, 409 for a suspended, revoked or expired one (RFC 9457 problem details).
 */
export function verifierRegistrationRoutes(registry: Registry, opts: { perMinute: number; ttlSeconds?: number }): Router {
  const r = Router();
  const limit = rateLimit({ perMinute: opts.perMinute, clock: registry.clock });
  r.get(VERIFIER_ATTESTATION_PATH, publicCors, limit, async (req, res) => {
    const q = parseOrThrow(zQuery, req.query, { what: 'query' });
    const jwt = await signRegistrationAttestation(registry, q.entity_id, opts.ttlSeconds);
    // Each answer is freshly signed; a minute of caching does not matter against a day of validity.
    res.setHeader('Cache-Control', 'public, max-age=60');
    res.type('application/jwt').send(jwt);
  });
  return r;
}
