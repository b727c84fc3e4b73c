import { z } from 'zod';
import { zCredentialTypeDef, zRelyingPartyDef } from '../core/catalog/model.ts';
import { zCreateRequest } from './use-cases/create-request.ts';

/**
 * OpenAPI 3.1 description of the verifier's own APIs: the counter requests API, the catalogue API
 * (issue 15) and the W3C VC-API verification endpoints. Request schemas come from the zod schemas
 * that validate the requests, so the document cannot drift from the code. The wallet-facing
 * endpoints (request_uri, response_uri) are described by OpenID for Verifiable Presentations 1.0.
 */
export function openApiDocument(publicUrl: string): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  const component = (name: string, schema: z.ZodType) => {
    schemas[name] = asComponent(name, z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>, schemas);
    return { $ref: `#/components/schemas/${name}` };
  };
  component('CreateRequest', zCreateRequest);
  component('CredentialTypeDef', zCredentialTypeDef);
  component('RelyingPartyDef', zRelyingPartyDef);
  const problem = { $ref: '#/components/schemas/Problem' };
  const DESCRIPTIONS: Record<number, string> = {
    400: 'Invalid request (names the field)',
    401: 'Missing or wrong bearer token',
    404: 'Unknown relying party, template or request',
    409: 'Refused: not authorized by the trust registry (type urn:id-ideal:problem:not-authorized-by-registry), or a conflict',
    413: 'Body over the size limit',
    415: 'Body is not JSON',
    503: 'The trust registry cannot be reached',
  };
  const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), { description: DESCRIPTIONS[c] ?? 'Error', content: { 'application/problem+json': { schema: problem } } }]));
  const slug = { name: 'slug', in: 'path', required: true, description: 'Relying party (counter) slug', schema: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,62}$' } };
  const requestId = { name: 'request_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
  const json = (schema: unknown) => ({ 'application/json': { schema } });
  const putResult = (member: string, ref: string) => ({
    type: 'object',
    properties: { created: { type: 'boolean' }, changed: { type: 'boolean', description: 'false for a body identical to the stored one (nothing written, no audit entry)' }, revision: { type: 'integer' }, [member]: { $ref: ref } },
    required: ['created', 'changed', 'revision', member],
  });
  const verifyResult = { type: 'object', properties: { verified: { type: 'boolean' }, checks: { type: 'array', items: { type: 'string' } }, warnings: { type: 'array' }, errors: { type: 'array' } }, required: ['verified'] };
  const doc = {
    openapi: '3.1.0',
    info: {
      title: 'ID-Ideal verifier API',
      version: '1',
      description:
        'Counter API of the relying parties, the catalogue of relying parties, templates and credential type display definitions, and W3C VC-API verification. Errors are RFC 9457 problem details (`urn:id-ideal:problem:*`). Authentication: the bootstrap VERIFIER_ADMIN_TOKEN or an API key (`npm run apikey`): role clerk scoped to `verifier:<slug>` for requests, administrator with scope `*` for catalogue changes.',
    },
    servers: [{ url: publicUrl }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'VERIFIER_ADMIN_TOKEN or an API key `verifier_<id>.<secret>`' } },
      schemas: {
        Problem: { type: 'object', properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, detail_i18n: { type: 'object', properties: { de: { type: 'string' }, en: { type: 'string' } } }, field: { type: 'string' } }, required: ['type', 'title', 'status'] },
        ...schemas,
      },
    },
    paths: {
      '/api/verifiers/{slug}/requests': {
        post: {
          summary: 'Create a presentation request (OID4VP 1.0, DCQL) from one of the counter\'s templates or a DCQL query',
          parameters: [slug],
          requestBody: { required: true, content: json({ $ref: '#/components/schemas/CreateRequest' }) },
          responses: {
            '201': { description: 'Request created; show authorization_request as a QR code or link', content: json({ type: 'object', properties: { request_id: { type: 'string', format: 'uuid' }, authorization_request: { type: 'string' }, expires_at: { type: 'string', format: 'date-time' } } }) },
            '403': { description: 'Asks for more than the trust registry lets this relying party ask (exceeds-registration), or the key lacks the scope', content: { 'application/problem+json': { schema: problem } } },
            ...errors(400, 401, 404, 413, 415, 503),
          },
        },
      },
      '/api/verifiers/{slug}/requests/{request_id}': {
        get: {
          summary: 'Status and verdict of a request (pending, verified, rejected, expired)',
          parameters: [slug, requestId],
          responses: { '200': { description: 'Status; a verdict with the disclosed claims the query asked for while it is kept', content: json({ type: 'object', properties: { request_id: { type: 'string' }, status: { enum: ['pending', 'verified', 'rejected', 'expired'] }, final: { type: 'boolean' }, result: { type: 'object' }, last_attempt: { type: 'object' } }, required: ['request_id', 'status'] }) }, ...errors(401, 404) },
        },
      },
      '/api/verifiers/{slug}/requests/{request_id}/qr.svg': {
        get: { summary: 'The authorization request as a QR code (SVG)', parameters: [slug, requestId], responses: { '200': { description: 'QR code', content: { 'image/svg+xml': {} } }, ...errors(401, 404) } },
      },
      '/api/verifiers/{slug}/dc-api/requests': {
        post: {
          summary: 'Create a request answered over the W3C Digital Credentials API (OID4VP 1.0 Appendix A, protocol openid4vp-v1-signed, response_mode dc_api.jwt); the counter page passes `data` to navigator.credentials.get',
          parameters: [slug],
          requestBody: { required: true, content: json({ $ref: '#/components/schemas/CreateRequest' }) },
          responses: {
            '201': { description: 'Request created', content: json({ type: 'object', properties: { request_id: { type: 'string', format: 'uuid' }, expires_at: { type: 'string', format: 'date-time' }, protocol: { const: 'openid4vp-v1-signed' }, data: { type: 'object', properties: { request: { type: 'string', description: 'signed Request Object (JWS) with expected_origins' } } } } }) },
            '403': { description: 'Asks for more than the trust registry lets this relying party ask, or the key lacks the scope', content: { 'application/problem+json': { schema: problem } } },
            ...errors(400, 401, 404, 413, 415, 503),
          },
        },
      },
      '/api/verifiers/{slug}/requests/{request_id}/dc-api-response': {
        post: {
          summary: 'Hand in what navigator.credentials.get returned ({protocol, data}); the encrypted response is checked with audience origin:<verifier origin> and this request\'s nonce',
          parameters: [slug, requestId],
          requestBody: { required: true, content: json({ type: 'object', properties: { protocol: { type: 'string' }, data: { type: 'object' } }, required: ['protocol', 'data'] }) },
          responses: { '200': { description: 'Outcome: verified, or rejected with reasons (final: false, the request stays open)', content: json({ type: 'object', properties: { request_id: { type: 'string' }, status: { enum: ['verified', 'rejected'] }, final: { type: 'boolean' }, errors: { type: 'array' } } }) }, ...errors(400, 401, 404, 413, 415) },
        },
      },
      '/api/catalog': {
        get: {
          summary: 'The catalogue: its revision, credential type display definitions and relying parties with their templates',
          responses: {
            '200': { description: 'Catalogue', content: json({ type: 'object', properties: { revision: { type: 'integer' }, credential_types: { type: 'array', items: { $ref: '#/components/schemas/CredentialTypeDef' } }, relying_parties: { type: 'array', items: { $ref: '#/components/schemas/RelyingPartyDef' } } }, required: ['revision', 'credential_types', 'relying_parties'] }) },
            ...errors(401),
          },
        },
      },
      '/api/catalog/credential-types/{id}': {
        put: {
          summary: 'Create or replace a credential type\'s display definition (id must equal the path)',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z][a-z0-9_]{1,62}$' } }],
          requestBody: { required: true, content: json({ $ref: '#/components/schemas/CredentialTypeDef' }) },
          responses: {
            '201': { description: 'Created', content: json(putResult('credential_type', '#/components/schemas/CredentialTypeDef')) },
            '200': { description: 'Changed, or unchanged (`changed: false`)', content: json(putResult('credential_type', '#/components/schemas/CredentialTypeDef')) },
            ...errors(400, 401, 409, 413, 415),
          },
        },
      },
      '/api/catalog/relying-parties/{slug}': {
        put: {
          summary: 'Create or replace a relying party and its templates (slug must equal the path). It must be a registered verifier in the trust registry, and its templates may ask only for claims its verify grants allow.',
          parameters: [slug],
          requestBody: { required: true, content: json({ $ref: '#/components/schemas/RelyingPartyDef' }) },
          responses: {
            '201': { description: 'Created; its did:web and request-signing key exist, its counter page and requests work at once', content: json({ ...putResult('relying_party', '#/components/schemas/RelyingPartyDef'), properties: { ...putResult('relying_party', '#/components/schemas/RelyingPartyDef').properties, did: { type: 'string' } } }) },
            '200': { description: 'Changed, or unchanged (`changed: false`)', content: json(putResult('relying_party', '#/components/schemas/RelyingPartyDef')) },
            ...errors(400, 401, 409, 413, 415, 503),
          },
        },
      },
      // Issue 7: W3C VC-API verification (verifier/routes/vc-api.ts).
      '/credentials/verify': {
        post: {
          summary: 'W3C VC-API: verify a credential (VC-JWT, VC-JOSE-COSE)',
          requestBody: { required: true, content: json({ type: 'object', properties: { verifiableCredential: {}, options: { type: 'object' } }, required: ['verifiableCredential'] }) },
          responses: { '200': { description: 'Verification ran; see `verified`', content: json(verifyResult) }, ...errors(400, 401, 413, 415) },
        },
      },
      '/presentations/verify': {
        post: {
          summary: 'W3C VC-API: verify a presentation',
          requestBody: { required: true, content: json({ type: 'object', properties: { verifiablePresentation: {}, options: { type: 'object' } }, required: ['verifiablePresentation'] }) },
          responses: { '200': { description: 'Verification ran; see `verified`', content: json(verifyResult) }, ...errors(400, 401, 413, 415) },
        },
      },
    },
  };
  // Every operation may also answer 403 (key outside its scope or role) and 429 (failed logins over the limit).
  for (const item of Object.values(doc.paths) as Record<string, { responses: Record<string, unknown> }>[]) {
    for (const op of Object.values(item)) {
      op.responses['403'] ??= { description: 'The API key lacks the role or the scope', content: { 'application/problem+json': { schema: problem } } };
      op.responses['429'] ??= { description: 'Too many failed logins from this client; see Retry-After', headers: { 'Retry-After': { schema: { type: 'integer' } } }, content: { 'application/problem+json': { schema: problem } } };
    }
  }
  return doc;
}

/**
 * A zod JSON Schema as an OpenAPI component: its `$defs` (recursive claim definitions) become
 * components of their own and its `#/$defs/…` references point there, since inside an OpenAPI
 * document `#` is the document, not the schema. `$schema` goes: OpenAPI 3.1's dialect is JSON Schema 2020-12.
 */
function asComponent(name: string, schema: Record<string, unknown>, into: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _dialect, $defs, ...rest } = schema as { $schema?: string; $defs?: Record<string, unknown> } & Record<string, unknown>;
  const rewrite = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === '$ref' && typeof x === 'string' && x.startsWith('#/$defs/') ? `#/components/schemas/${name}_${x.slice('#/$defs/'.length).replace(/^_+/, '')}` : rewrite(x)]));
    }
    return v;
  };
  for (const [k, d] of Object.entries($defs ?? {})) into[`${name}_${k.replace(/^_+/, '')}`] = rewrite(d);
  return rewrite(rest) as Record<string, unknown>;
}
