import { z } from 'zod';
import { CREDENTIAL_CONFIGURATIONS } from './credential-configurations.ts';
import { claimsJsonSchema } from './metadata.ts';
import { zCreateOffer } from './use-cases/create-offer.ts';

/**
 * OpenAPI 3.1 description of the issuer's admin API (docs/contract.md, Issuer). Request schemas come from
 * the same zod schemas that validate the requests, so the document cannot drift from the code.
 * The OID4VCI endpoints are described by their specification, not here.
 */
export function openApiDocument(publicUrl: string): Record<string, unknown> {
  const problem = { $ref: '#/components/schemas/Problem' };
  const errors = (...codes: number[]) =>
    Object.fromEntries(codes.map((c) => [String(c), { description: { 400: 'Invalid request (names the field)', 401: 'Missing or wrong bearer token', 404: 'Unknown office, offer or credential', 409: 'Conflict', 413: 'Body over the size limit', 415: 'Body is not JSON' }[c] ?? 'Error', content: { 'application/problem+json': { schema: problem } } }]));
  const slug = { name: 'slug', in: 'path', required: true, schema: { type: 'string', enum: [...new Set(CREDENTIAL_CONFIGURATIONS.map((c) => c.office))] } };
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
        ...Object.fromEntries(CREDENTIAL_CONFIGURATIONS.map((c) => [`Claims_${c.id}`, claimsJsonSchema(c)])),
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
            description: `claims must match the configuration's schema: ${CREDENTIAL_CONFIGURATIONS.map((c) => `#/components/schemas/Claims_${c.id}`).join(', ')}`,
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
      '/api/offices/{slug}/offers/{offer_id}': {
        get: {
          summary: 'Status of an offer and the credentials issued from it',
          parameters: [slug, id('offer_id')],
          responses: {
            '200': { description: 'Offer status', content: { 'application/json': { schema: { type: 'object', properties: { status: { enum: ['pending', 'issued', 'expired'] }, credentials: { type: 'array', items: { type: 'object', properties: { credential_id: { type: 'string' }, format: { type: 'string' }, status: { enum: ['valid', 'revoked', 'suspended'] }, status_list: { $ref: '#/components/schemas/StatusListRef' } } } } } } } } },
            ...errors(401, 404),
          },
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
