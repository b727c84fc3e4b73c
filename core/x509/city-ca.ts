import { createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error.ts';
import { Sealer } from '../crypto/seal.ts';
import { certificatesFromPem, pemOf, x509 } from './pem.ts';

/**
 * The city's certification authority for HAIP issuer and relying-party certificates: its
 * certificate, the chain above it (empty for a root), and its signing key held in memory.
 */
export interface CityCa {
  certificate: x509.X509Certificate;
  /** Certificates above `certificate` up to (excluding) the root: sent in `x5c` after the leaf. */
  chainAbove: x509.X509Certificate[];
  /** The root that verifiers and wallets configure as trust anchor (equal to `certificate` for a root CA). */
  root: x509.X509Certificate;
  signingKey: webcrypto.CryptoKey;
  signingAlgorithm: webcrypto.EcdsaParams | webcrypto.Algorithm;
}

export interface CityCaOptions {
  mode: 'demo' | 'production';
  dataDir: string;
  keyEncryptionSecret: string;
  /** CITY_CA_CERT_FILE: PEM, the CA certificate first, then any certificates above it up to the root. */
  certFile?: string;
  /** CITY_CA_KEY_FILE: PEM, the CA's unencrypted PKCS#8 private key (file readable by the service only). */
  keyFile?: string;
  /** Name of the demo CA (organisation). */
  name?: string;
  now: number;
}

/** Where the demo CA lives under DATA_DIR; `city-ca.pem` is its (public) certificate for verifiers and wallets. */
export const demoCaPaths = (dataDir: string) => ({ dir: join(dataDir, 'city-ca'), store: join(dataDir, 'city-ca', 'city-ca.json'), certificate: join(dataDir, 'city-ca', 'city-ca.pem') });

/** The two CITY_CA_* variables: both or neither; files must exist. */
export function cityCaFilesFromEnv(env: NodeJS.ProcessEnv): { certFile?: string; keyFile?: string } {
  const certFile = env.CITY_CA_CERT_FILE || undefined;
  const keyFile = env.CITY_CA_KEY_FILE || undefined;
  if (!certFile !== !keyFile) throw new CityCaError('CITY_CA_CERT_FILE and CITY_CA_KEY_FILE are set together or not at all');
  for (const [name, file] of [['CITY_CA_CERT_FILE', certFile], ['CITY_CA_KEY_FILE', keyFile]] as const) {
    if (file && !existsSync(file)) throw new CityCaError(`${name} names a file that does not exist`);
  }
  return { ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}) };
}

/** A configuration problem with the city CA; the message names the variable, never key material. Stops start-up with one line. */
export class CityCaError extends ConfigError {
  override name = 'CityCaError';
}

/**
 * Opens the city CA: the operator's own (CITY_CA_CERT_FILE + CITY_CA_KEY_FILE, a root or an
 * intermediate), else in demo mode the demo CA under DATA_DIR/city-ca (created on first start, its
 * key sealed with KEY_ENCRYPTION_SECRET like every other key at rest), else none: production without
 * the files runs without certificates (did:web only).
 */
export async function openCityCa(o: CityCaOptions): Promise<CityCa | undefined> {
  if (o.certFile && o.keyFile) return importCa(readFileSync(o.certFile, 'utf8'), readFileSync(o.keyFile, 'utf8'), o.now);
  if (o.mode !== 'demo') return undefined;
  return openDemoCa(o);
}

/** An operator's CA from PEM: the key must belong to the first certificate, which must be a CA allowed to sign certificates. */
export async function importCa(certPem: string, keyPem: string, now: number): Promise<CityCa> {
  let certs: x509.X509Certificate[];
  try {
    certs = certificatesFromPem(certPem);
  } catch {
    throw new CityCaError('CITY_CA_CERT_FILE holds no PEM certificate');
  }
  const certificate = certs[0]!;
  const bc = certificate.getExtension(x509.BasicConstraintsExtension);
  const ku = certificate.getExtension(x509.KeyUsagesExtension);
  if (!bc?.ca || (ku && !(ku.usages & x509.KeyUsageFlags.keyCertSign))) throw new CityCaError('CITY_CA_CERT_FILE: the first certificate is not a CA allowed to sign certificates');
  if (now > certificate.notAfter.getTime() || now < certificate.notBefore.getTime()) throw new CityCaError('CITY_CA_CERT_FILE: the CA certificate is not valid now');
  let keyObject;
  try {
    keyObject = createPrivateKey(keyPem);
  } catch {
    throw new CityCaError('CITY_CA_KEY_FILE holds no readable unencrypted private key (PKCS#8 or SEC1 PEM)');
  }
  const certKey = createPublicKey({ key: Buffer.from(certificate.publicKey.rawData), format: 'der', type: 'spki' }).export({ format: 'der', type: 'spki' });
  if (!createPublicKey(keyObject).export({ format: 'der', type: 'spki' }).equals(certKey)) throw new CityCaError('CITY_CA_KEY_FILE does not belong to the certificate in CITY_CA_CERT_FILE');
  const { signingKey, signingAlgorithm } = await importSigningKey(keyObject.export({ format: 'der', type: 'pkcs8' }) as Buffer, keyObject.asymmetricKeyType, String(keyObject.asymmetricKeyDetails?.namedCurve ?? ''));
  const chainAbove = certs.slice(1).filter((c) => !isSelfSigned(c));
  const root = certs.length > 1 ? certs.at(-1)! : certificate;
  return { certificate, chainAbove, root, signingKey, signingAlgorithm };
}

async function importSigningKey(pkcs8: Buffer, type: string | undefined, curve: string): Promise<{ signingKey: webcrypto.CryptoKey; signingAlgorithm: webcrypto.EcdsaParams | webcrypto.Algorithm }> {
  const subtle = webcrypto.subtle;
  if (type === 'ec' && (curve === 'prime256v1' || curve === 'secp384r1')) {
    const namedCurve = curve === 'prime256v1' ? 'P-256' : 'P-384';
    const key = await subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve }, false, ['sign']);
    return { signingKey: key as webcrypto.CryptoKey, signingAlgorithm: { name: 'ECDSA', hash: namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384' } as webcrypto.EcdsaParams };
  }
  if (type === 'rsa') {
    const key = await subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
    return { signingKey: key as webcrypto.CryptoKey, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' } };
  }
  throw new CityCaError('CITY_CA_KEY_FILE: only P-256, P-384 and RSA CA keys are supported');
}

function isSelfSigned(c: x509.X509Certificate): boolean {
  return c.subject === c.issuer;
}

interface DemoStore {
  certificate: string;
  /** PKCS#8 DER (base64) sealed with AES-256-GCM under a key derived from KEY_ENCRYPTION_SECRET (core/crypto/seal.ts). */
  key_sealed: string;
}

const SEAL_PURPOSE = 'city-ca';

/**
 * The demo CA: a P-256 root valid ten years, created once. Creation is atomic (private temp file,
 * then hard link), so the issuer and the verifier starting together agree on one CA.
 */
async function openDemoCa(o: CityCaOptions): Promise<CityCa> {
  const paths = demoCaPaths(o.dataDir);
  const sealer = new Sealer(o.keyEncryptionSecret, SEAL_PURPOSE);
  if (!existsSync(paths.store)) {
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    const fresh = await createDemoCa(o.name ?? 'ID-Ideal Demo-Stadt-CA', o.now);
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', fresh.keys.privateKey as never));
    const store: DemoStore = { certificate: fresh.certificate.toString('pem'), key_sealed: sealer.seal(pkcs8.toString('base64'), SEAL_PURPOSE) };
    const tmp = `${paths.store}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify(store), { mode: 0o600, flag: 'wx' });
    try {
      linkSync(tmp, paths.store);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      unlinkSync(tmp);
    }
  }
  const store = JSON.parse(readFileSync(paths.store, 'utf8')) as DemoStore;
  let pkcs8: Buffer;
  try {
    pkcs8 = Buffer.from(sealer.open(store.key_sealed, SEAL_PURPOSE), 'base64');
  } catch {
    throw new CityCaError(`the demo city CA in ${paths.store} was sealed under another KEY_ENCRYPTION_SECRET; remove the directory to start a new one`);
  }
  const ca = await importCa(store.certificate, createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }) as string, o.now);
  // The public certificate beside it, for verifiers and wallets sharing DATA_DIR (rename: readers never see half a file).
  const pem = pemOf([ca.certificate]);
  if (!existsSync(paths.certificate) || readFileSync(paths.certificate, 'utf8') !== pem) {
    const tmp = `${paths.certificate}.${process.pid}.tmp`;
    writeFileSync(tmp, pem, { mode: 0o644 });
    renameSync(tmp, paths.certificate);
  }
  return ca;
}

/** A self-signed P-256 root for the demo (RFC 5280 §4.2.1.9 cA, §4.2.1.3 keyCertSign and cRLSign). */
export async function createDemoCa(name: string, now: number, days = 3650): Promise<{ certificate: x509.X509Certificate; keys: webcrypto.CryptoKeyPair }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [name] }, { O: [name] }, { C: ['DE'] }],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + days * 86_400_000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys };
}

/** RFC 5280 §4.1.2.2: a positive serial of at most 20 octets; 16 random bytes with the top bit cleared. */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f | 0x01;
  return b.toString('hex');
}
