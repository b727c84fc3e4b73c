/**
 * A third-party holder for interop tests: a Credo agent (@credo-ts/core + @credo-ts/openid4vc 0.6.3)
 * that receives credentials over OID4VCI 1.0 and presents them over OID4VP 1.0, with Credo's own
 * OID4VC code and nothing of ours in the protocol path.
 *
 * Credo's packaged wallet set-ups need native code (Askar's FFI download; @credo-ts/node, which
 * carries the Node KMS, is not published for 0.6.3), so the few pieces an agent needs underneath
 * are written for the test here: an in-memory record store (memory-storage.ts), a P-256 key
 * backend on node:crypto (p256-kms.ts), a did:web resolver that also speaks http to the loopback
 * test stack, and the agent's platform dependencies.
 */
import { EventEmitter } from 'node:events';
import {
  X509Module,
  Agent,
  ConsoleLogger,
  DidDocument,
  DidsModule,
  InjectionSymbols,
  JsonTransformer,
  JwkDidRegistrar,
  JwkDidResolver,
  KeyDidResolver,
  Kms,
  LogLevel,
  StorageUpdateService,
  UpdateAssistant,
  WebDidResolver,
  type AgentContext,
  type AgentDependencies,
  type DependencyManager,
  type DidResolutionResult,
  type DidResolver,
  type FileSystem,
  type JwkDidCreateOptions,
  type Module,
  type ParsedDid,
} from '@credo-ts/core';
import { OpenId4VcModule, type OpenId4VciCredentialBindingResolver } from '@credo-ts/openid4vc';
import { MemoryStorageService } from './memory-storage.ts';
import { P256KeyManagementService } from './p256-kms.ts';

/** Registers the in-memory store and the P-256 key backend with the agent. */
class TestWalletModule implements Module {
  register(dm: DependencyManager) {
    dm.registerInstance(InjectionSymbols.StorageService, new MemoryStorageService());
    dm.resolve(Kms.KeyManagementModuleConfig).registerBackend(new P256KeyManagementService());
  }

  /** A new store is at the framework's storage version (what a real store records when it is created), so nothing is migrated. */
  async initialize(ctx: AgentContext) {
    const updates = ctx.dependencyManager.resolve(StorageUpdateService);
    if (!(await updates.hasStorageVersionRecord(ctx))) await updates.setCurrentStorageVersion(ctx, UpdateAssistant.frameworkStorageVersion);
  }
}

/**
 * did:web (did:web method spec §3.2 "Read"): `did:web:localhost%3A<port>[:path]` is fetched over
 * http from the loopback test stack; every other did:web goes to Credo's resolver (https only).
 */
class LoopbackWebDidResolver implements DidResolver {
  readonly supportedMethods = ['web'];
  readonly allowsCaching = false;
  readonly allowsLocalDidRecord = false;
  private readonly web = new WebDidResolver();

  async resolve(ctx: AgentContext, did: string, parsed: ParsedDid, options: Record<string, unknown>): Promise<DidResolutionResult> {
    const m = /^did:web:(localhost|127\.0\.0\.1)%3A(\d+)((?::[^:#?/]+)*)$/.exec(did);
    if (!m) return this.web.resolve(ctx, did, parsed, options as never);
    const path = m[3] ? m[3].slice(1).split(':').map(decodeURIComponent).join('/') : '.well-known';
    const res = await fetch(`http://${m[1]}:${m[2]}/${path}/did.json`, { redirect: 'error' });
    if (!res.ok) return { didDocument: null, didDocumentMetadata: {}, didResolutionMetadata: { error: 'notFound', message: `HTTP ${res.status}` } };
    const doc = JsonTransformer.fromJSON(await res.json(), DidDocument);
    if (doc.id !== did) return { didDocument: null, didDocumentMetadata: {}, didResolutionMetadata: { error: 'invalidDid', message: 'document id is not the DID' } };
    return { didDocument: doc, didDocumentMetadata: {}, didResolutionMetadata: { contentType: 'application/did+json' } };
  }
}

/** The agent's FileSystem dependency, in memory (an OID4VC holder with an in-memory store writes no files). */
class MemoryFileSystem implements FileSystem {
  readonly dataPath = '/credo-test-holder/data';
  readonly cachePath = '/credo-test-holder/cache';
  readonly tempPath = '/credo-test-holder/tmp';
  private readonly files = new Map<string, string>();
  exists = async (p: string) => this.files.has(p);
  createDirectory = async () => {};
  copyFile = async (from: string, to: string) => void this.files.set(to, await this.read(from));
  write = async (p: string, data: string) => void this.files.set(p, data);
  read = async (p: string) => {
    const data = this.files.get(p);
    if (data === undefined) throw new Error(`no file ${p}`);
    return data;
  };
  delete = async (p: string) => void this.files.delete(p);
  downloadToFile = async () => {
    throw new Error('this test holder downloads no files');
  };
}

const dependencies: AgentDependencies = {
  FileSystem: MemoryFileSystem,
  EventEmitterClass: EventEmitter,
  fetch,
  // No DIDComm transport is configured, so nothing opens a WebSocket.
  WebSocketClass: class {
    constructor() {
      throw new Error('this test holder opens no WebSocket');
    }
  } as never,
};

export type CredoHolder = Awaited<ReturnType<typeof createCredoHolder>>;

/**
 * `trustedCertificates`: the city CA(s) the wallet trusts for `x5c` issuer chains (HAIP). A wallet that
 * finds an `x5c` header checks the chain against these, as an EU wallet checks issuers against its trust list.
 */
export async function createCredoHolder(opts: { trustedCertificates?: string[] } = {}) {
  const agent = new Agent({
    config: { allowInsecureHttpUrls: true, logger: new ConsoleLogger(process.env.CREDO_LOG ? LogLevel.debug : LogLevel.off) },
    dependencies,
    modules: {
      wallet: new TestWalletModule(),
      dids: new DidsModule({ resolvers: [new LoopbackWebDidResolver(), new JwkDidResolver(), new KeyDidResolver()], registrars: [new JwkDidRegistrar()] }),
      openid4vc: new OpenId4VcModule(),
      x509: new X509Module({ trustedCertificates: opts.trustedCertificates ?? [] }),
    },
  });
  await agent.initialize();

  /**
   * OID4VCI 1.0 §12.2.4 cryptographic_binding_methods_supported: a fresh P-256 key per credential,
   * as did:jwk where the issuer lists did:jwk (the proof then names it as `kid: did:jwk:…#0`,
   * Appendix F.1), else as a bare `jwk`.
   */
  const credentialBindingResolver: OpenId4VciCredentialBindingResolver = async ({ supportedDidMethods, supportsAllDidMethods, supportsJwk }) => {
    if (supportsAllDidMethods || supportedDidMethods?.includes('did:jwk')) {
      const created = await agent.dids.create<JwkDidCreateOptions>({ method: 'jwk', options: { createKey: { type: { kty: 'EC', crv: 'P-256' } } } });
      if (created.didState.state !== 'finished') throw new Error(`did:jwk not created: ${created.didState.state}`);
      return { method: 'did', didUrls: [`${created.didState.did}#0`] };
    }
    if (supportsJwk) {
      const key = await agent.kms.createKey({ type: { kty: 'EC', crv: 'P-256' } });
      return { method: 'jwk', keys: [Kms.PublicJwk.fromPublicJwk(key.publicJwk)] };
    }
    throw new Error('the issuer offers neither did:jwk nor jwk binding');
  };

  return { agent, credentialBindingResolver };
}
