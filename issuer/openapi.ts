import { z } from 'zod';
import { zCredentialTypeDef, zOfficeDef } from '../core/catalog/model.ts';
import { openApiComponent } from '../core/catalog/openapi-component.ts';
import type { Office } from './deps.ts';
import { claimsJsonSchema } from './metadata.ts';
import { zCreateOffer } from './use-cases/create-offer.ts';

/**
 * OpenAPI 3.1 description of the issuer's admin API (docs/contract.md, Issuer). Request schemas come from
 * the same zod schemas that validate the requests, so the document cannot drift from the code.
 * The OID4VCI endpoints are described by their specification, not here. The office slugs and the
 * claims schemas are the live catalogue's (issuer/catalog/): the document is rebuilt when its revision moves.
 */
export function openApiDocument(publicUrl: string, offices: ReadonlyMap<string, Office>): Record<string, unknown> {
  const configurations = [...offices.values()].flatMap((o) => [...o.configurations.values()]);
  // `Claims_<configuration id>`; an id two offices use gets the office slug in front.
  const shared = new Set(configurations.map((c) => c.id).filter((id, i, all) => all.indexOf(id) !== i));
  const claimsRef = (c: (typeof configurations)[number]) => `Claims_${shared.has(c.id) ? `${c.office}_` : ''}${c.id}`;
  const problem = { $ref: '#/components/schemas/Problem' };
  const errors = (...codes: number[]) =>
    Object.fromEntries(codes.map((c) => [String(c), { description: { 400: 'Invalid request (names the field)', 401: 'Missing or wrong bearer token', 404: 'Unknown office, offer or credential', 409: 'Conflict', 413: 'Body over the size limit', 415: 'Body is not JSON' }[c] ?? 'Error', content: { 'application/problem+json': { schema: problem } } }]));
  const catalogSchemas: Record<string, unknown> = {};
  openApiComponent('CredentialTypeDef', zCredentialTypeDef, catalogSchemas);
  openApiComponent('OfficeDef', zOfficeDef, catalogSchemas);
  const slug = { name: 'slug', in: 'path', required: true, schema: { type: 'string', enum: [...offices.keys()] } };
  const created = (what: string, key: string, ref: string) => ({
    '200': { description: `${what} changed, or unchanged (changed: false; no audit entry, no new revision)`, content: { 'application/json': { schema: { type: 'object', properties: { changed: { type: 'boolean' }, revision: { type: 'integer' }, [key]: { $ref: ref } }, required: ['changed', 'revision', key] } } } },
    '201': { description: `${what} created`, headers: { Location: { schema: { type: 'string' } } }, content: { 'application/json': { schema: { type: 'object', properties: { changed: { type: 'boolean' }, revision: { type: 'integer' }, [key]: { $ref: ref } }, required: ['changed', 'revision', key] } } } },
  });
  const id = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', format: 'uuid' } });
  const doc = {
    openapi: '3.1.0',
    info: { title: 'ID-Ideal issuer admin API', version: '1', description: 'Clerk and administrator API of the city offices. Errors are RFC 9457 problem details. Authentication: the bootstrap ISSUER_ADMIN_TOKEN or an API key (`npm run apikey`) with role clerk (offers, approvals, VC-API issuance) or administrator (credential status, keys), scoped to an office or `*`.' },
    servers: [{ url: publicUrl }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'ISSUER_ADMIN_TOKEN or an API key `issuer_<id>.<secret>`' } },
      schemas: {
        Problem: { type: 'object', properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, field: { type: 'string' } }, required: ['type', 'title', 'status'] },
        CreateOffer: z.toJSONSchema(zCreateOffer, { io: 'input' }),
        ...Object.fromEntries(configurations.map((c) => [claimsRef(c), claimsJsonSchema(c)])),
        ...catalogSchemas,
        StatusListRef: { type: ['object', 'null'], properties: { uri: { type: 'string', format: 'uri' }, idx: { type: 'integer' } } },
      },
    },
    paths: {
      '/api/offices/{slug}/offers': {
        post: {
          summary: 'Create a credential offer (pre-authorized code with tx_code, by reference)',
          parameters: [slug],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/CreateOffer' } } },
            description: `claims must match the configuration's schema: ${configurations.map((c) => `#/components/schemas/${claimsRef(c)}`).join(', ')}. Derived claims (e.g. an age from a date of birth) may be left out; they are computed, and one sent with another value is refused naming it.`,
          },
          responses: {
            '201': {
              description: 'Offer created; hand the QR code (or link) and the tx_code to the citizen separately',
              content: { 'application/json': { schema: { type: 'object', properties: { offer_id: { type: 'string' }, credential_offer: { type: 'string' }, credential_offer_uri: { type: 'string' }, tx_code: { type: 'string' }, expires_at: { type: 'string', format: 'date-time' } } } } },
            },
            ...errors(400, 401, 404, 413, 415),
          },
        },
      },
      // Issue 15: the catalogue (issuer/catalog/catalog-routes.ts).
      '/api/catalog': {
        get: {
          summary: 'The catalogue: credential types and offices, with its revision',
          responses: {
            '200': { description: 'Catalogue', content: { 'application/json': { schema: { type: 'object', properties: { revision: { type: 'integer' }, credential_types: { type: 'array', items: { $ref: '#/components/schemas/CredentialTypeDef' } }, offices: { type: 'array', items: { $ref: '#/components/schemas/OfficeDef' } } }, required: ['revision', 'credential_types', 'offices'] } } } },
            ...errors(401),
          },
        },
      },
      '/api/catalog/credential-types/{id}': {
        put: {
          summary: 'Create or change a credential type (administrator, scope "*"); takes effect without restart',
          description: 'The body `id` must equal the path. Changed claims apply to new offers; offers already created keep the claims they were created with. The vct of a type that offices issue cannot change (409 type-in-use).',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/CredentialTypeDef' } } } },
          responses: { ...created('Credential type', 'credential_type', '#/components/schemas/CredentialTypeDef'), ...errors(400, 401, 409, 413, 415) },
        },
      },
      '/api/catalog/offices/{slug}': {
        put: {
          summary: 'Create or change an office and its credential configurations (administrator, scope "*")',
          description: 'The body `slug` must equal the path; each configuration names a stored credential type (400 naming the field otherwise). The trust registry must authorize the office DID `did:web:<issuer host>:offices:<slug>` to issue every type now: otherwise 409 `urn:id-ideal:problem:not-authorized-by-registry` (German and English in `detail_i18n`) and nothing is stored. A new office gets its key and DID document at once.',
          parameters: [{ name: 'slug', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/OfficeDef' } } } },
          responses: {
            ...created('Office', 'office', '#/components/schemas/OfficeDef'),
            ...errors(400, 401, 409, 413, 415),
            '503': { description: 'The trust registry cannot be reached; nothing was stored', content: { 'application/problem+json': { schema: problem } } },
          },
        },
      },
      '/api/offices/{slug}/offers/{offer_id}': {
        get: {
          summary: 'Status of an offer and the credentials issued from it',
          parameters: [slug, id('offer_id')],
          responses: {
            '200': { description: 'Offer status', content: { 'application/json': { schema: { type: 'object', properties: { status: { enum: ['pending', 'issued', 'expired'] }, state: { enum: ['waiting', 'awaiting_approval', 'approved', 'collected', 'locked', 'expired'], description: 'For the desk: where the offer stands now' }, credentials: { type: 'array', items: { type: 'object', properties: { credential_id: { type: 'string' }, format: { type: 'string' }, status: { enum: ['valid', 'revoked', 'suspended'] }, status_list: { $ref: '#/components/schemas/StatusListRef' } } } } } } } } },
            ...errors(401, 404),
          },
        },
      },
      '/api/offices/{slug}/offers/{offer_id}/status': {
        post: {
          summary: 'Revoke, suspend or reinstate every credential issued for an offer (all batch copies, one transaction)',
          description: 'Administrator of the office. Rules as for one credential: revocation is final (409 credential-revoked), jwt_vc_json cannot be suspended (409 status-not-supported); a refusal changes no copy; 409 offer-not-issued before issuance. One audit entry per copy that changes; `changed` counts them.',
          parameters: [slug, id('offer_id')],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { status: { enum: ['revoked', 'suspended', 'valid'] } }, required: ['status'], additionalProperties: false } } } },
          responses: { '200': { description: 'Status of all copies' }, ...errors(400, 401, 404, 409, 415) },
        },
      },
      '/api/offices/{slug}/offers/{offer_id}/qr.svg': {
        get: { summary: 'The offer as a QR code (SVG; ?format=png for PNG)', parameters: [slug, id('offer_id')], responses: { '200': { description: 'QR code', content: { 'image/svg+xml': {}, 'image/png': {} } }, ...errors(401, 404) } },
      },
      '/api/offices/{slug}/offers/{offer_id}/approve': {
        post: { summary: 'Approve an offer created with "approval": "manual" (deferred issuance)', parameters: [slug, id('offer_id')], responses: { '200': { description: 'Approved' }, ...errors(401, 404, 409) } },
      },
      '/api/offices/{slug}/credentials/{credential_id}/status': {
        post: {
          summary: 'Revoke, suspend or reinstate an issued credential (status list)',
          parameters: [slug, id('credential_id')],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { status: { enum: ['revoked', 'suspended', 'valid'] } }, required: ['status'], additionalProperties: false } } } },
          responses: { '200': { description: 'Status changed' }, ...errors(400, 401, 404, 409) },
        },
      },
      // Issue 7: W3C VC-API issueCredential for office back-ends (issuer/routes/vc-api.ts).
      '/offices/{slug}/credentials/issue': {
        post: {
          summary: 'W3C VC-API: issue a credential (VCDM 1.1 as VC-JWT; VCDM 2.0 secured with VC-JOSE-COSE)',
          description:
            'Body `{credential, options}`. `credential` is an unsecured VCDM 1.1 or 2.0 credential whose `type` names a registered credential type (e.g. `Bibliotheksausweis`) and whose single `credentialSubject` holds that type\'s claims; `issuer` may be left out (it is the office\'s DID). Only bundled JSON-LD contexts are accepted. The office must be authorized for the type in the trust registry (403 otherwise). Status entries (W3C Bitstring Status List) are added by the issuer; revoke or suspend with `POST /api/offices/{slug}/credentials/{credential_id}/status`.',
          parameters: [slug],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { credential: { type: 'object' }, options: { type: 'object' } }, required: ['credential'] } } } },
          responses: {
            '201': {
              description: 'Issued. VCDM 2.0: `verifiableCredential` is an EnvelopedVerifiableCredential whose `id` is `data:application/vc+jwt,<JWS>`; VCDM 1.1: the VC-JWT (compact JWS).',
              content: { 'application/json': { schema: { type: 'object', properties: { verifiableCredential: { oneOf: [{ type: 'string' }, { type: 'object', properties: { '@context': { type: 'array', items: { type: 'string' }, prefixItems: [{ const: 'https://www.w3.org/ns/credentials/v2' }] }, id: { type: 'string' }, type: { const: 'EnvelopedVerifiableCredential' } } }] }, credential_id: { type: 'string', format: 'uuid' } } } } },
            },
            ...errors(400, 401, 404, 413, 415),
            '403': { description: 'The registry does not authorize this office for the credential type (or the key lacks the role)', content: { 'application/problem+json': { schema: problem } } },
            '503': { description: 'The trust registry cannot be reached', content: { 'application/problem+json': { schema: problem } } },
          },
        },
      },
    },
  };
  // Every operation may also answer 403 (key outside its office or role) and 429 (failed logins over the limit).
  for (const item of Object.values(doc.paths) as Record<string, { responses: Record<string, unknown> }>[]) {
    for (const op of Object.values(item)) {
      op.responses['403'] ??= { description: 'The API key lacks the role or the office scope', content: { 'application/problem+json': { schema: problem } } };
      op.responses['429'] ??= { description: 'Too many failed logins from this client; see Retry-After', headers: { 'Retry-After': { schema: { type: 'integer' } } }, content: { 'application/problem+json': { schema: problem } } };
    }
  }
  return doc;
}
