import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { pooledRandomBytes } from './random.ts';

/**
 * Encryption of personal data that must rest in a database for a short while (claims of an offer
 * until the wallet collects the credential): AES-256-GCM under a key derived with HKDF-SHA-256 from
 * the service's key-encryption secret, one derived key per purpose. Format: v1.<iv>.<ciphertext+tag>.
 */
export class Sealer {
  private readonly key: Buffer;

  constructor(secretHex: string, purpose: string) {
    this.key = Buffer.from(hkdfSync('sha256', Buffer.from(secretHex, 'hex'), Buffer.alloc(0), `id-ideal:${purpose}`, 32));
  }

  seal(plaintext: string, aad = ''): string {
    const iv = pooledRandomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(aad));
    const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final(), c.getAuthTag()]);
    return `v1.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  open(sealed: string, aad = ''): string {
    const [v, ivB, bodyB] = sealed.split('.');
    if (v !== 'v1' || !ivB || !bodyB) throw new Error('not a sealed value');
    const body = Buffer.from(bodyB, 'base64url');
    const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(ivB, 'base64url'));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]).toString('utf8');
  }
}
