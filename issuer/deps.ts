import { createHmac, hkdfSync } from 'node:crypto';
import type { Resolver } from 'did-resolver';
import type { Sealer } from '../core/crypto/seal.ts';
import type { DidIdentity } from '../core/keys/did-identity.ts';
import type { Logger } from '../core/log/logger.ts';
import type { SnapshotClient } from '../core/trust/snapshot.ts';
import type { VcJwtIssuer } from '../core/formats/vc-jwt/vc-jwt-issuer.ts';
import type { I18nText } from '../core/trust/model.ts';
import type { Clock } from '../core/util/time.ts';
import type { CredentialConfiguration } from './credential-configurations.ts';
import type { IssuerStore } from './store/issuer-store.ts';
import type { OfficeCertificates } from './office-certificates.ts';
import type { SelfServiceDef } from '../core/catalog/model.ts';
import type { TrustAnchors } from '../core/x509/trust-anchors.ts';

/** One city office hosted by this issuer: its own DID, key, Credential Issuer Identifier and types. */
export interface Office {
  slug: string;
  name: I18nText;
  identity: DidIdentity;
  /** OID4VCI 1.0 §11.1 Credential Issuer Identifier: `<ISSUER_PUBLIC_URL>/offices/<slug>`. */
  issuerId: string;
  /** From the catalogue (issuer/catalog/): replaced in place when the office or one of its types changes. */
  configurations: Map<string, CredentialConfiguration>;
  /** From the catalogue's `oauth` (issue 17, HAIP): what the token and credential endpoints require of wallets; absent: nothing more than before. */
  oauth?: OfficeOAuth;
  /** From the catalogue's `self_service` (issue 17), only while a city identity provider is configured (`IssuerDeps.oidc`). */
  selfService?: SelfServiceDef;
}

/** Per-office OAuth requirements (core/catalog/model.ts `zOfficeDef.oauth`). */
export interface OfficeOAuth {
  /** RFC 9449: token requests must carry a DPoP proof; only DPoP-bound access tokens are accepted. */
  requireDpop: boolean;
  /** Token requests (and PAR) must carry a wallet attestation (OAuth-Client-Attestation, OID4VCI 1.0 Appendix E). */
  requireWalletAttestation: boolean;
  /** A wallet attestation PoP must carry a server challenge (`challenge`, issuer/oauth/wallet-attestation.ts). */
  requireAttestationChallenge?: boolean;
}

export interface IssuerDeps {
  publicUrl: string;
  /** The demo web wallet, for same-device links on the desk page. */
  walletUrl: string;
  offices: Map<string, Office>;
  store: IssuerStore;
  /** Seals offer claims at rest. */
  sealer: Sealer;
  /** Derives pre-authorized codes and hashes tx_codes (HMAC keys from the key-encryption secret). */
  codes: CodeKeys;
  trust: SnapshotClient;
  /** VC-JWT signing with the offices' keys, in memory (rebuilt on key rotation). */
  vcJwt: VcJwtIssuer;
  resolver: Resolver;
  clock: Clock;
  logger: Logger;
  settings: IssuerSettings;
  /** HAIP: certificates of the offices' keys from the city CA, sent as `x5c` (with the https `iss`). */
  certificates?: OfficeCertificates;
  /** The city's OpenID Connect provider for self-service logins (ISSUER_OIDC_*; the demo IdP in demo mode). */
  oidc?: OidcSettings;
  /** HAIP: CAs trusted for wallet attestations and key attestations (ISSUER_WALLET_PROVIDER_CA_FILES; in demo mode also the demo city CA). */
  walletProviders?: TrustAnchors;
}

export interface IssuerSettings {
  /** Default offer lifetime in seconds. */
  offerTtl: number;
  accessTokenTtl: number;
  /** Access token lifetime for offers that wait for a clerk's approval (they are collected later). */
  deferredAccessTokenTtl: number;
  nonceTtl: number;
  /** Largest number of credentials (proofs) in one request (OID4VCI 1.0 §12.2.4 batch_credential_issuance). */
  batchSize: number;
  /** Status list size in entries. */
  statusListSize: number;
  /** Seconds the registry snapshot is relied on before it is fetched again (ISSUER_TRUST_MAX_AGE). */
  trustMaxAge: number;
  /**
   * ISSUER_X5C (default 1): with a city CA, SD-JWT VCs carry the office's certificate chain as `x5c` and
   * `iss` is the office's https Credential Issuer Identifier, a subjectAltName URI of that certificate
   * (SD-JWT VC §2.5; HAIP; wallets such as Credo 0.6.3 refuse `x5c` beside a did:web `iss`). The did:web
   * stays the entity the registry authorises, named in the certificate and kept as the header `kid`.
   * 0, or no city CA: did:web `iss` and `kid` only. docs/haip.md.
   */
  x5c: boolean;
  /** Seconds between checks for key changes made by other processes (ISSUER_KEY_REFRESH). */
  keyRefresh: number;
  /** Seconds within which a catalogue change made by another process or instance takes effect here (CATALOG_REFRESH, default 2). */
  catalogRefresh: number;
}

/** The city identity provider the issuer is a client of (issuer/login/). */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
}

/** HMAC keys derived from the key-encryption secret: nothing secret about an offer is stored in clear. */
export class CodeKeys {
  private readonly preAuth: Buffer;
  private readonly txCode: Buffer;
  private readonly dpopNonce: Buffer;

  constructor(secretHex: string) {
    const ikm = Buffer.from(secretHex, 'hex');
    this.preAuth = Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), 'id-ideal:pre-authorized-code', 32));
    this.txCode = Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), 'id-ideal:tx-code', 32));
    this.dpopNonce = Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), 'id-ideal:dpop-nonce', 32));
  }

  /** The pre-authorized code of an offer: derived, so the offer object can be served without storing it. */
  preAuthorizedCode(offerId: string): string {
    return createHmac('sha256', this.preAuth).update(`code:${offerId}`).digest('base64url');
  }

  /** What is stored to look a code up: a hash of the code, never the code. */
  codeHash(code: string): string {
    return createHmac('sha256', this.preAuth).update(`lookup:${code}`).digest('hex');
  }

  transactionHash(transactionId: string): string {
    return createHmac('sha256', this.preAuth).update(`transaction:${transactionId}`).digest('hex');
  }

  /** MAC of a stateless DPoP nonce (issuer/oauth/dpop.ts, RFC 9449 §8): same key in every worker and instance. */
  dpopNonceMac(data: string): Buffer {
    return createHmac('sha256', this.dpopNonce).update(data).digest();
  }

  /**
   * What is stored to check a tx_code: a MAC of the code bound to the offer's pre-authorized code
   * (its lookup hash), so the token request alone gives both hashes and the code is redeemed in one
   * statement (issue 16). Never the tx_code itself.
   */
  txCodeHash(codeHash: string, txCode: string): string {
    return createHmac('sha256', this.txCode).update(`code:${codeHash}:${txCode}`).digest('hex');
  }

  /** The tx_code hash of offers created before it was bound to the code: bound to the offer id. Checked on the token endpoint's slow path only. */
  legacyTxCodeHash(offerId: string, txCode: string): string {
    return createHmac('sha256', this.txCode).update(`${offerId}:${txCode}`).digest('hex');
  }
}
