import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';

/**
 * The citizen's wallet store: one file under WALLET_DIR, encrypted with AES-256-GCM under a key
 * derived from the passphrase with scrypt (RFC 7914; N=2^15, r=8, p=1; salt per wallet). Written
 * atomically (temp file, then rename). Nothing in it is readable without the passphrase.
 * The derivation runs on libuv's thread pool (node:crypto's callback API), never on the event loop:
 * a web wallet stays responsive while someone types a passphrase, right or wrong.
 */

export interface HolderKeyRecord {
  id: string;
  /** Private P-256 JWK; never leaves the wallet. */
  jwk: JWK;
}

export interface StoredCredential {
  id: string;
  format: 'dc+sd-jwt' | 'jwt_vc_json';
  /** As issued (SD-JWT with all disclosures, or the VC-JWT). */
  raw: string;
  keyId: string;
  /** vct (SD-JWT VC) or the credential type it maps to (VC-JWT). */
  type: string;
  w3cTypes?: string[];
  issuer: string;
  issuerName?: { de: string; en: string };
  /** All claims, decoded, for display and matching. */
  claims: Record<string, unknown>;
  receivedAt: string;
  expiresAt?: string;
  /** Batch copies of one document share a group; each copy is shown to one verifier only. */
  group: string;
  /** Names from the issuer's metadata (OID4VCI 1.0 credential_metadata.display / claims[].display). */
  display?: { name?: { de?: string; en?: string }; claims?: Record<string, { de?: string; en?: string }> };
  usedBy?: string[];
}

export interface HistoryEntry {
  at: string;
  verifier: string;
  verifierName?: { de: string; en: string };
  purpose?: { de: string; en: string };
  outcome: 'shared' | 'declined' | 'failed';
  /** Which credentials and which claims left the wallet. */
  shared: { credentialId: string; type: string; claims: string[] }[];
}

/** An issuance the office has yet to approve (OID4VCI 1.0 §9): collected later with the access token. */
export interface PendingIssuance {
  id: string;
  credentialIssuer: string;
  configurationId: string;
  format: 'dc+sd-jwt' | 'jwt_vc_json';
  accessToken: string;
  transactionId: string;
  keyIds: string[];
  createdAt: string;
}

export interface WalletData {
  version: 1;
  keys: HolderKeyRecord[];
  credentials: StoredCredential[];
  history: HistoryEntry[];
  pending?: PendingIssuance[];
}

const FILE = 'wallet.enc';
const EMPTY: WalletData = { version: 1, keys: [], credentials: [], history: [] };

const OPEN_FAILED = 'Die Wallet ließ sich nicht öffnen: falsche Passphrase oder beschädigte Datei. / The wallet could not be opened: wrong passphrase or damaged file.';

export class WalletLockedError extends Error {
  override name = 'WalletLockedError';
}

export class WalletStore {
  private constructor(
    private readonly dir: string,
    private readonly key: Buffer,
    private readonly salt: Buffer,
    private data: WalletData,
  ) {}

  /** Whether a wallet has been set up in `dir` (first use creates it). */
  static exists(dir: string): boolean {
    return existsSync(join(dir, FILE));
  }

  /** Opens (or creates) the wallet; a wrong passphrase is a WalletLockedError, never a silent reset. */
  static async open(dir: string, passphrase: string): Promise<WalletStore> {
    if (passphrase.length < 8) throw new WalletLockedError('Die Passphrase der Wallet muss mindestens 8 Zeichen haben. / The wallet passphrase must have at least 8 characters.');
    const path = join(dir, FILE);
    if (!existsSync(path)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const salt = randomBytes(16);
      const store = new WalletStore(dir, await derive(passphrase, salt), salt, structuredClone(EMPTY));
      store.save();
      return store;
    }
    let file: { v: 1; salt: string; iv: string; ct: string };
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as typeof file;
    } catch {
      throw new WalletLockedError(OPEN_FAILED);
    }
    const salt = Buffer.from(String(file.salt), 'base64url');
    const key = await derive(passphrase, salt);
    try {
      const body = Buffer.from(file.ct, 'base64url');
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(file.iv, 'base64url'));
      d.setAuthTag(body.subarray(body.length - 16));
      const plain = Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]).toString('utf8');
      return new WalletStore(dir, key, salt, JSON.parse(plain) as WalletData);
    } catch {
      throw new WalletLockedError(OPEN_FAILED);
    }
  }

  get snapshot(): Readonly<WalletData> {
    return this.data;
  }

  update(fn: (d: WalletData) => void): void {
    const next = structuredClone(this.data);
    fn(next);
    this.data = next;
    this.save();
  }

  private save(): void {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([c.update(JSON.stringify(this.data), 'utf8'), c.final(), c.getAuthTag()]);
    const path = join(this.dir, FILE);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ v: 1, salt: this.salt.toString('base64url'), iv: iv.toString('base64url'), ct: ct.toString('base64url') }), { mode: 0o600 });
    renameSync(tmp, path);
  }
}

/** scrypt (RFC 7914) off the event loop: the callback API runs in the thread pool. */
function derive(passphrase: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(passphrase.normalize('NFC'), salt, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}
