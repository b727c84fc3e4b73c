import { multibaseProblem, sriProblem } from './digests.ts';
import { VcdmError } from './errors.ts';
import { isObject, isUrl, type JsonObject } from './values.ts';

/**
 * VCDM 2.0 §5.3 Integrity of Related Resources: "The value of the relatedResource property MUST be
 * one or more objects" with
 * - `id`: REQUIRED, a URL, and "The value MUST be unique among the list of related resource objects";
 * - at least one of `digestSRI` and `digestMultibase` ("Each object associated with relatedResource
 *   MUST contain at least a digestSRI or a digestMultibase value");
 * - `mediaType`: OPTIONAL, a string.
 *
 * "If the digest provided by the issuer does not match the digest computed for the retrieved
 * resource, the conforming verifier implementation MUST produce an error": we never retrieve the
 * resource (no request to a URL the client or presenter chose: SSRF), so the digests are checked for
 * presence and form only (digests.ts). Whoever retrieves the resource must compare the digest.
 */
export function checkRelatedResources(doc: JsonObject): void {
  if (!('relatedResource' in doc)) return;
  const v = doc.relatedResource;
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new VcdmError('vcdm-related-resource', 'relatedResource', 'relatedResource must be an object or a non-empty array of objects');
  const seen = new Set<string>();
  for (const [i, r] of list.entries()) {
    const at = Array.isArray(v) ? `relatedResource.${i}` : 'relatedResource';
    if (!isObject(r)) throw new VcdmError('vcdm-related-resource', at, 'each relatedResource value must be an object with id and a digest');
    if (!isUrl(r.id)) throw new VcdmError('vcdm-related-resource', `${at}.id`, 'relatedResource.id is required and must be a URL');
    if (seen.has(r.id)) throw new VcdmError('vcdm-related-resource', `${at}.id`, 'relatedResource.id must be unique among the related resources');
    seen.add(r.id);
    if (!('digestSRI' in r) && !('digestMultibase' in r)) throw new VcdmError('vcdm-related-resource', at, 'a relatedResource must have digestSRI or digestMultibase');
    for (const [name, problemOf] of [['digestSRI', sriProblem], ['digestMultibase', multibaseProblem]] as const) {
      if (!(name in r)) continue;
      const d = r[name];
      // "One or more cryptographic digests": a string or an array of strings.
      const digests = Array.isArray(d) ? d : [d];
      if (digests.length === 0) throw new VcdmError('vcdm-related-resource', `${at}.${name}`, `${name} must not be empty`);
      for (const x of digests) {
        const why = typeof x === 'string' ? problemOf(x) : 'must be a string';
        if (why) throw new VcdmError('vcdm-related-resource', `${at}.${name}`, `${name} ${why}`);
      }
    }
    if ('mediaType' in r && (typeof r.mediaType !== 'string' || !/^[\w.+-]+\/[\w.+-]+/.test(r.mediaType))) throw new VcdmError('vcdm-related-resource', `${at}.mediaType`, 'mediaType must be a media type such as application/ld+json');
  }
}
