import { parseOrThrow } from '../http/validate.ts';
import { type CityConfig, type CredentialTypeDef, zCityConfig, zCredentialTypeDef, zOfficeDef, zRelyingPartyDef } from './model.ts';
import type { CurrentState } from './plan.ts';

/**
 * The current state of the three services as a city configuration (`npm run config -- export`).
 * Applying the result to the same services changes nothing (it round-trips through the plan).
 * The registry is the source of truth for types and departments; offices come from the issuer,
 * relying parties and their templates from the verifier. Departments are the authorities under the
 * registry's own `authorities` path, with the types the city accredits them for.
 */
export function exportCityConfig(current: CurrentState): CityConfig {
  const reg = current.registry;
  const root = reg.root;
  const prefix = `${root.slice(0, root.lastIndexOf(':'))}:`;
  const types = new Map<string, CredentialTypeDef>();
  for (const list of [reg.credential_types, current.issuer.credential_types, current.verifier.credential_types]) {
    for (const raw of list) {
      const t = zCredentialTypeDef.safeParse(raw);
      if (t.success && !types.has(t.data.id)) types.set(t.data.id, t.data);
    }
  }
  const idOfVct = new Map([...types.values()].map((t) => [t.vct, t.id]));
  const rootEntity = reg.entities.find((e) => e.id === root);
  const slug = root.slice(prefix.length);
  const departments = reg.entities
    .filter((e) => e.kind === 'authority' && e.id.startsWith(prefix) && e.id !== root)
    .map((e) => ({
      slug: e.id.slice(prefix.length),
      name: e.name,
      accredits: [
        ...new Set(
          reg.grants
            .filter((g) => g.status !== 'revoked' && g.action === 'accredit' && g.authority_id === root && g.entity_id === e.id && idOfVct.has(g.resource))
            .map((g) => idOfVct.get(g.resource)!),
        ),
      ],
    }));
  const config = {
    city: { slug, name: rootEntity?.name ?? { de: slug, en: slug } },
    departments,
    credential_types: [...types.values()],
    offices: current.issuer.offices.map((o) => zOfficeDef.safeParse(o)).filter((r) => r.success).map((r) => r.data!),
    relying_parties: current.verifier.relying_parties.map((r) => zRelyingPartyDef.safeParse(r)).filter((r) => r.success).map((r) => r.data!),
  };
  return parseOrThrow(zCityConfig, config, { what: 'exported configuration', code: 'invalid-configuration' });
}
