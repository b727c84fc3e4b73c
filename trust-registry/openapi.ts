import { zCredentialTypeDef } from '../core/catalog/model.ts';
import { openApiComponent } from '../core/catalog/openapi-component.ts';
import { zTrqpAuthorizationRequest, zTrqpRecognitionRequest } from '../core/trust/model.ts';
import { zChangeGrantStatus } from './use-cases/change-grant-status.ts';
import { zCreateCredentialType } from './use-cases/create-credential-type.ts';
import { zCreateEntity } from './use-cases/create-entity.ts';
import { zCreateGrant } from './use-cases/create-grant.ts';

type Json = Record<string, unknown>;

const component = openApiComponent;

/**
 * OpenAPI 3.1 description of the trust registry's admin API and its public documents (issue 15).
 * Request schemas come from the zod schemas that validate the requests, so the document cannot
 * drift from the code. TRQP v2 is described by its specification; its request bodies are listed here
 * for convenience.
 */
export function openApiDocument(publicUrl: string): Json {
  const schemas: Json = {
    Problem: {
      type: 'object',
      description: 'RFC 9457 problem details; `type` is a stable urn:id-ideal:problem:* URN. Conflicts from the catalogue carry `detail_i18n` {de, en}.',
      properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, field: { type: 'string' }, detail_i18n: { type: 'object', properties: { de: { type: 'string' }, en: { type: 'string' } } } },
      required: ['type', 'title', 'status'],
    },
  };
  const ref = {
    CreateEntity: component('CreateEntity', zCreateEntity, schemas),
    CreateCredentialType: component('CreateCredentialType', zCreateCredentialType, schemas),
    CreateGrant: component('CreateGrant', zCreateGrant, schemas),
    ChangeGrantStatus: component('ChangeGrantStatus', zChangeGrantStatus, schemas),
    CredentialTypeDef: component('CredentialTypeDef', zCredentialTypeDef, schemas),
    TrqpAuthorizationRequest: component('TrqpAuthorizationRequest', zTrqpAuthorizationRequest, schemas),
    TrqpRecognitionRequest: component('TrqpRecognitionRequest', zTrqpRecognitionRequest, schemas),
  };
  const problem = { $ref: '#/components/schemas/Problem' };
  const DESCRIPTIONS: Record<number, string> = {
    400: 'Invalid request (names the field)',
    401: 'Missing or wrong bearer token',
    403: 'Role or scope insufficient, or the grant exceeds the authority’s rights',
    404: 'Unknown entity, grant or credential type',
    409: 'Conflict',
    413: 'Body over the size limit',
    415: 'Body is not JSON',
  };
  const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), { description: DESCRIPTIONS[c] ?? 'Error', content: { 'application/problem+json': { schema: problem } } }]));
  const json = (schema: Json, description: string) => ({ description, content: { 'application/json': { schema } } });
  const body = (schema: Json) => ({ required: true, content: { 'application/json': { schema } } });
  const obj = (properties: Json) => ({ type: 'object', properties });
  const pub = { security: [] as unknown[] };
  const pathParam = (name: string, schema: Json) => ({ name, in: 'path', required: true, schema });

  return {
    openapi: '3.1.0',
    info: {
      title: 'ID-Ideal trust registry API',
      version: '1',
      description:
        'Who may issue which credential type and which relying party may ask for which claims. Admin endpoints under /api need the bootstrap REGISTRY_ADMIN_TOKEN or an API key (`npm run apikey -- create --service registry`): role clerk reads, administrator writes; catalogue writes need scope `*`. Errors are RFC 9457 problem details. Public documents (DID documents, snapshots, type metadata, TRQP) need no token.',
    },
    servers: [{ url: publicUrl }],
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'REGISTRY_ADMIN_TOKEN or an API key `registry_<id>.<secret>`' } }, schemas },
    paths: {
      '/api/entities': {
        get: { summary: 'Registered organisations (authorities, issuers, verifiers)', responses: { '200': json(obj({ entities: { type: 'array', items: { type: 'object' } } }), 'Entities'), ...errors(401, 403) } },
        post: {
          summary: 'Register an organisation; an authority under /authorities/ of this registry gets its key and DID document at once',
          requestBody: body(ref.CreateEntity),
          responses: { '201': json({ type: 'object' }, 'Registered'), ...errors(400, 401, 403, 409, 413, 415) },
        },
      },
      '/api/credential-types': {
        get: { summary: 'Registered credential types (as in the signed snapshot)', responses: { '200': json(obj({ credential_types: { type: 'array', items: { type: 'object' } } }), 'Types'), ...errors(401, 403) } },
        post: { summary: 'Register a credential type by its vct (without a full definition)', requestBody: body(ref.CreateCredentialType), responses: { '201': json({ type: 'object' }, 'Registered'), ...errors(400, 401, 403, 409, 413, 415) } },
      },
      '/api/catalog': {
        get: {
          summary: 'Credential types with their full definitions (claims, labels, validity, colours)',
          responses: { '200': json(obj({ revision: { type: 'integer' }, credential_types: { type: 'array', items: ref.CredentialTypeDef } }), 'The catalogue'), ...errors(401, 403) },
        },
      },
      '/api/catalog/credential-types/{id}': {
        put: {
          summary: 'Store or update a credential type’s definition (idempotent; the same body again changes nothing and is not audited)',
          description: 'The body’s `id` must equal the path. A new vct is registered as a credential type in the same transaction. The vct of an id never changes (409 credential-type-vct-immutable).',
          parameters: [pathParam('id', { type: 'string', pattern: '^[a-z][a-z0-9_]{1,62}$' })],
          requestBody: body(ref.CredentialTypeDef),
          responses: {
            '201': json(obj({ changed: { const: true }, revision: { type: 'integer' }, credential_type: ref.CredentialTypeDef }), 'Definition created'),
            '200': json(obj({ changed: { type: 'boolean' }, revision: { type: 'integer' }, credential_type: ref.CredentialTypeDef }), 'Definition changed, or unchanged (`changed: false`)'),
            ...errors(400, 401, 403, 409, 413, 415),
          },
        },
      },
      '/api/grants': {
        get: {
          summary: 'Grants with their current status and history',
          parameters: ['entity_id', 'authority_id', 'action', 'resource'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })),
          responses: { '200': json(obj({ grants: { type: 'array', items: { type: 'object' } } }), 'Grants'), ...errors(400, 401, 403) },
        },
        post: {
          summary: 'Create a grant (signed by the registry for an authority whose key it holds, or a statement the authority signed)',
          requestBody: body(ref.CreateGrant),
          responses: { '201': json({ type: 'object' }, 'Grant created'), ...errors(400, 401, 403, 404, 409, 413, 415) },
        },
      },
      '/api/grants/{id}': { get: { summary: 'One grant', parameters: [pathParam('id', { type: 'string' })], responses: { '200': json({ type: 'object' }, 'Grant'), ...errors(400, 401, 403, 404) } } },
      '/api/grants/{id}/status': {
        post: { summary: 'Suspend, reinstate or revoke a grant (appended, never overwritten)', parameters: [pathParam('id', { type: 'string' })], requestBody: body(ref.ChangeGrantStatus), responses: { '200': json({ type: 'object' }, 'Grant with the new status'), ...errors(400, 401, 403, 404, 409, 415) } },
      },
      '/api/audit': { get: { summary: 'The hash-chained audit trail', responses: { '200': json(obj({ entries: { type: 'array', items: { type: 'object' } } }), 'Entries'), ...errors(401, 403) } } },
      '/api/audit/check': { get: { summary: 'Checks the audit chain against the head in the latest snapshot', responses: { '200': json(obj({ valid: { type: 'boolean' }, problems: { type: 'array' } }), 'Result'), ...errors(401, 403) } } },
      '/.well-known/trust-registry': { get: { ...pub, summary: 'Registry metadata (TRQP endpoints, snapshot URL, credential types)', responses: { '200': json({ type: 'object' }, 'Metadata') } } },
      '/.well-known/did.json': { get: { ...pub, summary: 'The registry’s DID document', responses: { '200': { description: 'DID document', content: { 'application/did+json': {} } } } } },
      '/authorities/{slug}/did.json': {
        get: { ...pub, summary: 'DID document of a hosted authority (the city, its departments)', parameters: [pathParam('slug', { type: 'string' })], responses: { '200': { description: 'DID document', content: { 'application/did+json': {} } }, ...errors(404) } },
      },
      '/snapshots/latest': { get: { ...pub, summary: 'The whole registry as a signed snapshot (compact JWS)', responses: { '200': { description: 'Snapshot', content: { 'application/jwt': {} } } } } },
      '/vct/{id}': {
        get: {
          ...pub,
          summary: 'SD-JWT VC Type Metadata of a credential type (draft-ietf-oauth-sd-jwt-vc, "From a Registry")',
          description: 'The exact octets whose sha256 is the `vct#integrity` of credentials of this type.',
          parameters: [pathParam('id', { type: 'string' })],
          responses: { '200': json({ type: 'object' }, 'Type Metadata'), '304': { description: 'Not modified (If-None-Match)' }, ...errors(400, 404) },
        },
      },
      '/vct': {
        get: {
          ...pub,
          summary: 'SD-JWT VC Type Metadata by vct',
          parameters: [{ name: 'vct', in: 'query', required: true, schema: { type: 'string' } }],
          responses: { '200': json({ type: 'object' }, 'Type Metadata'), '304': { description: 'Not modified (If-None-Match)' }, ...errors(400, 404) },
        },
      },
      '/trqp/authorization': { post: { ...pub, summary: 'TRQP v2 authorization query', requestBody: body(ref.TrqpAuthorizationRequest), responses: { '200': json({ type: 'object' }, 'Answer (or a signed answer with Accept: application/jwt)'), ...errors(400, 415) } } },
      '/verifier-attestations': {
        get: {
          ...pub,
          summary: 'Registration attestation of a relying party for OID4VP 1.0 verifier_info (JWT, typ verifier-registration+jwt, signed by the registry)',
          description: 'Payload: iss (registry DID), sub (the relying party DID), iat, exp (at most 24 h), authority_id, name, status `active`, credentials [{vct, w3c_types?, claims?, purpose?}]. Rate limited like the public reads.',
          parameters: [{ name: 'entity_id', in: 'query', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'Attestation', content: { 'application/jwt': {} } }, ...errors(400, 404, 409) },
        },
      },
      '/trqp/recognition': { post: { ...pub, summary: 'TRQP v2 recognition query', requestBody: body(ref.TrqpRecognitionRequest), responses: { '200': json({ type: 'object' }, 'Answer'), ...errors(400, 415) } } },
    },
  };
}
