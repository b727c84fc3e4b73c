import { createPrivateKey, generateKeyPairSync, webcrypto, type KeyObject } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';
import type { Signer } from '../../core/crypto/jws.ts';
import { createDemoCa, importCa, openCityCa, randomSerial, type CityCa } from '../../core/x509/city-ca.ts';
import { pemOf, x509 } from '../../core/x509/pem.ts';

/** A fresh demo city CA in its own DATA_DIR (as `npm start` creates it). */
export async function demoCa(now = Date.now()): Promise<CityCa> {
  return (await openCityCa({ mode: 'demo', dataDir: mkdtempSync(join(tmpdir(), 'idideal-haip-')), keyEncryptionSecret: 'a1'.repeat(32), now }))!;
}

/** A CA whose subject DN equals `of`'s, with another key: a forger's look-alike of the city CA. */
export async function lookAlikeCa(of: CityCa, now = Date.now()): Promise<CityCa> {
  const { certificate, keys } = await createDemoCa('ID-Ideal Demo-Stadt-CA', now);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const ca = await importCa(pemOf([certificate]), pkcs8Pem(pkcs8), now);
  if (ca.certificate.subject !== of.certificate.subject) throw new Error('look-alike must share the subject DN');
  return ca;
}

/** An operator's root and an intermediate below it, imported from PEM as CITY_CA_CERT_FILE (intermediate, root) and CITY_CA_KEY_FILE would be. */
export async function operatorIntermediate(now = Date.now()): Promise<{ intermediate: CityCa; root: x509.X509Certificate; keyPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const root = await createDemoCa('Stadt Leipzig Root-CA', now);
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: ['Stadt Leipzig Ausweis-CA'] }],
    issuer: root.certificate.subjectName,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 5 * 365 * 86_400_000),
    publicKey: keys.publicKey,
    signingKey: root.keys.privateKey,
    signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey), await x509.AuthorityKeyIdentifierExtension.create(root.keys.publicKey)],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = pkcs8Pem(pkcs8);
  const intermediate = await importCa(pemOf([cert, root.certificate]), keyPem, now);
  return { intermediate, root: root.certificate, keyPem };
}

/** A P-256 signing key as the issuer holds one (core/crypto/jws.ts Signer). */
export function p256Signer(kid: string): Signer & { privateKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, alg: 'ES256', publicJwk: publicKey.export({ format: 'jwk' }) as JWK, privateKey };
}

/** A key generated in the test, as PEM (node:crypto writes the armour; no key material lives in this file). */
function pkcs8Pem(der: Buffer): string {
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }) as string;
}
