import { validateChain } from '../../core/x509/validate-chain.ts';
import { x509Hash } from '../../core/x509/x509-hash.ts';
import { WalletError, type WalletContext } from './wallet.ts';

/** What the citizen is told when an `x509_hash` request's certificate does not hold. */
const UNTRUSTED = 'Die Anfrage ist nicht mit einem gültigen Zertifikat der Stadt signiert; nichts wurde geteilt. / The request is not signed with a valid certificate from the city; nothing was shared.';

/**
 * The relying party behind an `x509_hash` request (OID4VP 1.0 §5.9.3), checked again here before the
 * consent screen although the protocol library has already checked signature and hash:
 * - the `x5c` chain validates to a city CA this wallet trusts (§5.9.3: "The Wallet MUST validate the
 *   signature and the trust chain of the X.509 leaf certificate"), at the wallet's clock;
 * - the client identifier is the base64url SHA-256 of the DER leaf (§5.9.3);
 * - the leaf names exactly one DID as subjectAltName URI: the organisation the trust registry knows,
 *   whose registration (name, purpose, allowed claims) the consent screen shows;
 * - the response goes to a host the certificate names as dNSName (our rule, like §5.9.3 x509_san_dns
 *   for redirect_uri): a certified counter cannot have the answer sent elsewhere.
 * Returns the relying party's DID.
 */
export function certifiedRelyingParty(ctx: Pick<WalletContext, 'trustedCas' | 'clock'>, client: { identifier: string; x5c?: unknown }, responseUri: unknown): string {
  const anchors = ctx.trustedCas?.() ?? [];
  if (anchors.length === 0) throw new WalletError('untrusted_certificate', UNTRUSTED);
  const chain = validateChain(client.x5c, anchors, ctx.clock());
  if (!chain.ok) throw new WalletError('untrusted_certificate', UNTRUSTED);
  if (x509Hash(chain.leafDer) !== client.identifier) throw new WalletError('untrusted_certificate', UNTRUSTED);
  const dids = chain.sanUris.filter((u) => u.startsWith('did:'));
  if (dids.length !== 1) throw new WalletError('untrusted_certificate', UNTRUSTED);
  let host: string;
  try {
    host = new URL(String(responseUri)).hostname.toLowerCase();
  } catch {
    throw new WalletError('invalid_request', 'Die Anfrage ist ungültig. / The request is invalid.');
  }
  if (!chain.sanDns.includes(host)) throw new WalletError('untrusted_certificate', UNTRUSTED);
  return dids[0]!;
}
