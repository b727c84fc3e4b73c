import { describe, expect, it } from 'vitest';
import { SdJwtVcUsageError, verifySdJwtVc } from '../../core/formats/sd-jwt-vc/index.ts';
import { issue, present, unjson64, verifyArgs } from './sd-jwt-vc-fixtures.ts';

/**
 * `issueSdJwtVc` options for issue 15 and HAIP: `vct#integrity` (SD-JWT VC §3.2.2.2, registered,
 * never disclosable) in the signed payload, and an `x5c` header (RFC 7515 §4.1.6) beside `kid`.
 */
const parts = (sdJwt: string) => {
  const [h, p] = sdJwt.split('~')[0]!.split('.');
  return { header: unjson64(h!), payload: unjson64(p!) };
};
// A base64 (not base64url) DER-like value: the function checks the syntax only; the certificate is the caller's.
const CERT = 'MIIBszCCAVmgAwIBAgIUK+/==';

describe('issueSdJwtVc: vct#integrity and x5c', () => {
  it('puts vct#integrity in plaintext into the signed payload, and a verifier accepts it', async () => {
    const integrity = 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
    const sdJwt = await issue({ vctIntegrity: integrity });
    expect(parts(sdJwt).payload['vct#integrity']).toBe(integrity);
    const v = await verifySdJwtVc(verifyArgs(await present(sdJwt, [['vorname']])));
    expect(v.ok, JSON.stringify(v)).toBe(true);
    if (v.ok) expect(v.payload['vct#integrity']).toBe(integrity);
  });

  it('leaves both out unless given', async () => {
    const { header, payload } = parts(await issue());
    expect(header.x5c).toBeUndefined();
    expect(payload['vct#integrity']).toBeUndefined();
  });

  it('sets x5c (leaf first) beside kid in the header', async () => {
    const { header } = parts(await issue({ x5c: [CERT, 'AAAA'] }));
    expect(header.x5c).toEqual([CERT, 'AAAA']);
    expect(typeof header.kid).toBe('string');
    expect(header.typ).toBe('dc+sd-jwt');
  });

  it('refuses malformed values', async () => {
    await expect(issue({ vctIntegrity: 'md5-abc' })).rejects.toBeInstanceOf(SdJwtVcUsageError);
    await expect(issue({ x5c: [] })).rejects.toBeInstanceOf(SdJwtVcUsageError);
    await expect(issue({ x5c: ['not_base64url-'] })).rejects.toBeInstanceOf(SdJwtVcUsageError);
    await expect(issue({ claims: { 'vct#integrity': 'sha256-x' } })).rejects.toBeInstanceOf(SdJwtVcUsageError);
  });
});
