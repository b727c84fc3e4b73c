/**
 * Fetching a status list for a relying party, the same for both mechanisms: https only (plain http
 * only for localhost, CONTRACT), no redirects followed, bounded in time and size. Returns the
 * compact JWT; `null` means the URI itself is not acceptable.
 */
export const isAcceptableStatusListUri = (uri: string): boolean => /^https:\/\//.test(uri) || /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?\//.test(uri);

export async function fetchStatusListJwt(uri: string, accept: string, opts: { fetch?: typeof fetch; maxBytes?: number } = {}): Promise<string> {
  let jwt: string;
  try {
    const res = await (opts.fetch ?? fetch)(uri, { headers: { accept }, signal: AbortSignal.timeout(5000), redirect: 'error' });
    if (!res.ok) throw new Error(`status list answered HTTP ${res.status}`);
    jwt = (await res.text()).trim();
  } catch (e) {
    throw new Error((e as Error).message.startsWith('status list') ? (e as Error).message : 'status list could not be fetched');
  }
  if (jwt.length > (opts.maxBytes ?? 2_000_000)) throw new Error('status list too large');
  return jwt;
}
