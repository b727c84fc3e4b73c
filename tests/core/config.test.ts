import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadCommonConfig } from '../../core/config/env.ts';

/** CONTRACT, processes and environment: demo defaults, production refusals, http only for localhost. */
describe('service configuration', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'idideal-config-'));

  it('demo mode generates the admin token and key secret once, owner-only, and reuses them', () => {
    const DATA_DIR = dir();
    const first = loadCommonConfig('issuer', { DATA_DIR });
    expect(first.mode).toBe('demo');
    expect(first.notices.join('\n')).toContain(first.adminToken!);
    expect(statSync(join(DATA_DIR, 'secrets', 'issuer-admin-token')).mode & 0o077).toBe(0);
    expect(readFileSync(join(DATA_DIR, 'secrets', 'key-encryption.secret'), 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    const again = loadCommonConfig('issuer', { DATA_DIR });
    expect(again.adminToken).toBe(first.adminToken);
    expect(again.notices).toEqual([]);
    expect(first.publicUrl).toBe('http://localhost:3001');
    expect(first.urls.registry).toBe('http://localhost:3003');
  });

  it('production mode refuses to start without tokens, the key secret or https URLs', () => {
    const base = { NODE_ENV: 'production', DATA_DIR: dir(), KEY_ENCRYPTION_SECRET: 'a'.repeat(64), ISSUER_ADMIN_TOKEN: 'x'.repeat(32) };
    const https = { REGISTRY_PUBLIC_URL: 'https://registry.leipzig.example', ISSUER_PUBLIC_URL: 'https://issuer.leipzig.example', VERIFIER_PUBLIC_URL: 'https://verifier.leipzig.example', WALLET_PUBLIC_URL: 'https://wallet.leipzig.example' };
    expect(() => loadCommonConfig('issuer', { ...base })).toThrow(/https in production/);
    expect(() => loadCommonConfig('issuer', { ...base, ...https, ISSUER_ADMIN_TOKEN: undefined })).toThrow(/ISSUER_ADMIN_TOKEN is required/);
    expect(() => loadCommonConfig('issuer', { ...base, ...https, KEY_ENCRYPTION_SECRET: undefined })).toThrow(/KEY_ENCRYPTION_SECRET is required/);
    expect(loadCommonConfig('issuer', { ...base, ...https }).mode).toBe('production');
  });

  it('accepts plain http only for localhost, and refuses malformed settings', () => {
    expect(() => loadCommonConfig('registry', { DATA_DIR: dir(), REGISTRY_PUBLIC_URL: 'http://registry.example' })).toThrow(ConfigError);
    expect(() => loadCommonConfig('registry', { DATA_DIR: dir(), REGISTRY_PORT: 'abc' })).toThrow(/REGISTRY_PORT/);
    expect(() => loadCommonConfig('registry', { DATA_DIR: dir(), KEY_ENCRYPTION_SECRET: 'short' })).toThrow(/64 hex/);
    expect(() => loadCommonConfig('registry', { DATA_DIR: dir(), REGISTRY_ADMIN_TOKEN: 'short' })).toThrow(/at least 24/);
    expect(() => loadCommonConfig('registry', { DATA_DIR: dir(), DATABASE_URL: 'mysql://x' })).toThrow(/postgres/);
    expect(loadCommonConfig('registry', { DATA_DIR: dir(), REGISTRY_PUBLIC_URL: 'http://127.0.0.1:9000/' }).publicUrl).toBe('http://127.0.0.1:9000');
  });
});
