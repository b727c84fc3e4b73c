import { describe, expect, it } from 'vitest';
import { Openid4vciIssuer } from '@openid4vc/openid4vci';
import { grantedCredentialIdentifiers, parseCredentialRequest, requestedConfigurationId } from '../../issuer/credential-request.ts';
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
    return `error ${(fromLibraryError(e) as { error?: string }).error ?? 'other'}`;
  }
}
function viaOurs(body: unknown): string {
  try {
    const r = parseCredentialRequest(body);
    return `ok ${JSON.stringify(r.proofs ?? null)}`;
  } catch (e) {
    return `error ${(e as { error?: string }).error ?? 'other'}`;
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
    // §8.2: credential_identifier instead of credential_configuration_id (exactly one of them).
    ['credential_identifier only', { credential_identifier: 'abc', proofs: { jwt: [jwt] } }],
    ['credential_identifier, two proofs', { credential_identifier: 'abc', proofs: { jwt: [jwt, jwt] } }],
    ['credential_identifier, no proofs', { credential_identifier: 'abc' }],
    ['credential_identifier not a string', { credential_identifier: ['abc'], proofs: { jwt: [jwt] } }],
    ['credential_identifier null', { credential_identifier: null, proofs: { jwt: [jwt] } }],
    ['credential_identifier, jwt not compact', { credential_identifier: 'abc', proofs: { jwt: ['x'] } }],
    ['neither identifier nor configuration', { proofs: { jwt: [jwt] } }],
  ];
  for (const [name, body] of bodies) {
    it(name, () => {
      expect(viaOurs(body)).toBe(viaLibrary(body));
    });
  }
});

describe('credential_identifier (OID4VCI 1.0 §8.2), ours directly', () => {
  it('the parse names what the request names', () => {
    expect(parseCredentialRequest({ credential_identifier: 'abc', proofs: { jwt: [jwt] } })).toMatchObject({ credentialIdentifier: 'abc', proofs: { jwt: [jwt] } });
    expect(parseCredentialRequest({ credential_identifier: 'abc' }).credentialConfigurationId).toBeUndefined();
    expect(parseCredentialRequest({ credential_configuration_id: 'melde' })).toMatchObject({ credentialConfigurationId: 'melde' });
  });

  const code = (f: () => unknown) => {
    try {
      return `ok ${String(f())}`;
    } catch (e) {
      return `error ${(e as { error?: string }).error}`;
    }
  };
  const granted = new Map([['id-1', 'melde']]);

  it('with credential_identifiers in the token: the identifier maps to its configuration; anything else is refused with the 1.0 codes', () => {
    expect(code(() => requestedConfigurationId({ credential_identifier: 'id-1' }, granted))).toBe('ok melde');
    expect(code(() => requestedConfigurationId({ credential_identifier: 'id-2' }, granted))).toBe('error unknown_credential_identifier');
    expect(code(() => requestedConfigurationId({ credential_identifier: 'id-1', credential_configuration_id: 'melde' }, granted))).toBe('error invalid_credential_request');
    expect(code(() => requestedConfigurationId({ credential_configuration_id: 'melde' }, granted))).toBe('error invalid_credential_request');
    expect(code(() => requestedConfigurationId({}, granted))).toBe('error invalid_credential_request');
    expect(code(() => requestedConfigurationId({ credential_identifier: 5 }, granted))).toBe('error invalid_credential_request');
  });

  it('without: credential_configuration_id only; an identifier MUST NOT be used', () => {
    expect(code(() => requestedConfigurationId({ credential_configuration_id: 'melde' }, undefined))).toBe('ok melde');
    expect(code(() => requestedConfigurationId({ credential_identifier: 'id-1' }, undefined))).toBe('error invalid_credential_request');
    expect(code(() => requestedConfigurationId({ credential_identifier: 'id-1', credential_configuration_id: 'melde' }, undefined))).toBe('error invalid_credential_request');
    expect(code(() => requestedConfigurationId({}, undefined))).toBe('error invalid_credential_request');
  });

  it('reads the granted identifiers from the access token claim (RFC 9396 §9.1), ignoring anything not openid_credential', () => {
    expect(grantedCredentialIdentifiers({ sub: 'x' })).toBeUndefined();
    expect(grantedCredentialIdentifiers({ authorization_details: [] })).toBeUndefined();
    const m = grantedCredentialIdentifiers({
      authorization_details: [
        { type: 'openid_credential', credential_configuration_id: 'melde', credential_identifiers: ['a', 'b', 7] },
        { type: 'other', credential_configuration_id: 'x', credential_identifiers: ['c'] },
        null,
      ],
    });
    expect([...m!.entries()]).toEqual([['a', 'melde'], ['b', 'melde']]);
  });
});
