import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, decodeJwt, type JWK } from 'jose';
import type { Resolver } from 'did-resolver';
import { setGlobalConfig } from '@openid4vc/openid4vci';
import { createDidResolver } from '../../core/did/resolver.ts';
import { didWebFor } from '../../core/did/did-web.ts';
import { SnapshotClient } from '../../core/trust/snapshot.ts';
import type { Clock } from '../../core/util/time.ts';
import { systemClock } from '../../core/util/time.ts';
import type { x509 } from '../../core/x509/pem.ts';
import { WalletStore, type HolderKeyRecord } from './store.ts';

/** A clear error for the citizen (German / English), never a stack trace. */
export class WalletError extends Error {
  override name = 'WalletError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface WalletContext {
  store: WalletStore;
  resolver: Resolver;
  trust: SnapshotClient;
  /** The trust registry's DID: signs the snapshots and the relying parties' registration attestations (verifier-info.ts). */
  registryDid?: string;
  clock: Clock;
  /** Demo mode: plain http is acceptable for loopback hosts (see fetchableUrl). */
  allowLocalHttp: boolean;
  /**
   * City CAs trusted for `x509_hash` requests (OID4VP 1.0 §5.9.3; core/x509/trust-anchors.ts, e.g.
   * WALLET_TRUSTED_CA_FILES and the demo city CA). Absent: such requests are refused.
   */
  trustedCas?: () => readonly x509.X509Certificate[];
}

export interface WalletOptions {
  dir: string;
  passphrase: string;
  registryUrl: string;
  /** Plain http is allowed only for localhost (docs/contract.md); the protocol libraries need to be told. */
  allowLocalHttp: boolean;
  clock?: Clock;
  trustedCas?: () => readonly x509.X509Certificate[];
}

/** Opens the wallet; the key derivation runs off the event loop (see WalletStore.open). */
export async function openWallet(opts: WalletOptions): Promise<WalletContext> {
  if (opts.allowLocalHttp) setGlobalConfig({ allowInsecureUrls: true });
  const resolver = createDidResolver();
  const clock = opts.clock ?? systemClock;
  return {
    store: await WalletStore.open(opts.dir, opts.passphrase),
    resolver,
    trust: new SnapshotClient({ registryUrl: opts.registryUrl, registryDid: didWebFor(opts.registryUrl), resolver, clock }),
    registryDid: didWebFor(opts.registryUrl),
    clock,
    allowLocalHttp: opts.allowLocalHttp,
    ...(opts.trustedCas ? { trustedCas: opts.trustedCas } : {}),
  };
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether the wallet may contact this URL on the citizen's behalf: https only (OID4VP 1.0 §14.7,
 * TLS with a certificate check); plain http only for loopback hosts in demo mode (docs/contract.md).
 * No user info in the URL.
 */
export function fetchableUrl(raw: string, allowLocalHttp: boolean): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && allowLocalHttp && LOOPBACK.has(url.hostname);
}

/** A fresh P-256 holder key, one per credential copy, so copies cannot be linked by key. */
export async function newHolderKey(ctx: WalletContext): Promise<HolderKeyRecord> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  const id = await calculateJwkThumbprint({ kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! });
  const rec = { id, jwk };
  ctx.store.update((d) => d.keys.push(rec));
  return rec;
}

export const publicJwk = (k: HolderKeyRecord): JWK => ({ kty: k.jwk.kty!, crv: k.jwk.crv!, x: k.jwk.x!, y: k.jwk.y! });

export const newId = () => randomUUID();

/** Decoded payload of a compact JWT or of an SD-JWT's issuer part, without verification (display only). */
export const peekPayload = (token: string) => decodeJwt(token.split('~')[0]!);
