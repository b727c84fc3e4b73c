import type { KeyAgentParts } from '../core/keys/agent.ts';
import { loadDidWebIdentity, type DidIdentity } from '../core/keys/did-identity.ts';
import { Mutex } from '../core/util/mutex.ts';

/**
 * Keys of the authorities the registry hosts (`did:web:<registry host>:authorities:<slug>`: the
 * city and its departments). A department registered at runtime (`POST /api/entities`, kind
 * `authority`, under that path) gets its key and DID document at once, so the registry can sign
 * its accreditations of offices (issue 15); other registry instances load it from the shared key
 * store on first use. Reading never creates a key: a DID document is served only for an authority
 * whose key exists.
 */
export class AuthorityKeys {
  private readonly mutex = new Mutex();

  constructor(
    private readonly keys: KeyAgentParts,
    /** The same map the Registry signs with (RegistryDeps.hosted). */
    private readonly hosted: Map<string, DidIdentity>,
    private readonly registryDid: string,
  ) {}

  /** Whether `did` names an authority under this registry's `authorities` path. */
  hosts(did: string): boolean {
    return /^[a-z0-9][a-z0-9-]{0,63}$/.test(did.slice(`${this.registryDid}:authorities:`.length)) && did.startsWith(`${this.registryDid}:authorities:`);
  }

  /** Creates (first time) or loads the authority's key; call only for a registered authority entity. */
  ensure(did: string): Promise<DidIdentity> {
    return this.mutex.run(async () => {
      const known = this.hosted.get(did);
      if (known) return known;
      const identity = await loadDidWebIdentity(this.keys, did);
      this.hosted.set(did, identity);
      return identity;
    });
  }

  /** The hosted identity, loading one another instance created; undefined when there is no key. */
  async lookup(did: string): Promise<DidIdentity | undefined> {
    const known = this.hosted.get(did);
    if (known || !this.hosts(did)) return known;
    try {
      await this.keys.agent.didManagerGet({ did });
    } catch {
      return undefined;
    }
    return this.ensure(did);
  }
}
