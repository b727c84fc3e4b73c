import { Router } from 'express';
import { publicCors } from '../../core/http/app.ts';
import { notFound } from '../../core/http/errors.ts';
import type { Clock } from '../../core/util/time.ts';
import type { Office } from '../deps.ts';
import { jwtVcIssuerMetadata } from '../jwt-vc-issuer.ts';

/**
 * `GET /.well-known/jwt-vc-issuer/offices/{slug}`: the JWT VC Issuer Metadata of an office (SD-JWT VC §5).
 * §5.1: the well-known string goes between the host and the path of `iss`
 * (`<ISSUER_PUBLIC_URL>/offices/<slug>` -> `<origin>/.well-known/jwt-vc-issuer/offices/<slug>`), so this
 * route assumes ISSUER_PUBLIC_URL has no path of its own, as the OID4VCI metadata route does.
 * Public and cacheable (§4: "SHOULD include an explicit freshness lifetime").
 */
export function jwtVcIssuerMetadataRoutes(offices: () => Map<string, Office>, clock: Clock): Router {
  const r = Router();
  r.get('/.well-known/jwt-vc-issuer/offices/:slug', publicCors, (req, res) => {
    const office = offices().get(String(req.params.slug));
    if (!office) throw notFound('unknown-office', 'No office at this path.');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(jwtVcIssuerMetadata(office, clock()));
  });
  return r;
}
