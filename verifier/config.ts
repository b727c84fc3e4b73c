import { ConfigError, intFromEnv, loadCommonConfig, type CommonConfig } from '../core/config/env.ts';
import { cityCaFilesFromEnv } from '../core/x509/city-ca.ts';
import { TrustAnchors } from '../core/x509/trust-anchors.ts';
import { x509HashClientsFromEnv } from './x509-clients.ts';

export interface VerifierSettings {
  /** Seconds a presentation request stays open (VERIFIER_REQUEST_TTL, default 300). */
  requestTtl: number;
  /** Seconds a verdict is kept for the counter, then deleted (VERIFIER_RESULT_TTL, default 900). */
  resultTtl: number;
  /** Longest a fetched status list is relied on (docs/contract.md: STATUS_LIST_MAX_AGE, default 300; 0 = always fetch). */
  statusListMaxAge: number;
  /** Seconds a registry snapshot is relied on before it is fetched again (VERIFIER_TRUST_MAX_AGE, default 60). */
  trustMaxAge: number;
  /** Seconds an issuer's did:web document is relied on (VERIFIER_DID_CACHE_MAX_AGE, default 60; 0 = fetch every time). */
  didCacheMaxAge: number;
  /**
   * Per credential type: seconds a status list verified earlier may still be used when it cannot be
   * fetched (STATUS_LIST_OFFLINE_GRACE="<vct>=<seconds>,…"; default none: fail closed).
   */
  statusOfflineGrace: Record<string, number>;
  /** Seconds within which a catalogue change made by another process or instance takes effect here (CATALOG_REFRESH, default 2). */
  catalogRefresh: number;
}

export interface VerifierConfig extends CommonConfig {
  adminToken: string;
  settings: VerifierSettings;
  /** Demo mode: apply Demo Leipzig's credential types and relying parties to an empty catalogue (SEED_DEMO=false turns it off). */
  seedDemo: boolean;
  /** HAIP: CAs whose `x5c` issuer certificates are accepted (VERIFIER_TRUSTED_CA_FILES; in demo mode also the demo city CA in DATA_DIR). */
  trustedCas: TrustAnchors;
  /** HAIP: counters that identify themselves as `x509_hash:` (VERIFIER_X509_HASH_CLIENTS), certified by the city CA (CITY_CA_CERT_FILE/CITY_CA_KEY_FILE). */
  x509Clients: { all: boolean; slugs: Set<string> };
  cityCa: { certFile?: string; keyFile?: string };
}

const int = intFromEnv;

export function loadVerifierConfig(env: NodeJS.ProcessEnv = process.env): VerifierConfig {
  const common = loadCommonConfig('verifier', env);
  return {
    ...common,
    adminToken: common.adminToken!,
    seedDemo: common.mode === 'demo' && env.SEED_DEMO !== 'false',
    trustedCas: TrustAnchors.fromEnv('VERIFIER_TRUSTED_CA_FILES', env, { mode: common.mode, dataDir: common.dataDir }),
    x509Clients: x509HashClientsFromEnv(env),
    cityCa: cityCaFilesFromEnv(env),
    settings: {
      requestTtl: int('VERIFIER_REQUEST_TTL', env, 300, 30, 3600),
      resultTtl: int('VERIFIER_RESULT_TTL', env, 900, 60, 7 * 86_400),
      statusListMaxAge: int('STATUS_LIST_MAX_AGE', env, 300, 0, 86_400),
      trustMaxAge: int('VERIFIER_TRUST_MAX_AGE', env, 60, 0, 3600),
      didCacheMaxAge: int('VERIFIER_DID_CACHE_MAX_AGE', env, 60, 0, 3600),
      statusOfflineGrace: parseGrace(env.STATUS_LIST_OFFLINE_GRACE),
      catalogRefresh: int('CATALOG_REFRESH', env, 2, 1, 3600),
    },
  };
}

function parseGrace(raw: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (raw ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\S+)=(\d{1,6})$/.exec(part);
    if (!m) throw new ConfigError('STATUS_LIST_OFFLINE_GRACE must be "<vct>=<seconds>,…"');
    out[m[1]!] = Number(m[2]);
  }
  return out;
}
