import { z } from 'zod';
import { conflict } from '../../core/http/errors.ts';
import { parseOrThrow, zI18nText } from '../../core/http/validate.ts';
import type { CredentialType } from '../../core/trust/model.ts';
import { toIso } from '../../core/util/time.ts';
import type { Registry } from '../registry.ts';

export const zCreateCredentialType = z.strictObject({
  /** SD-JWT VC `vct` (a StringOrURI, draft-ietf-oauth-sd-jwt-vc §3.2.2.2); no `*`, which marks patterns. */
  vct: z.string().min(3).max(512).regex(/^[A-Za-z][A-Za-z0-9+.-]*:[^\s*]+$/, 'must be a URI without "*"'),
  name: zI18nText,
  issued_before_suspension: z.enum(['accept', 'reject']).default('reject'),
  w3c_types: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9]{1,100}$/)).max(5).optional(),
});

export async function createCredentialType(registry: Registry, actor: string, body: unknown): Promise<CredentialType> {
  const t = parseOrThrow(zCreateCredentialType, body) as CredentialType;
  return registry.write(
    () => ({ actor, action: 'credential_type.create', target: t.vct, details: { name: t.name, issued_before_suspension: t.issued_before_suspension } }),
    async (m, index) => {
      if (index.types.has(t.vct)) throw conflict('credential-type-exists', `Credential type ${t.vct} is already registered.`);
      await registry.deps.store.insertCredentialType(m, t, toIso(registry.clock()));
      return t;
    },
  );
}
