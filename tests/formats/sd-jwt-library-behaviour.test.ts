import { createHash } from 'node:crypto';
import { ES256, digest, generateSalt } from '@sd-jwt/crypto-nodejs';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { describe, expect, it } from 'vitest';

/**
 * Measured behaviour of @sd-jwt/sd-jwt-vc 0.19.0 and @sd-jwt/crypto-nodejs 0.19.0 that
 * core/formats/sd-jwt-vc works around (see the comments in verify-sd-jwt.ts,
 * process-disclosures.ts and hasher.ts). These tests pin the library as it is: if one fails
 * after an upgrade, the library changed and the workaround may be revisited.
 */

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const dg = (s: string) => createHash('sha256').update(s).digest('base64url');
const now = Math.floor(Date.now() / 1000);

async function setup() {
  const issuer = await ES256.generateKeyPair();
  const holder = await ES256.generateKeyPair();
  const sdjwt = new SDJwtVcInstance({
    signer: await ES256.getSigner(issuer.privateKey),
    verifier: await ES256.getVerifier(issuer.publicKey),
    signAlg: 'ES256',
    hasher: digest,
    saltGenerator: generateSalt,
    kbSigner: await ES256.getSigner(holder.privateKey),
    kbSignAlg: 'ES256',
    kbVerifier: async (data, sig, payload) => (await ES256.getVerifier(payload.cnf!.jwk))(data, sig),
  });
  const credential = await sdjwt.issue(
    { iss: 'did:web:x', vct: 'urn:t', iat: now, cnf: { jwk: holder.publicKey }, a: 1, b: 2, addr: { s: 'x', o: 'y' } },
    { _sd: ['a', 'b', 'addr'], addr: { _sd: ['s', 'o'] } } as never,
  );
  return { sdjwt, credential };
}

/** Signs an arbitrary payload as-is (no disclosure frame) and appends the given Disclosures. */
async function raw(sdjwt: SDJwtVcInstance, payload: Record<string, unknown>, disclosures: string[]): Promise<string> {
  const jwt = await sdjwt.issue({ iss: 'did:web:x', vct: 'urn:t', _sd_alg: 'sha-256', ...payload });
  return `${jwt.slice(0, -1)}~${disclosures.join('~')}~`;
}

describe('@sd-jwt/sd-jwt-vc 0.19.0 verify', () => {
  it('accepts a Disclosure no digest references (RFC 9901 §7.1 step 5 says reject)', async () => {
    const { sdjwt, credential } = await setup();
    const result = await sdjwt.verify(`${credential}${b64(['salt', 'evil', 'x'])}~`);
    expect(result.payload).not.toHaveProperty('evil');
  });

  it('accepts the same Disclosure twice (RFC 9901 §4 says a holder must not send that)', async () => {
    const { sdjwt, credential } = await setup();
    const [jwt, first] = credential.split('~');
    await expect(sdjwt.verify(`${jwt}~${first}~${first}~`)).resolves.toBeDefined();
  });

  it('ignores a KB-JWT with a broken signature unless keyBindingNonce is passed', async () => {
    const { sdjwt, credential } = await setup();
    const presentation = await sdjwt.present(credential, { a: true }, { kb: { payload: { iat: now, aud: 'https://v', nonce: 'n' } } });
    await expect(sdjwt.verify(`${presentation.slice(0, -6)}AAAAAA`)).resolves.toBeDefined();
  });

  it('with keyBindingNonce, checks neither the KB-JWT aud nor its iat', async () => {
    const { sdjwt, credential } = await setup();
    const presentation = await sdjwt.present(credential, { a: true }, { kb: { payload: { iat: 1000, aud: 'https://somebody-else', nonce: 'n' } } });
    const result = await sdjwt.verify(presentation, { keyBindingNonce: 'n' });
    expect(result.kb?.payload).toMatchObject({ iat: 1000, aud: 'https://somebody-else' });
  });

  it('does not check the typ of the Issuer-signed JWT', async () => {
    const { sdjwt } = await setup();
    const credential = await sdjwt.issue({ iss: 'did:web:x', vct: 'urn:t', a: 1 }, { _sd: ['a'] } as never, { header: { typ: 'JWT' } });
    await expect(sdjwt.verify(credential)).resolves.toBeDefined();
  });

  it('accepts a bare JWT without the trailing "~" (RFC 9901 §4 says it must not be omitted)', async () => {
    const { sdjwt, credential } = await setup();
    await expect(sdjwt.verify(credential.split('~')[0]!)).resolves.toBeDefined();
  });

  it('fetches the status list whenever the credential has a status claim', async () => {
    const { sdjwt } = await setup();
    const credential = await sdjwt.issue({ iss: 'did:web:x', vct: 'urn:t', status: { status_list: { idx: 0, uri: 'https://status.example/1' } } });
    const fetched: string[] = [];
    sdjwt.config({
      statusListFetcher: async (uri: string) => {
        fetched.push(uri);
        throw new Error('offline');
      },
    } as never);
    await expect(sdjwt.verify(credential)).rejects.toThrow('offline');
    expect(fetched).toEqual(['https://status.example/1']);
  });
});

describe('@sd-jwt/sd-jwt-vc 0.19.0 disclosure processing (RFC 9901 §7.1 step 3)', () => {
  it('reads the JSON string "abc" as a Disclosure of claim b with value c', async () => {
    const { sdjwt } = await setup();
    const d = b64('abc');
    expect((await sdjwt.verify(await raw(sdjwt, { _sd: [dg(d)] }, [d]))).payload).toMatchObject({ b: 'c' });
  });

  it('lets a Disclosure overwrite a plaintext claim of the same name', async () => {
    const { sdjwt } = await setup();
    const d = b64(['s', 'given_name', 'Mallory']);
    expect((await sdjwt.verify(await raw(sdjwt, { given_name: 'Alice', _sd: [dg(d)] }, [d]))).payload).toMatchObject({ given_name: 'Mallory' });
  });

  it('ignores a 2-element Disclosure referenced from _sd and uses a 3-element one referenced from an array', async () => {
    const { sdjwt } = await setup();
    const two = b64(['s1', 'value']);
    const three = b64(['s2', 'name', 'v']);
    const result = await sdjwt.verify(await raw(sdjwt, { _sd: [dg(two)], arr: [{ '...': dg(three) }] }, [two, three]));
    expect(result.payload).toMatchObject({ arr: ['v'] });
  });

  it('emits a Disclosure named _sd into the processed payload and accepts a digest listed twice', async () => {
    const { sdjwt } = await setup();
    const d = b64(['s', '_sd', ['x']]);
    const result = await sdjwt.verify(await raw(sdjwt, { _sd: [dg(d), dg(d)] }, [d]));
    expect(result.payload).toMatchObject({ _sd: ['x'] });
  });
});

describe('@sd-jwt/sd-jwt-vc 0.19.0 present', () => {
  it('with { obj: true } sends only the object Disclosure, not its recursively disclosable members', async () => {
    const { sdjwt, credential } = await setup();
    const presentation = await sdjwt.present(credential, { addr: true });
    expect(presentation.split('~').slice(1, -1)).toHaveLength(1);
    expect((await sdjwt.verify(presentation)).payload).toMatchObject({ addr: {} });
  });
});

describe('@sd-jwt/crypto-nodejs 0.19.0', () => {
  it('generateSalt(16) gives 16 hex characters: 64 bits, not the 128 RFC 9901 §9.3 recommends', () => {
    expect(generateSalt(16)).toMatch(/^[0-9a-f]{16}$/);
  });
});
