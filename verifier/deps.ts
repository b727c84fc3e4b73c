import type { Resolver } from 'did-resolver';
import type { Sealer } from '../core/crypto/seal.ts';
import type { DidIdentity } from '../core/keys/did-identity.ts';
import type { Logger } from '../core/log/logger.ts';
import type { StatusListClient } from '../core/status-list/status-list-client.ts';
import type { BitstringStatusClient } from '../core/status-list/bitstring-status-client.ts';
import type { SnapshotClient } from '../core/trust/snapshot.ts';
import type { I18nText } from '../core/trust/model.ts';
import type { Clock } from '../core/util/time.ts';
import type { VerifierSettings } from './config.ts';
import type { VerifierStore } from './store/verifier-store.ts';

/** One relying party (a counter) hosted by this verifier: its own did:web and request-signing key. */
export interface RelyingParty {
  slug: string;
  name: I18nText;
  identity: DidIdentity;
  /** OID4VP 1.0 §5.9.3: client identifier with the `decentralized_identifier:` prefix. */
  clientId: string;
}

export interface VerifierDeps {
  publicUrl: string;
  /** The demo web wallet, for same-device links on the counter page. */
  walletUrl: string;
  rps: Map<string, RelyingParty>;
  store: VerifierStore;
  /** Seals verdicts (they hold disclosed claims) and response-decryption keys at rest. */
  sealer: Sealer;
  /** Issuers', counters' and the registry's DIDs (did:web); an issuer's only after the registry named it. */
  resolver: Resolver;
  /** Presenters' (holders') DIDs: did:jwk and did:key only, offline (core/did/holder-resolver.ts). */
  holders: Resolver;
  trust: SnapshotClient;
  status: StatusListClient;
  /** W3C Bitstring Status Lists of VC-JWT credentials. */
  bitstring: BitstringStatusClient;
  clock: Clock;
  logger: Logger;
  settings: VerifierSettings;
}
