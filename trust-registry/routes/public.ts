import { Router } from 'express';
import { publicCors } from '../../core/http/app.ts';
import { notFound } from '../../core/http/errors.ts';
import { ALLOWED_ALGS } from '../../core/crypto/jws.ts';
import { SNAPSHOT_TYP } from '../../core/trust/snapshot.ts';
import { ACTIONS } from '../../core/trust/model.ts';
import { toSeconds } from '../../core/util/time.ts';
import type { AuthorityKeys } from '../authority-keys.ts';
import type { Registry } from '../registry.ts';
import { TRQP_RESPONSE_TYP } from './trqp.ts';
import { typeMetadataRoutes } from './type-metadata.ts';

/** Public documents: registry metadata, DID documents, the latest signed snapshot, SD-JWT VC type metadata. */
export function publicRoutes(registry: Registry, publicUrl: string, authorityKeys?: AuthorityKeys): Router {
  const r = Router();
  // CORS only where a browser needs it (issue 9): the public documents and TRQP, never /api.
  r.use(['/.well-known', '/authorities', '/snapshots', '/trqp'], publicCors);

  r.get('/.well-known/trust-registry', async (_req, res) => {
    const index = await registry.index();
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json({
      registry_did: registry.deps.identity.did,
      authority_id: registry.deps.rootAuthority,
      name: index.entities.get(registry.deps.rootAuthority)?.name,
      trqp_version: '2.0',
      authorization_endpoint: `${publicUrl}/trqp/authorization`,
      recognition_endpoint: `${publicUrl}/trqp/recognition`,
      snapshot_url: `${publicUrl}/snapshots/latest`,
      // Registration attestations of relying parties, sent by verifiers as OID4VP 1.0 §5.1 `verifier_info` (docs/contract.md).
      verifier_attestation_endpoint: `${publicUrl}/verifier-attestations`,
      snapshot_typ: SNAPSHOT_TYP,
      signed_response_typ: TRQP_RESPONSE_TYP,
      signing_alg_values_supported: [...ALLOWED_ALGS],
      supported_actions: [...ACTIONS],
      credential_types: index.state.credential_types,
    });
  });

  r.get('/.well-known/did.json', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('application/did+json').send(JSON.stringify(registry.deps.identity.document()));
  });

  r.get('/authorities/:slug/did.json', async (req, res) => {
    const did = `${registry.deps.identity.did}:authorities:${req.params.slug}`;
    // A department created at runtime, possibly by another registry instance (authority-keys.ts).
    const identity = registry.deps.hosted.get(did) ?? (await authorityKeys?.lookup(did));
    if (!identity) throw notFound('unknown-did', 'No DID document at this path.');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('application/did+json').send(JSON.stringify(identity.document()));
  });

  r.get('/snapshots/latest', async (_req, res) => {
    const snap = await registry.latestSnapshot();
    const left = Math.max(0, snap.next_update - toSeconds(registry.clock()));
    res.setHeader('Cache-Control', `public, max-age=${Math.min(60, left)}`);
    res.setHeader('X-Snapshot-Seq', String(snap.seq));
    res.type('application/jwt').send(snap.jws);
  });

  r.use(typeMetadataRoutes(registry));

  return r;
}
