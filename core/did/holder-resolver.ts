import { getDidKeyResolver } from '@veramo/did-provider-key';
import { Resolver, type DIDResolver } from 'did-resolver';
import type { JWK } from 'jose';
import { jwkResolver, KeyResolutionError, methodFor } from './resolver.ts';

/**
 * Holder DIDs, resolved without any network access.
 *
 * A holder's DID is chosen by whoever presents (the `kid` of a VP-JWT, the `holder` of a VP): a
 * verifier that resolved it as it resolves issuers would fetch any URL a presenter writes into a
 * did:web (loopback ports, internal hosts) before any trust decision. Holders here are citizens'
 * wallets, whose keys are self-certifying: did:jwk (did:jwk spec §2) carries the JWK in the DID,
 * did:key (did:key spec §3.1) the multibase public key. Both resolve by decoding; every other
 * method — did:web above all — is refused with a reason and never contacts anything.
 */

export const HOLDER_DID_METHODS = ['jwk', 'key'] as const;

/** did:jwk and did:key only; nothing else is registered, so nothing else can be resolved. */
export function createHolderResolver(): Resolver {
  return new Resolver({ jwk: jwkResolver, ...(getDidKeyResolver() as Record<string, DIDResolver>) }, { cache: false });
}

/** Why a holder DID is not accepted, or undefined when its method is one resolved offline. */
export function holderDidRefusal(did: string): string | undefined {
  const m = /^did:([a-z0-9]{1,32}):/.exec(did);
  if (!m) return 'the holder is not a DID';
  if (!(HOLDER_DID_METHODS as readonly string[]).includes(m[1]!)) return `holder DID method did:${m[1]} is not accepted; holders use did:jwk or did:key (resolved without network)`;
  return undefined;
}

/**
 * The public JWK behind a holder's `kid` (`<did>#<fragment>`), from the DID's `authentication`
 * relationship (Controlled Identifiers 1.0 §2.3.2: a presentation is authenticated by its holder).
 * The method is checked before anything is resolved.
 */
export async function resolveHolderKey(resolver: Resolver, kid: string, expectedHolder?: string): Promise<JWK> {
  const hash = kid.indexOf('#');
  if (hash < 0) throw new KeyResolutionError('holder kid must be a DID URL with a fragment');
  const did = kid.slice(0, hash);
  if (expectedHolder !== undefined && did !== expectedHolder) throw new KeyResolutionError('kid does not belong to the holder');
  const refusal = holderDidRefusal(did);
  if (refusal) throw new KeyResolutionError(refusal);
  const result = await resolver.resolve(did);
  const doc = result.didDocument;
  if (!doc) throw new KeyResolutionError(`holder DID could not be resolved (${result.didResolutionMetadata.error ?? 'unknown'})`);
  const vm = methodFor(doc, kid, 'authentication');
  if (!vm) throw new KeyResolutionError('kid is not an authentication method of the holder');
  if (!vm.publicKeyJwk) throw new KeyResolutionError('holder verification method has no publicKeyJwk');
  return vm.publicKeyJwk as JWK;
}
