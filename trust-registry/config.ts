import { z } from 'zod';
import { ConfigError, conformanceOfficeFromEnv, loadCommonConfig, type CommonConfig } from '../core/config/env.ts';

export interface RegistryConfig extends CommonConfig {
  adminToken: string;
  /** Seconds a snapshot stays current (`next_update - iat`). REGISTRY_SNAPSHOT_TTL, default 3600. */
  snapshotTtl: number;
  /** Path segment of the root authority's did:web under the registry. REGISTRY_ROOT_AUTHORITY, default `leipzig`. */
  rootSlug: string;
  /** Seed demo Leipzig (demo mode only). */
  seedDemo: boolean;
  /** ISSUER_CONFORMANCE_OFFICE=1 (the issuer's variable): the seed also authorizes the W3C conformance office (demo mode only). */
  conformanceOffice: boolean;
}

export function loadRegistryConfig(env: NodeJS.ProcessEnv = process.env): RegistryConfig {
  const common = loadCommonConfig('registry', env);
  const ttl = z.coerce.number().int().min(30).max(86_400).safeParse(env.REGISTRY_SNAPSHOT_TTL ?? 3600);
  if (!ttl.success) throw new ConfigError('REGISTRY_SNAPSHOT_TTL must be between 30 and 86400 seconds');
  const rootSlug = env.REGISTRY_ROOT_AUTHORITY ?? 'leipzig';
  if (!/^[a-z0-9-]{2,64}$/.test(rootSlug)) throw new ConfigError('REGISTRY_ROOT_AUTHORITY must be a lowercase slug');
  return { ...common, adminToken: common.adminToken!, snapshotTtl: ttl.data, rootSlug, seedDemo: common.mode === 'demo' && env.SEED_DEMO !== 'false', conformanceOffice: conformanceOfficeFromEnv(env, common.mode) };
}
