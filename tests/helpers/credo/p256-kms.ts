/**
 * A Credo key management backend (Kms.KeyManagementService of @credo-ts/core 0.6) for the test
 * holder: P-256 keys held in memory, ES256 signatures, ECDH-ES content encryption for
 * direct_post.jwt responses, all with node:crypto.
 *
 * Written here because the KMS backends Credo ships need native code: Askar downloads an FFI
 * library, and @credo-ts/node is not published for 0.6.3. The test holder needs only what an
 * OID4VCI/OID4VP wallet does with P-256; everything else is reported as unsupported.
 */
import { createCipheriv, createECDH, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { Kms, type AgentContext } from '@credo-ts/core';

type PublicJwk = { kty: 'EC'; crv: 'P-256'; x: string; y: string; kid: string };
const BACKEND = 'test-p256';
const ENC_BYTES = { A128GCM: 16, A256GCM: 32 } as const;

export class P256KeyManagementService implements Kms.KeyManagementService {
  readonly backend = BACKEND;
  private readonly keys = new Map<string, { privateKey: KeyObject; publicJwk: PublicJwk }>();

  isOperationSupported(_ctx: AgentContext, op: Kms.KmsOperation): boolean {
    switch (op.operation) {
      case 'createKey':
        return op.type.kty === 'EC' && op.type.crv === 'P-256';
      case 'importKey':
        return op.privateJwk.kty === 'EC' && op.privateJwk.crv === 'P-256';
      case 'sign':
      case 'verify':
        return op.algorithm === 'ES256';
      case 'encrypt':
        return op.keyAgreement?.algorithm === 'ECDH-ES' && op.encryption.algorithm in ENC_BYTES;
      case 'deleteKey':
      case 'randomBytes':
        return true;
      default:
        return false;
    }
  }

  async getPublicKey(_ctx: AgentContext, keyId: string) {
    return (this.keys.get(keyId)?.publicJwk ?? null) as Kms.KmsJwkPublic | null;
  }

  async createKey<T extends Kms.KmsCreateKeyType>(ctx: AgentContext, options: { keyId?: string; type: T }) {
    if (!this.isOperationSupported(ctx, { operation: 'createKey', type: options.type })) throw new Kms.KeyManagementAlgorithmNotSupportedError(`key type ${JSON.stringify(options.type)}`, BACKEND);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicJwk = this.store(options.keyId ?? randomUUID(), privateKey);
    return { keyId: publicJwk.kid, publicJwk } as never;
  }

  async importKey<J extends Kms.KmsJwkPrivate>(ctx: AgentContext, options: { privateJwk: J }) {
    if (!this.isOperationSupported(ctx, { operation: 'importKey', privateJwk: options.privateJwk })) throw new Kms.KeyManagementAlgorithmNotSupportedError('this key type', BACKEND);
    const privateKey = createPrivateKey({ key: options.privateJwk as never, format: 'jwk' });
    const publicJwk = this.store(options.privateJwk.kid ?? randomUUID(), privateKey);
    return { keyId: publicJwk.kid, publicJwk } as never;
  }

  async deleteKey(_ctx: AgentContext, options: { keyId: string }) {
    return this.keys.delete(options.keyId);
  }

  async sign(_ctx: AgentContext, options: Kms.KmsSignOptions) {
    if (options.algorithm !== 'ES256') throw new Kms.KeyManagementAlgorithmNotSupportedError(`algorithm ${options.algorithm}`, BACKEND);
    const signature = sign('sha256', options.data, { key: this.key(options.keyId).privateKey, dsaEncoding: 'ieee-p1363' });
    return { signature: new Uint8Array(signature) as never };
  }

  async verify(_ctx: AgentContext, options: Kms.KmsVerifyOptions): Promise<Kms.KmsVerifyReturn> {
    if (options.algorithm !== 'ES256') throw new Kms.KeyManagementAlgorithmNotSupportedError(`algorithm ${options.algorithm}`, BACKEND);
    const jwk = options.key.keyId ? this.key(options.key.keyId).publicJwk : options.key.publicJwk;
    if (!jwk || jwk.kty !== 'EC' || jwk.crv !== 'P-256') return { verified: false };
    const publicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' });
    const ok = verify('sha256', options.data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, options.signature);
    return ok ? { verified: true, publicJwk: jwk as Kms.KmsJwkPublic } : { verified: false };
  }

  /**
   * JWE content encryption with ECDH-ES in direct key agreement (RFC 7518 §4.6): the content key is
   * the Concat KDF (§4.6.2, NIST SP 800-56A) of the shared secret, and AES-GCM (§5.3) seals the data.
   */
  async encrypt(_ctx: AgentContext, options: Kms.KmsEncryptOptions): Promise<Kms.KmsEncryptReturn> {
    const agreement = options.key.keyAgreement;
    const enc = options.encryption.algorithm as keyof typeof ENC_BYTES;
    if (agreement?.algorithm !== 'ECDH-ES' || !(enc in ENC_BYTES) || !agreement.keyId) throw new Kms.KeyManagementAlgorithmNotSupportedError('this encryption', BACKEND);
    const peer = agreement.externalPublicJwk as { kty?: string; crv?: string; x?: string; y?: string };
    if (peer.kty !== 'EC' || peer.crv !== 'P-256' || !peer.x || !peer.y) throw new Kms.KeyManagementAlgorithmNotSupportedError('a non P-256 recipient key', BACKEND);
    const own = this.key(agreement.keyId).privateKey.export({ format: 'jwk' });
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(own.d!, 'base64url'));
    const z = ecdh.computeSecret(Buffer.concat([Buffer.from([4]), Buffer.from(peer.x, 'base64url'), Buffer.from(peer.y, 'base64url')]));
    const cek = concatKdf(z, enc, agreement.apu, agreement.apv, ENC_BYTES[enc]);
    const iv = options.encryption.iv ?? randomBytes(12);
    const cipher = createCipheriv(enc === 'A128GCM' ? 'aes-128-gcm' : 'aes-256-gcm', cek, iv);
    const aad = 'aad' in options.encryption ? options.encryption.aad : undefined;
    if (aad) cipher.setAAD(aad);
    const encrypted = Buffer.concat([cipher.update(options.data), cipher.final()]);
    return { encrypted: new Uint8Array(encrypted), iv: new Uint8Array(iv), tag: new Uint8Array(cipher.getAuthTag()) } as never;
  }

  async decrypt(): Promise<Kms.KmsDecryptReturn> {
    throw new Kms.KeyManagementAlgorithmNotSupportedError('decryption', BACKEND);
  }

  randomBytes(_ctx: AgentContext, options: { length: number }) {
    return new Uint8Array(randomBytes(options.length));
  }

  private store(keyId: string, privateKey: KeyObject): PublicJwk {
    const { x, y } = createPublicKey(privateKey).export({ format: 'jwk' });
    const publicJwk: PublicJwk = { kty: 'EC', crv: 'P-256', x: x!, y: y!, kid: keyId };
    this.keys.set(keyId, { privateKey, publicJwk });
    return publicJwk;
  }

  private key(keyId: string) {
    const k = this.keys.get(keyId);
    if (!k) throw new Kms.KeyManagementKeyNotFoundError(keyId, [BACKEND]);
    return k;
  }
}

/** RFC 7518 §4.6.2: one SHA-256 round suffices for keys up to 256 bits. AlgorithmID is `enc` in direct agreement. */
function concatKdf(z: Buffer, enc: string, apu: Uint8Array | undefined, apv: Uint8Array | undefined, bytes: number): Buffer {
  const lengthPrefixed = (b: Uint8Array) => Buffer.concat([u32(b.length), b]);
  const info = Buffer.concat([lengthPrefixed(Buffer.from(enc)), lengthPrefixed(apu ?? new Uint8Array()), lengthPrefixed(apv ?? new Uint8Array()), u32(bytes * 8)]);
  return createHash('sha256').update(Buffer.concat([u32(1), z, info])).digest().subarray(0, bytes);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
