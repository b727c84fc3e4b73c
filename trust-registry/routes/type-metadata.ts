import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import type { CredentialTypeDef } from '../../core/catalog/model.ts';
import { typeMetadataBytes, typeMetadataIntegrity } from '../../core/catalog/type-metadata.ts';
import { publicCors } from '../../core/http/app.ts';
import { notFound } from '../../core/http/errors.ts';
import { parseOrThrow } from '../../core/http/validate.ts';
import type { Registry } from '../registry.ts';

interface Served {
  bytes: Buffer;
  integrity: string;
}

const zTypeId = z.string().regex(/^[a-z][a-z0-9_]{1,62}$/, 'must be a credential type id');
const zVctQuery = z.strictObject({ vct: z.string().min(3).max(512) });

/**
 * SD-JWT VC Type Metadata served by the registry (draft-ietf-oauth-sd-jwt-vc §6.3.2 "From a
 * Registry"): `GET /vct/{id}` and `GET /vct?vct=<vct>` answer the type's metadata document as the
 * exact octets whose sha256 is the `vct#integrity` the issuer puts into each credential
 * (§"Integrity of Referenced Documents"; core/catalog/type-metadata.ts), so a wallet can check it.
 *
 * A city that prefers https vcts (§6.3.1 "From a URL in the vct Claim") sets each type's vct to
 * `<REGISTRY_PUBLIC_URL>/vct/<id>`: that URL then resolves directly to the same document.
 *
 * The documents are rebuilt only when the catalogue's revision changes (one cheap query per request),
 * so a change made by another registry instance is served at once.
 */
export function typeMetadataRoutes(registry: Registry): Router {
  const r = Router();
  r.use('/vct', publicCors);
  let cache: { revision: number; byId: Map<string, Served>; byVct: Map<string, Served> } | undefined;

  const current = async () => {
    const store = registry.deps.store;
    const revision = await store.typeDefinitionRevision();
    if (cache?.revision === revision) return cache;
    const defs: CredentialTypeDef[] = [...(await store.typeDefinitions()).values()];
    const served = defs.map((d) => [d, { bytes: typeMetadataBytes(d), integrity: typeMetadataIntegrity(d) }] as const);
    cache = { revision, byId: new Map(served.map(([d, s]) => [d.id, s])), byVct: new Map(served.map(([d, s]) => [d.vct, s])) };
    return cache;
  };

  const send = (req: Request, res: Response, s: Served | undefined) => {
    if (!s) throw notFound('unknown-credential-type', 'No credential type with type metadata is registered under this name.');
    // §"Retrieving Documents and Resources via HTTP": a plain GET answering application/json.
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.setHeader('ETag', `"${s.integrity}"`);
    if (req.headers['if-none-match'] === `"${s.integrity}"`) {
      res.status(304).end();
      return;
    }
    res.type('application/json').send(s.bytes);
  };

  r.get('/vct/:id', async (req, res) => {
    const id = parseOrThrow(zTypeId, req.params.id, { what: 'path' });
    send(req, res, (await current()).byId.get(id));
  });
  r.get('/vct', async (req, res) => {
    const q = parseOrThrow(zVctQuery, req.query, { what: 'query' });
    send(req, res, (await current()).byVct.get(q.vct));
  });
  return r;
}
