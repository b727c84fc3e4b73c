import { createHash, randomBytes } from 'node:crypto';
import { CompactSign, exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';
import { clientAuthenticationAnonymous, type SignJwtCallback } from '@openid4vc/oauth2';
import { Openid4vciClient, setGlobalConfig } from '@openid4vc/openid4vci';

/** A test wallet built on the library's client side (OID4VCI 1.0), with ES256 holder keys. */
export interface HolderKey {
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  publicJwk: JWK;
}

export async function newHolderKey(): Promise<HolderKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, publicJwk: await exportJWK(publicKey) };
}

export function testWallet(keys: HolderKey[]) {
  setGlobalConfig({ allowInsecureUrls: true });
  const byThumb = new Map<string, HolderKey>();
  const ready = Promise.all(keys.map(async (k) => byThumb.set(await calculateJwkThumbprint(k.publicJwk), k)));
  const signJwt: SignJwtCallback = async (signer, { header, payload }) => {
    await ready;
    if (signer.method !== 'jwk') throw new Error('holder signs with jwk');
    const k = byThumb.get(await calculateJwkThumbprint(signer.publicJwk as JWK));
    if (!k) throw new Error('unknown holder key');
    const jwt = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader(header as never).sign(k.privateKey);
    return { jwt, signerJwk: signer.publicJwk };
  };
  const client = new Openid4vciClient({
    callbacks: {
      fetch,
      hash: (d) => new Uint8Array(createHash('sha256').update(d).digest()),
      generateRandom: (n) => new Uint8Array(randomBytes(n)),
      signJwt,
      clientAuthentication: clientAuthenticationAnonymous(),
    },
  });
  const signer = (k: HolderKey) => ({ method: 'jwk' as const, alg: 'ES256', publicJwk: k.publicJwk as never });
  return { client, signer };
}
