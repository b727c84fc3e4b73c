import { jcs } from '../../core/crypto/canonical.ts';
import { type CredentialTypeDef, zCredentialTypeDef } from '../../core/catalog/model.ts';
import { typeMetadataIntegrity } from '../../core/catalog/type-metadata.ts';
import { badRequest, ProblemError } from '../../core/http/errors.ts';
import { parseOrThrow } from '../../core/http/validate.ts';
import type { I18nText } from '../../core/trust/model.ts';
import { toIso } from '../../core/util/time.ts';
import type { Registry } from '../registry.ts';

export interface PutCredentialTypeResult {
  /** No definition with this id existed before. */
  created: boolean;
  /** Something was stored (false: the same definition was sent again; nothing written, nothing audited). */
  changed: boolean;
  revision: number;
  credential_type: CredentialTypeDef;
}

/** Problems with German and English words (the CLI and the admin pages show both). */
const conflictI18n = (code: string, text: I18nText) => new ProblemError({ status: 409, code, title: 'Conflict', detail: text.en, extra: { detail_i18n: text } });

/** Thrown inside the write unit when nothing changes: the transaction rolls back, no audit entry. */
class Unchanged extends Error {}

const same = (a: CredentialTypeDef, b: CredentialTypeDef) => jcs(a) === jcs(b);

/**
 * Stores or updates a credential type's full definition (issue 15, `PUT /api/catalog/credential-types/{id}`).
 * Idempotent: the same definition again changes nothing (no audit entry, no new snapshot), which is
 * what makes `npm run config -- apply` repeatable. A new vct is registered as a credential type in
 * the same transaction as its definition and audit entry; an existing vct (registered with
 * `POST /api/credential-types` or by an earlier seed) gets its definition. The vct of an id never
 * changes: grants and issued credentials name it.
 */
export async function putCredentialType(registry: Registry, actor: string, pathId: string, body: unknown): Promise<PutCredentialTypeResult> {
  const def = parseOrThrow(zCredentialTypeDef, body);
  if (def.id !== pathId) throw badRequest(`id: must equal the id in the path (${pathId})`, { field: 'id' });
  const store = registry.deps.store;
  const before = (await store.typeDefinitions()).get(def.id);
  if (before && same(before, def)) return { created: false, changed: false, revision: await store.typeDefinitionRevision(), credential_type: before };
  try {
    const outcome = await registry.write(
      (o: { created: boolean; registered: boolean }) => ({
        actor,
        // A new vct is a new registry type (the action POST /api/credential-types records too);
        // otherwise its definition is added or changed.
        action: o.registered ? 'credential_type.create' : o.created ? 'credential_type.define' : 'credential_type.update',
        target: def.vct,
        // The definition itself is in registry_type_definitions; the audit entry pins it by hash.
        details: { id: def.id, name: def.name, issued_before_suspension: def.issued_before_suspension, integrity: typeMetadataIntegrity(def) },
      }),
      async (m, index) => {
        const defs = await store.typeDefinitions(m);
        const existing = defs.get(def.id);
        if (existing && same(existing, def)) throw new Unchanged();
        if (existing && existing.vct !== def.vct) {
          throw conflictI18n('credential-type-vct-immutable', {
            de: `Die Nachweisart ${def.id} hat die vct ${existing.vct}; sie lässt sich nicht ändern, weil Berechtigungen und ausgestellte Nachweise sie nennen. Legen Sie eine neue Nachweisart an.`,
            en: `Credential type ${def.id} has vct ${existing.vct}; it cannot change, because grants and issued credentials name it. Define a new credential type instead.`,
          });
        }
        const other = [...defs.values()].find((d) => d.vct === def.vct && d.id !== def.id);
        if (other) {
          throw conflictI18n('credential-type-exists', {
            de: `Die vct ${def.vct} gehört schon zur Nachweisart ${other.id}.`,
            en: `vct ${def.vct} already belongs to credential type ${other.id}.`,
          });
        }
        const at = toIso(registry.clock());
        const registered = !index.types.has(def.vct);
        if (registered) {
          await store.insertCredentialType(m, { vct: def.vct, name: def.name, issued_before_suspension: def.issued_before_suspension, ...(def.w3c_type ? { w3c_types: [def.w3c_type] } : {}) }, at);
        }
        await store.insertTypeDefinition(m, def, at, actor);
        return { created: !existing, registered };
      },
    );
    const created = outcome.created;
    return { created, changed: true, revision: await store.typeDefinitionRevision(), credential_type: def };
  } catch (e) {
    if (e instanceof Unchanged) return { created: false, changed: false, revision: await store.typeDefinitionRevision(), credential_type: def };
    throw e;
  }
}
