import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from '../config/config-error.ts';
import { demoCaPaths } from './city-ca.ts';
import { certificatesFromPem, x509 } from './pem.ts';

/** A configuration problem with trusted CA files; the message names the variable and the file. */
export class TrustAnchorError extends ConfigError {
  override name = 'TrustAnchorError';
}

/**
 * The CAs a verifier or wallet trusts for `x5c` chains: the PEM files of a variable such as
 * VERIFIER_TRUSTED_CA_FILES (comma-separated paths, each with one or more CA certificates), and in
 * demo mode the demo city CA from DATA_DIR/city-ca/city-ca.pem, read when first needed (the issuer
 * or verifier that creates it may start after this process).
 */
export class TrustAnchors {
  private readonly configured: x509.X509Certificate[];
  private demo: x509.X509Certificate[] = [];

  constructor(configured: x509.X509Certificate[], private readonly demoDataDir?: string) {
    this.configured = configured;
  }

  static fromEnv(variable: string, env: NodeJS.ProcessEnv, o: { mode: 'demo' | 'production'; dataDir: string }): TrustAnchors {
    const files = (env[variable] ?? '').split(',').map((f) => f.trim()).filter(Boolean);
    const configured: x509.X509Certificate[] = [];
    for (const file of files) {
      if (!existsSync(file)) throw new TrustAnchorError(`${variable}: ${file} does not exist`);
      let certs: x509.X509Certificate[];
      try {
        certs = certificatesFromPem(readFileSync(file, 'utf8'));
      } catch {
        throw new TrustAnchorError(`${variable}: ${file} holds no PEM certificate`);
      }
      for (const c of certs) {
        if (!c.getExtension(x509.BasicConstraintsExtension)?.ca) throw new TrustAnchorError(`${variable}: ${file} holds a certificate that is not a CA`);
      }
      configured.push(...certs);
    }
    return new TrustAnchors(configured, o.mode === 'demo' ? o.dataDir : undefined);
  }

  list(): x509.X509Certificate[] {
    if (this.demoDataDir && this.demo.length === 0) {
      const file = demoCaPaths(this.demoDataDir).certificate;
      try {
        if (existsSync(file)) this.demo = certificatesFromPem(readFileSync(file, 'utf8'));
      } catch {
        this.demo = [];
      }
    }
    return [...this.configured, ...this.demo];
  }
}
