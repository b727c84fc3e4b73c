import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, decodeJwt, type JWK } from 'jose';
import type { Resolver } from 'did-resolver';
import { setGlobalConfig } from '@openid4vc/openid4vci';
import { createDidResolver } from '../../core/did/resolver.ts';
import { didWebFor } from '../../core/did/did-web.ts';
import { SnapshotClient } from '../../core/trust/snapshot.ts';
import type { Clock } from '../../core/util/time.ts';
import { systemClock } from '../../core/util/time.ts';
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
  clock: Clock;
}

export interface WalletOptions {
  dir: string;
  passphrase: string;
  registryUrl: string;
  /** Plain http is allowed only for localhost (CONTRACT); the protocol libraries need to be told. */
  allowLocalHttp: boolean;
  clock?: Clock;
}

export function openWallet(opts: WalletOptions): WalletContext {
  if (opts.allowLocalHttp) setGlobalConfig({ allowInsecureUrls: true });
  const resolver = createDidResolver();
  const clock = opts.clock ?? systemClock;
  return {
    store: WalletStore.open(opts.dir, opts.passphrase),
    resolver,
    trust: new SnapshotClient({ registryUrl: opts.registryUrl, registryDid: didWebFor(opts.registryUrl), resolver, clock }),
    clock,
  };
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
