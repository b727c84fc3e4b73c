import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadCommonConfig } from '../../core/config/env.ts';
import { secretWeakness } from '../../core/config/secret-strength.ts';

/** docs/contract.md, processes and environment: demo defaults, production refusals, http only for localhost. */
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
    const base = { NODE_ENV: 'production', DATA_DIR: dir(), KEY_ENCRYPTION_SECRET: randomBytes(32).toString('hex'), ISSUER_ADMIN_TOKEN: randomBytes(32).toString('base64url') };
    const https = { REGISTRY_PUBLIC_URL: 'https://registry.leipzig.example', ISSUER_PUBLIC_URL: 'https://issuer.leipzig.example', VERIFIER_PUBLIC_URL: 'https://verifier.leipzig.example', WALLET_PUBLIC_URL: 'https://wallet.leipzig.example' };
    expect(() => loadCommonConfig('issuer', { ...base })).toThrow(/https in production/);
    expect(() => loadCommonConfig('issuer', { ...base, ...https, ISSUER_ADMIN_TOKEN: undefined })).toThrow(/ISSUER_ADMIN_TOKEN is required/);
    expect(() => loadCommonConfig('issuer', { ...base, ...https, KEY_ENCRYPTION_SECRET: undefined })).toThrow(/KEY_ENCRYPTION_SECRET is required/);
    expect(loadCommonConfig('issuer', { ...base, ...https }).mode).toBe('production');
  });

  describe('production refuses weak and reused secrets (issue 18), naming the variable, never the value', () => {
    const https = { REGISTRY_PUBLIC_URL: 'https://registry.leipzig.example', ISSUER_PUBLIC_URL: 'https://issuer.leipzig.example', VERIFIER_PUBLIC_URL: 'https://verifier.leipzig.example', WALLET_PUBLIC_URL: 'https://wallet.leipzig.example' };
    const strong = () => ({ KEY_ENCRYPTION_SECRET: randomBytes(32).toString('hex'), ISSUER_ADMIN_TOKEN: randomBytes(32).toString('base64url'), REGISTRY_ADMIN_TOKEN: randomBytes(32).toString('base64url'), VERIFIER_ADMIN_TOKEN: randomBytes(24).toString('base64url') });
    const refused = (env: Record<string, string>, variable: RegExp, service: 'issuer' | 'registry' | 'wallet' = 'issuer') => {
      let error: unknown;
      try {
        loadCommonConfig(service, { NODE_ENV: 'production', DATA_DIR: dir(), ...https, ...env });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toMatch(variable);
      // Never the value, nor a recognisable part of it.
      for (const v of Object.values(env)) if (v.length >= 16) expect(message).not.toContain(v.slice(0, 8));
      return message;
    };

    it('accepts random secrets and tokens of each service', () => {
      expect(loadCommonConfig('issuer', { NODE_ENV: 'production', DATA_DIR: dir(), ...https, ...strong() }).mode).toBe('production');
      expect(loadCommonConfig('wallet', { NODE_ENV: 'production', DATA_DIR: dir(), ...https, KEY_ENCRYPTION_SECRET: randomBytes(32).toString('hex').toUpperCase() }).mode).toBe('production');
    });

    it('refuses an all-zero, a single-character or a patterned key secret', () => {
      refused({ ...strong(), KEY_ENCRYPTION_SECRET: '0'.repeat(64) }, /^KEY_ENCRYPTION_SECRET /);
      refused({ ...strong(), KEY_ENCRYPTION_SECRET: 'a'.repeat(64) }, /^KEY_ENCRYPTION_SECRET /);
      refused({ ...strong(), KEY_ENCRYPTION_SECRET: '0123456789abcdef'.repeat(4) }, /^KEY_ENCRYPTION_SECRET .*repeated/);
      refused({ ...strong(), KEY_ENCRYPTION_SECRET: 'deadbeef'.repeat(8) }, /^KEY_ENCRYPTION_SECRET /);
      refused({ KEY_ENCRYPTION_SECRET: '0'.repeat(64) }, /^KEY_ENCRYPTION_SECRET /, 'wallet');
    });

    it('refuses weak admin tokens', () => {
      refused({ ...strong(), ISSUER_ADMIN_TOKEN: 'a'.repeat(64) }, /^ISSUER_ADMIN_TOKEN /);
      refused({ ...strong(), ISSUER_ADMIN_TOKEN: 'x'.repeat(32) }, /^ISSUER_ADMIN_TOKEN /);
      refused({ ...strong(), ISSUER_ADMIN_TOKEN: 'abcdefghijklmnopqrstuvwxyz012345' }, /^ISSUER_ADMIN_TOKEN /);
      refused({ ...strong(), ISSUER_ADMIN_TOKEN: 'issuer-token-issuer-token-issuer-token' }, /^ISSUER_ADMIN_TOKEN /);
      // 24 characters of one hex digit pattern: long enough for the syntax, far too weak.
      refused({ ...strong(), ISSUER_ADMIN_TOKEN: '0123456789abcdef01234567' }, /^ISSUER_ADMIN_TOKEN /);
      // Three characters in four the same, the rest varied: no run, no repeat, enough distinct characters.
      const dominated = Array.from({ length: 64 }, (_, i) => (i % 4 === 3 ? '0123456789bcdef'[(i >> 2) % 15] : 'a')).join('');
      expect(secretWeakness(dominated)).toBe('is dominated by a few characters');
      refused({ ...strong(), ISSUER_ADMIN_TOKEN: dominated }, /^ISSUER_ADMIN_TOKEN is dominated/);
    });

    it('refuses one token for several services, and a token equal to the key secret', () => {
      const env = strong();
      expect(refused({ ...env, REGISTRY_ADMIN_TOKEN: env.ISSUER_ADMIN_TOKEN }, /ISSUER_ADMIN_TOKEN must differ from REGISTRY_ADMIN_TOKEN/)).not.toContain(env.ISSUER_ADMIN_TOKEN);
      refused({ ...env, VERIFIER_ADMIN_TOKEN: env.ISSUER_ADMIN_TOKEN }, /ISSUER_ADMIN_TOKEN must differ from VERIFIER_ADMIN_TOKEN/);
      refused({ ...env, REGISTRY_ADMIN_TOKEN: env.ISSUER_ADMIN_TOKEN }, /REGISTRY_ADMIN_TOKEN must differ from ISSUER_ADMIN_TOKEN/, 'registry');
      refused({ ...env, ISSUER_ADMIN_TOKEN: env.KEY_ENCRYPTION_SECRET }, /ISSUER_ADMIN_TOKEN must differ from KEY_ENCRYPTION_SECRET/);
      // A service sees the others' tokens only when they share its environment; the wallet checks what it sees.
      refused({ KEY_ENCRYPTION_SECRET: env.KEY_ENCRYPTION_SECRET, VERIFIER_ADMIN_TOKEN: env.KEY_ENCRYPTION_SECRET.toUpperCase() }, /VERIFIER_ADMIN_TOKEN must differ from KEY_ENCRYPTION_SECRET/, 'wallet');
    });

    it('keeps demo mode as it was (fixed test secrets), and never refuses a random value', () => {
      expect(loadCommonConfig('issuer', { DATA_DIR: dir(), KEY_ENCRYPTION_SECRET: 'a'.repeat(64), ISSUER_ADMIN_TOKEN: 'x'.repeat(32) }).mode).toBe('demo');
      for (let i = 0; i < 300; i++) {
        expect(secretWeakness(randomBytes(32).toString('hex'))).toBeUndefined();
        expect(secretWeakness(randomBytes(16).toString('hex'))).toBeUndefined();
        expect(secretWeakness(randomBytes(24).toString('base64url'))).toBeUndefined();
        expect(secretWeakness(randomBytes(32).toString('base64'))).toBeUndefined();
      }
    });
  });

  it('accepts plain http only for localhost, and refuses malformed settings', () => {
    expect(() => loadCommonConfig('registry', { DATA_DIR: dir(), REGISTRY_PUBLIC_URL: 'http://registry.example' })).toThrow(ConfigError);
    expect(() => loadCommonConfig('registry', { DATA_DIR: dir(), REGISTRY_PORT: 'abc' })).toThrow(/REGISTRY_PORT/);
    expect(() => loadCommonConfig('registry', { DATA_DIR: dir(), KEY_ENCRYPTION_SECRET: 'short' })).toThrow(/64 hex/);
    expect(() => loadCommonConfig('registry', { DATA_DIR: dir(), REGISTRY_ADMIN_TOKEN: 'short' })).toThrow(/at least 24/);
    expect(() => loadCommonConfig('registry', { DATA_DIR: dir(), DATABASE_URL: 'mysql://x' })).toThrow(/postgres/);
    for (const bad of ['0', '101', '2.5', 'viele']) expect(() => loadCommonConfig('registry', { DATA_DIR: dir(), DATABASE_POOL_SIZE: bad }), bad).toThrow(/DATABASE_POOL_SIZE/);
    expect(loadCommonConfig('registry', { DATA_DIR: dir(), DATABASE_POOL_SIZE: '12' }).databasePoolSize).toBe(12);
    expect(loadCommonConfig('registry', { DATA_DIR: dir() }).databasePoolSize).toBeUndefined();
    expect(loadCommonConfig('registry', { DATA_DIR: dir(), REGISTRY_PUBLIC_URL: 'http://127.0.0.1:9000/' }).publicUrl).toBe('http://127.0.0.1:9000');
  });
});
