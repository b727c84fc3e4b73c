import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cityCaFilesFromEnv, CityCaError, demoCaPaths, importCa, openCityCa } from '../../core/x509/city-ca.ts';
import { issueLeafCertificate } from '../../core/x509/issue-certificate.ts';
import { pemOf } from '../../core/x509/pem.ts';
import { TrustAnchors, TrustAnchorError } from '../../core/x509/trust-anchors.ts';
import { operatorIntermediate, p256Signer } from './haip-fixtures.ts';

/** The city CA: demo CA created once under DATA_DIR with its key sealed; an operator's CA from PEM files; trusted CA files. */
const SECRET = 'c3'.repeat(32);
const tmp = () => mkdtempSync(join(tmpdir(), 'idideal-haip-ca-'));

describe('city CA (core/x509/city-ca.ts)', () => {
  it('creates the demo CA once: services starting together agree on it; its key is sealed, its certificate public', async () => {
    const dataDir = tmp();
    const now = Date.now();
    const [a, b] = await Promise.all([openCityCa({ mode: 'demo', dataDir, keyEncryptionSecret: SECRET, now }), openCityCa({ mode: 'demo', dataDir, keyEncryptionSecret: SECRET, now })]);
    expect(a!.certificate.toString('pem')).toBe(b!.certificate.toString('pem'));
    const again = await openCityCa({ mode: 'demo', dataDir, keyEncryptionSecret: SECRET, now });
    expect(again!.certificate.serialNumber).toBe(a!.certificate.serialNumber);
    const paths = demoCaPaths(dataDir);
    const stored = readFileSync(paths.store, 'utf8');
    expect(stored).not.toMatch(/PRIVATE KEY|"d":/);
    expect(statSync(paths.store).mode & 0o077).toBe(0);
    expect(readFileSync(paths.certificate, 'utf8')).toContain('BEGIN CERTIFICATE');
    await expect(openCityCa({ mode: 'demo', dataDir, keyEncryptionSecret: 'd4'.repeat(32), now })).rejects.toBeInstanceOf(CityCaError);
  });

  it('runs without a CA in production unless CITY_CA_CERT_FILE and CITY_CA_KEY_FILE are given', async () => {
    expect(await openCityCa({ mode: 'production', dataDir: tmp(), keyEncryptionSecret: SECRET, now: Date.now() })).toBeUndefined();
    expect(() => cityCaFilesFromEnv({ CITY_CA_CERT_FILE: '/etc/hosts' })).toThrow(/together/);
    expect(() => cityCaFilesFromEnv({ CITY_CA_CERT_FILE: '/nonexistent.pem', CITY_CA_KEY_FILE: '/nonexistent.key' })).toThrow(/CITY_CA_CERT_FILE/);
  });

  it('imports an operator’s intermediate CA with its chain from PEM files, and refuses a key that does not belong to it', async () => {
    const dir = tmp();
    const now = Date.now();
    const { intermediate, root, keyPem } = await operatorIntermediate(now);
    const certFile = join(dir, 'ca.pem');
    const keyFile = join(dir, 'ca.key');
    writeFileSync(certFile, pemOf([intermediate.certificate, root]));
    writeFileSync(keyFile, keyPem, { mode: 0o600 });
    const ca = await openCityCa({ mode: 'production', dataDir: dir, keyEncryptionSecret: SECRET, now, ...cityCaFilesFromEnv({ CITY_CA_CERT_FILE: certFile, CITY_CA_KEY_FILE: keyFile }) });
    expect(ca!.certificate.subject).toBe('CN=Stadt Leipzig Ausweis-CA');
    expect(ca!.root.serialNumber).toBe(root.serialNumber);
    expect(ca!.chainAbove).toHaveLength(0);
    writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, { mode: 0o600 });
    await expect(openCityCa({ mode: 'production', dataDir: dir, keyEncryptionSecret: SECRET, now, certFile, keyFile })).rejects.toThrow(/does not belong/);
    // An end-entity certificate is no CA: refused with the variable named.
    const ee = p256Signer('x');
    const leaf = await issueLeafCertificate(ca!, { publicJwk: ee.publicJwk, name: 'Kein CA', uris: ['https://x.example'], now });
    await expect(importCa(pemOf([leaf.certificate]), ee.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, now)).rejects.toThrow(/CITY_CA_CERT_FILE: the first certificate is not a CA/);
  });

  it('reads VERIFIER_TRUSTED_CA_FILES (CA certificates only) and, in demo mode, the demo CA when it appears', async () => {
    const dataDir = tmp();
    const now = Date.now();
    const { root } = await operatorIntermediate(now);
    const file = join(dataDir, 'anchors.pem');
    writeFileSync(file, pemOf([root]));
    const anchors = TrustAnchors.fromEnv('VERIFIER_TRUSTED_CA_FILES', { VERIFIER_TRUSTED_CA_FILES: file }, { mode: 'demo', dataDir });
    expect(anchors.list()).toHaveLength(1);
    const demo = await openCityCa({ mode: 'demo', dataDir, keyEncryptionSecret: SECRET, now });
    expect(anchors.list().map((c) => c.serialNumber)).toEqual([root.serialNumber, demo!.certificate.serialNumber]);
    expect(TrustAnchors.fromEnv('VERIFIER_TRUSTED_CA_FILES', { VERIFIER_TRUSTED_CA_FILES: file }, { mode: 'production', dataDir }).list()).toHaveLength(1);
    expect(() => TrustAnchors.fromEnv('VERIFIER_TRUSTED_CA_FILES', { VERIFIER_TRUSTED_CA_FILES: join(dataDir, 'missing.pem') }, { mode: 'production', dataDir })).toThrow(TrustAnchorError);
  });
});
