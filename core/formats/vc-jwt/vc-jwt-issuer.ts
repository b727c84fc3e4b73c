import { createAgent, type ICredentialPlugin, type IDIDManager, type IKeyManager, type IResolver, type TAgent } from '@veramo/core';
import { CredentialPlugin } from '@veramo/credential-w3c';
import { CredentialProviderJWT } from '@veramo/credential-jwt';
import { DIDManager, MemoryDIDStore } from '@veramo/did-manager';
import { DIDResolverPlugin } from '@veramo/did-resolver';
import { KeyManager, MemoryKeyStore, MemoryPrivateKeyStore } from '@veramo/key-manager';
import { KeyManagementSystem } from '@veramo/kms-local';
import type { Resolver } from 'did-resolver';
import type { JWK } from 'jose';
import type { DidIdentity } from '../../keys/did-identity.ts';

/**
 * W3C VC-JWT (VCDM 1.1, `jwt_vc_json`) issuance through Veramo credential-w3c.
 *
 * Veramo re-reads the DID and decrypts the key from the database on every signature; to keep the
 * hot path free of that, this agent lives in memory only: at start-up each office's key (already
 * decrypted once by loadDidWebIdentity) is imported into an in-memory key store, and nothing here
 * touches a database. The key's Veramo `kid` is the DID document fragment, so the JWS header
 * names the verification method a verifier will find.
 */
type Agent = TAgent<IKeyManager & IDIDManager & IResolver & ICredentialPlugin>;

export interface VcJwtInput {
  issuer: DidIdentity;
  /** Extra W3C types after `VerifiableCredential`. */
  types: string[];
  /** Holder DID (credentialSubject.id) the credential is bound to. */
  holder: string;
  claims: Record<string, unknown>;
  issuedAt: number;
  expiresAt: number;
  /** VCDM 1.1 §4.2 `id` of the credential; VCDM 1.1 §6.3.1 carries it as the JWT `jti`. */
  id?: string;
  /** VCDM 1.1 §4.9: one status object (an array is not VCDM 1.1, and wallets refuse it). */
  credentialStatus?: Record<string, unknown>;
}

export class VcJwtIssuer {
  private constructor(private readonly agent: Agent) {}

  static async create(identities: DidIdentity[], resolver: Resolver): Promise<VcJwtIssuer> {
    const agent = createAgent<IKeyManager & IDIDManager & IResolver & ICredentialPlugin>({
      plugins: [
        new KeyManager({ store: new MemoryKeyStore(), kms: { mem: new KeyManagementSystem(new MemoryPrivateKeyStore()) } }),
        new DIDManager({ store: new MemoryDIDStore(), defaultProvider: 'did:web', providers: {} }),
        new DIDResolverPlugin({ resolver } as never),
        new CredentialPlugin([new CredentialProviderJWT()]),
      ],
    });
    for (const id of identities) {
      const jwk = id.signer.privateKey.export({ format: 'jwk' }) as JWK;
      const pub = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]).toString('hex');
      await agent.didManagerImport({
        did: id.did,
        provider: 'did:web',
        controllerKeyId: `${id.did}#${id.keys[0]!.fragment}`,
        keys: [{ kid: `${id.did}#${id.keys[0]!.fragment}`, kms: 'mem', type: 'Secp256r1', privateKeyHex: Buffer.from(jwk.d!, 'base64url').toString('hex'), publicKeyHex: pub }],
        services: [],
      });
    }
    return new VcJwtIssuer(agent);
  }

  async issue(input: VcJwtInput): Promise<string> {
    const vc = await this.agent.createVerifiableCredential({
      proofFormat: 'jwt',
      credential: {
        '@context': ['https://www.w3.org/2018/credentials/v1'],
        ...(input.id ? { id: input.id } : {}),
        type: ['VerifiableCredential', ...input.types],
        issuer: { id: input.issuer.did },
        issuanceDate: new Date(input.issuedAt).toISOString(),
        expirationDate: new Date(input.expiresAt).toISOString(),
        credentialSubject: { id: input.holder, ...input.claims },
        ...(input.credentialStatus ? { credentialStatus: input.credentialStatus as never } : {}),
      },
      // did-jwt puts these into the JWS header: the verification method by its DID URL.
      header: { kid: input.issuer.signer.kid, typ: 'JWT' },
    } as never);
    return (vc.proof as { jwt: string }).jwt;
  }
}

/** did:jwk of a public JWK (did:jwk spec §2: base64url of the JWK's JSON). */
export function didJwk(jwk: JWK): string {
  const { kty, crv, x, y } = jwk;
  return `did:jwk:${Buffer.from(JSON.stringify({ crv, kty, x, y })).toString('base64url')}`;
}
