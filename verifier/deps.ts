import type { Resolver } from 'did-resolver';
import type { DcqlQuery } from 'dcql';
import type { RelyingPartyDef } from '../core/catalog/model.ts';
import type { Sealer } from '../core/crypto/seal.ts';
import type { DidIdentity } from '../core/keys/did-identity.ts';
import type { Logger } from '../core/log/logger.ts';
import type { StatusListClient } from '../core/status-list/status-list-client.ts';
import type { BitstringStatusClient } from '../core/status-list/bitstring-status-client.ts';
import type { SnapshotClient } from '../core/trust/snapshot.ts';
import type { I18nText } from '../core/trust/model.ts';
import type { Clock } from '../core/util/time.ts';
import type { TrustAnchors } from '../core/x509/trust-anchors.ts';
import type { VerifierCatalog } from './catalog/catalog.ts';
import type { VerifierSettings } from './config.ts';
import type { VerifierStore } from './store/verifier-store.ts';
import type { VerifierInfoClient } from './verifier-info.ts';

/** A counter's query template: the DCQL query as stored, and as `dcql` parsed and validated it once when it was stored. */
export interface Template {
  id: string;
  name: I18nText;
  dcql_query: Record<string, unknown>;
  parsed: DcqlQuery;
}

/**
 * One relying party (a counter) hosted by this verifier: its own did:web and request-signing key,
 * and its templates, from the catalogue (verifier/catalog/).
 */
export interface RelyingParty {
  slug: string;
  name: I18nText;
  identity: DidIdentity;
  /**
   * OID4VP 1.0 §5.9.3: client identifier with the `decentralized_identifier:` prefix (default), or
   * `x509_hash:` for a relying party with a city-CA certificate (verifier/x509-clients.ts).
   */
  clientId: string;
  /** With `x509_hash:`: the request-signing certificate chain (RFC 7515 §4.1.6 `x5c`, leaf first) sent in the Request Object header. */
  x5c?: string[];
  templates: Map<string, Template>;
  /** The catalogue definition it was built from. */
  def: RelyingPartyDef;
}

export interface VerifierDeps {
  publicUrl: string;
  /** The demo web wallet, for same-device links on the counter page. */
  walletUrl: string;
  /** The relying parties of the catalogue; entries are replaced in place when it changes (read them at request time). */
  rps: Map<string, RelyingParty>;
  catalog: VerifierCatalog;
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
  /** City CAs trusted for issuer certificates (`x5c`, HAIP): VERIFIER_TRUSTED_CA_FILES and, in demo mode, the demo city CA. */
  trustedCas?: TrustAnchors;
  /** Registration attestations from the registry, sent as OID4VP 1.0 §5.1 `verifier_info` (verifier/verifier-info.ts). */
  verifierInfo?: VerifierInfoClient;
}
