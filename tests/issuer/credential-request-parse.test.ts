import { describe, expect, it } from 'vitest';
import { Openid4vciIssuer } from '@openid4vc/openid4vci';
import { parseCredentialRequest } from '../../issuer/credential-request.ts';
import { fromLibraryError } from '../../issuer/protocol-errors.ts';

/**
 * issuer/credential-request.ts replaces @openid4vc/openid4vci's parseCredentialRequest on the hot
 * path (issue 16). For every 1.0-shaped request it must accept, refuse and find proofs exactly as
 * the library does; each body is run through both.
 */
const lib = new Openid4vciIssuer({ callbacks: {} as never });
const issuerMetadata = { credentialIssuer: { credential_configurations_supported: { melde: { format: 'dc+sd-jwt', vct: 'urn:x' } } }, knownCredentialConfigurations: { melde: { format: 'dc+sd-jwt', vct: 'urn:x' } } } as never;
const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJhIjoxfQ.c2ln';

function viaLibrary(body: unknown): string {
  try {
    const r = lib.parseCredentialRequest({ issuerMetadata, credentialRequest: body as Record<string, unknown> });
    return `ok ${JSON.stringify(r.proofs ?? null)}`;
  } catch (e) {
    return `error ${(fromLibraryError(e) as { code?: string }).code ?? 'other'}`;
  }
}
function viaOurs(body: unknown): string {
  try {
    const r = parseCredentialRequest(body);
    return `ok ${JSON.stringify(r.proofs ?? null)}`;
  } catch (e) {
    return `error ${(e as { code?: string }).code ?? 'other'}`;
  }
}

describe('the 1.0 credential request parse against the library', () => {
  const bodies: [string, unknown][] = [
    ['one jwt proof', { credential_configuration_id: 'melde', proofs: { jwt: [jwt] } }],
    ['two jwt proofs', { credential_configuration_id: 'melde', proofs: { jwt: [jwt, jwt] } }],
    ['no proofs', { credential_configuration_id: 'melde' }],
    ['empty proofs object', { credential_configuration_id: 'melde', proofs: {} }],
    ['two proof types', { credential_configuration_id: 'melde', proofs: { jwt: [jwt], attestation: [jwt] } }],
    ['unknown proof type', { credential_configuration_id: 'melde', proofs: { cwt: ['x'] } }],
    ['unknown proof type, not an array', { credential_configuration_id: 'melde', proofs: { cwt: 'x' } }],
    ['jwt not compact', { credential_configuration_id: 'melde', proofs: { jwt: ['not a jwt'] } }],
    ['jwt not a string', { credential_configuration_id: 'melde', proofs: { jwt: [1] } }],
    ['jwt not an array', { credential_configuration_id: 'melde', proofs: { jwt: jwt } }],
    ['attestation proof', { credential_configuration_id: 'melde', proofs: { attestation: [jwt] } }],
    ['with credential_identifier', { credential_configuration_id: 'melde', credential_identifier: 'x', proofs: { jwt: [jwt] } }],
    ['configuration id not a string', { credential_configuration_id: 5, proofs: { jwt: [jwt] } }],
    ['extra members kept', { credential_configuration_id: 'melde', proofs: { jwt: [jwt] }, extra: true }],
    ['encryption complete', { credential_configuration_id: 'melde', proofs: { jwt: [jwt] }, credential_response_encryption: { jwk: { kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }, alg: 'ECDH-ES', enc: 'A128GCM' } }],
    ['encryption without enc', { credential_configuration_id: 'melde', proofs: { jwt: [jwt] }, credential_response_encryption: { jwk: { kty: 'EC' }, alg: 'ECDH-ES' } }],
    ['encryption jwk without kty', { credential_configuration_id: 'melde', proofs: { jwt: [jwt] }, credential_response_encryption: { jwk: {}, alg: 'ECDH-ES', enc: 'A128GCM' } }],
    ['proofs null', { credential_configuration_id: 'melde', proofs: null }],
  ];
  for (const [name, body] of bodies) {
    it(name, () => {
      expect(viaOurs(body)).toBe(viaLibrary(body));
    });
  }
});
