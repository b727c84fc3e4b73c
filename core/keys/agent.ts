import { createAgent, type IDIDManager, type IKeyManager, type IResolver, type TAgent } from '@veramo/core';
import { DIDStore, KeyStore, PrivateKeyStore } from '@veramo/data-store';
import { DIDManager } from '@veramo/did-manager';
import { JwkDIDProvider } from '@veramo/did-provider-jwk';
import { KeyDIDProvider } from '@veramo/did-provider-key';
import { WebDIDProvider } from '@veramo/did-provider-web';
import { DIDResolverPlugin } from '@veramo/did-resolver';
import { KeyManager } from '@veramo/key-manager';
import { KeyManagementSystem, SecretBox } from '@veramo/kms-local';
import type { Resolver } from 'did-resolver';
import type { DataSource } from 'typeorm';

export type KeyAgent = TAgent<IKeyManager & IDIDManager & IResolver>;

export interface KeyAgentParts {
  agent: KeyAgent;
  /** Direct access to the encrypted private key store, used once per key at start-up to load signers. */
  privateKeys: PrivateKeyStore;
  /**
   * The database Veramo's stores write to, past our statements: their writes run under withDb
   * (core/keys/did-identity.ts), so they take the connection in turn and never meet an open
   * transaction or commit group (core/store/data-source.ts).
   */
  dataSource: DataSource;
}

/**
 * Veramo agent for keys and DIDs: private keys encrypted at rest with SecretBox under the
 * key-encryption secret, DIDs kept in the service's own database, resolution through our resolver.
 */
export function createKeyAgent(dataSource: DataSource, keyEncryptionSecret: string, resolver: Resolver): KeyAgentParts {
  const privateKeys = new PrivateKeyStore(dataSource, new SecretBox(keyEncryptionSecret));
  const agent = createAgent<IKeyManager & IDIDManager & IResolver>({
    plugins: [
      new KeyManager({ store: new KeyStore(dataSource), kms: { local: new KeyManagementSystem(privateKeys) } }),
      new DIDManager({
        store: new DIDStore(dataSource),
        defaultProvider: 'did:web',
        providers: {
          'did:web': new WebDIDProvider({ defaultKms: 'local' }),
          'did:jwk': new JwkDIDProvider({ defaultKms: 'local' }),
          'did:key': new KeyDIDProvider({ defaultKms: 'local' }),
        },
      }),
      new DIDResolverPlugin({ resolver } as never),
    ],
  });
  return { agent, privateKeys, dataSource };
}
