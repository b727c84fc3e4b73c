import type { IKey } from '@veramo/core';
import type { Signer } from '../crypto/jws.ts';
import { p256JwkFromPublicHex, p256KeyFromPrivateHex, thumbprint } from '../crypto/jwk.ts';
import { buildDidDocument, type DidDocument, type DocumentKey } from '../did/did-web.ts';
import { withDb } from '../store/data-source.ts';
import type { KeyAgentParts } from './agent.ts';

/** Revocation of a key, published on its verification method (Controlled Identifiers 1.0 §2.2.1 `revoked`). */
export interface KeyRevocation {
  fragment: string;
  /** RFC 3339; from this time on nothing signed with the key is accepted. */
  revoked: string;
}

/** A did:web this service controls: the DID document it serves and the signer it uses. */
export interface DidIdentity {
  did: string;
  /** The current signing key (the newest key that is not revoked). */
  signer: Signer;
  keys: DocumentKey[];
  /** Which Veramo key is behind each fragment (for key bookkeeping). */
  keyRefs: { fragment: string; veramoKid: string }[];
  document(extra?: Record<string, unknown>): DidDocument;
}

interface LoadedKey {
  kid: string;
  fragment: string;
  signer: Signer;
}

async function loadKey(parts: KeyAgentParts, did: string, key: IKey): Promise<LoadedKey> {
  const managed = await parts.privateKeys.getKey({ alias: key.kid });
  const { privateKey, publicJwk } = p256KeyFromPrivateHex(managed.privateKeyHex);
  const stored = p256JwkFromPublicHex(key.publicKeyHex);
  if (stored.x !== publicJwk.x || stored.y !== publicJwk.y) throw new Error(`${did}: stored public key does not match the private key`);
  const fragment = await thumbprint(publicJwk);
  return { kid: key.kid, fragment, signer: { kid: `${did}#${fragment}`, alg: 'ES256', publicJwk, privateKey } };
}

/**
 * Loads (or creates on first start) the did:web identity with P-256 keys in the Veramo key manager.
 * Private keys are decrypted once here and kept in memory as KeyObjects, so signing never reads the
 * database (hot path, dependencies.md). With several keys (rotation), `order` lists the Veramo kids
 * oldest first; the newest one not in `revocations` signs, and every key stays in the document
 * (revoked ones marked `revoked`) so verifiers can tell old signatures from forged ones.
 */
export async function loadDidWebIdentity(parts: KeyAgentParts, did: string, opts: { order?: string[]; revocations?: KeyRevocation[] } = {}): Promise<DidIdentity> {
  if (!did.startsWith('did:web:')) throw new Error('not a did:web');
  // Veramo's stores save with TypeORM transactions of their own: under withDb, as every other use of the connection.
  const identifier = await withDb(parts.dataSource, () => parts.agent.didManagerGetOrCreate({ alias: did.slice('did:web:'.length), provider: 'did:web', kms: 'local', options: { keyType: 'Secp256r1' } }));
  if (identifier.did !== did) throw new Error('DID manager returned another DID');
  const p256 = identifier.keys.filter((k) => k.type === 'Secp256r1');
  if (p256.length === 0) throw new Error(`${did} has no P-256 key`);
  const rank = (k: IKey) => {
    const i = opts.order?.indexOf(k.kid) ?? -1;
    return i < 0 ? -1 : i;
  };
  const loaded = await Promise.all([...p256].sort((a, b) => rank(a) - rank(b)).map((k) => loadKey(parts, did, k)));
  const revoked = new Map((opts.revocations ?? []).map((r) => [r.fragment, r.revoked]));
  const current = [...loaded].reverse().find((k) => !revoked.has(k.fragment)) ?? loaded.at(-1)!;
  const keys: DocumentKey[] = loaded.map((k) => ({ fragment: k.fragment, publicJwk: k.signer.publicJwk, ...(revoked.has(k.fragment) ? { revoked: revoked.get(k.fragment)! } : {}) }));
  return {
    did,
    signer: current.signer,
    keys,
    keyRefs: loaded.map((k) => ({ fragment: k.fragment, veramoKid: k.kid })),
    document: (extra) => buildDidDocument(did, keys, extra),
  };
}

/** Adds a new P-256 key to the identity (rotation); returns its Veramo kid. The caller reloads the identity. */
export async function addDidWebKey(parts: KeyAgentParts, did: string): Promise<string> {
  return withDb(parts.dataSource, async () => {
    const key = await parts.agent.keyManagerCreate({ kms: 'local', type: 'Secp256r1' });
    await parts.agent.didManagerAddKey({ did, key });
    return key.kid;
  });
}
