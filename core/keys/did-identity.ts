import type { Signer } from '../crypto/jws.ts';
import { p256JwkFromPublicHex, p256KeyFromPrivateHex, thumbprint } from '../crypto/jwk.ts';
import { buildDidDocument, type DidDocument, type DocumentKey } from '../did/did-web.ts';
import type { KeyAgentParts } from './agent.ts';

/** A did:web this service controls: the DID document it serves and the signer it uses. */
export interface DidIdentity {
  did: string;
  signer: Signer;
  keys: DocumentKey[];
  document(extra?: Record<string, unknown>): DidDocument;
}

/**
 * Loads (or creates on first start) the did:web identity with a P-256 key in the Veramo key
 * manager. The private key is decrypted once here and kept in memory as a KeyObject, so signing
 * never reads the database (hot path, dependencies.md: "keep signing keys in memory").
 */
export async function loadDidWebIdentity(parts: KeyAgentParts, did: string): Promise<DidIdentity> {
  if (!did.startsWith('did:web:')) throw new Error('not a did:web');
  const identifier = await parts.agent.didManagerGetOrCreate({ alias: did.slice('did:web:'.length), provider: 'did:web', kms: 'local', options: { keyType: 'Secp256r1' } });
  if (identifier.did !== did) throw new Error('DID manager returned another DID');
  const key = identifier.keys.find((k) => k.type === 'Secp256r1');
  if (!key) throw new Error(`${did} has no P-256 key`);
  const managed = await parts.privateKeys.getKey({ alias: key.kid });
  const { privateKey, publicJwk } = p256KeyFromPrivateHex(managed.privateKeyHex);
  const stored = p256JwkFromPublicHex(key.publicKeyHex);
  if (stored.x !== publicJwk.x || stored.y !== publicJwk.y) throw new Error(`${did}: stored public key does not match the private key`);
  const fragment = await thumbprint(publicJwk);
  const keys: DocumentKey[] = [{ fragment, publicJwk }];
  return {
    did,
    signer: { kid: `${did}#${fragment}`, alg: 'ES256', publicJwk, privateKey },
    keys,
    document: (extra) => buildDidDocument(did, keys, extra),
  };
}
