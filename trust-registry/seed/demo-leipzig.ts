import type { ServiceUrls } from '../../core/config/env.ts';
import { CONFORMANCE, DEPARTMENTS, LEIPZIG, OFFICES, RELYING_PARTIES, ROOT_AUTHORITY, authorityDid, officeDid, relyingPartyDid } from '../../core/demo/leipzig.ts';
import type { Registry } from '../registry.ts';
import { createCredentialType } from '../use-cases/create-credential-type.ts';
import { createEntity } from '../use-cases/create-entity.ts';
import { createGrant } from '../use-cases/create-grant.ts';
import { putCredentialType } from '../use-cases/put-credential-type.ts';

const ACTOR = 'system:seed';

/**
 * Seeds demo Leipzig idempotently: what exists is left as it is (a restart keeps what was there,
 * including suspensions made since), what is missing is created through the same audited use cases
 * an administrator would call.
 */
export async function seedDemoLeipzig(registry: Registry, urls: ServiceUrls, opts: { conformanceOffice?: boolean } = {}): Promise<number> {
  let created = 0;
  const root = authorityDid(urls.registry, ROOT_AUTHORITY.slug);
  const ensureEntity = async (id: string, kind: 'authority' | 'issuer' | 'verifier', name: { de: string; en: string }) => {
    if ((await registry.index()).entities.has(id)) return;
    await createEntity(registry, ACTOR, { id, kind, name });
    created++;
  };
  const ensureGrant = async (g: { authority_id: string; entity_id: string; action: string; resource: string; constraints?: Record<string, unknown> }) => {
    const exists = (await registry.index()).state.grants.some(
      (x) => x.authority_id === g.authority_id && x.entity_id === g.entity_id && x.action === g.action && x.resource === g.resource,
    );
    if (exists) return;
    await createGrant(registry, ACTOR, g);
    created++;
  };

  // Full definitions (issue 15) through the same use case as PUT /api/catalog/credential-types/{id};
  // a type that already has a definition keeps it (an administrator may have changed it since).
  const defined = await registry.deps.store.typeDefinitions();
  for (const t of LEIPZIG.credential_types) {
    if (defined.has(t.id)) continue;
    if ((await putCredentialType(registry, ACTOR, t.id, t)).changed) created++;
  }
  await ensureEntity(root, 'authority', ROOT_AUTHORITY.name);
  for (const d of DEPARTMENTS) {
    const id = authorityDid(urls.registry, d.slug);
    await ensureEntity(id, 'authority', d.name);
    for (const vct of d.accredits) await ensureGrant({ authority_id: root, entity_id: id, action: 'accredit', resource: vct, constraints: { actions: ['issue'], max_depth: 0 } });
  }
  for (const o of OFFICES) {
    const id = officeDid(urls.issuer, o.slug);
    await ensureEntity(id, 'issuer', o.name);
    for (const vct of o.issues) await ensureGrant({ authority_id: authorityDid(urls.registry, o.department), entity_id: id, action: 'issue', resource: vct });
  }
  // ISSUER_CONFORMANCE_OFFICE=1 (trust-registry/config.ts): the W3C conformance office and its one
  // type, accredited like any other; without the setting none of it exists in the registry.
  if (opts.conformanceOffice) {
    const t = CONFORMANCE.credentialType;
    if (!(await registry.index()).types.has(t.vct)) {
      await createCredentialType(registry, ACTOR, t);
      created++;
    }
    const department = authorityDid(urls.registry, CONFORMANCE.office.department);
    await ensureGrant({ authority_id: root, entity_id: department, action: 'accredit', resource: t.vct, constraints: { actions: ['issue'], max_depth: 0 } });
    const id = officeDid(urls.issuer, CONFORMANCE.office.slug);
    await ensureEntity(id, 'issuer', CONFORMANCE.office.name);
    await ensureGrant({ authority_id: department, entity_id: id, action: 'issue', resource: t.vct });
  }
  for (const rp of RELYING_PARTIES) {
    const id = relyingPartyDid(urls.verifier, rp.slug);
    await ensureEntity(id, 'verifier', rp.name);
    for (const a of rp.may_ask) await ensureGrant({ authority_id: root, entity_id: id, action: 'verify', resource: a.vct, constraints: { claims: a.claims, purpose: a.purpose } });
  }
  return created;
}
