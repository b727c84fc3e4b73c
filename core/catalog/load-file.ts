import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseOrThrow } from '../http/validate.ts';
import { type CityConfig, zCityConfig } from './model.ts';

/** Largest configuration file read (a city's whole catalogue is a few hundred kilobytes at most). */
const MAX_BYTES = 2 * 1024 * 1024;

/**
 * Parses a city configuration (YAML 1.2 or JSON, which is YAML) and validates it against the model.
 * Errors name the field (`offices.2.credential_configurations.0.type: …`). The `yaml` library is a
 * spec-complete YAML 1.2 parser; aliases are limited so a small file cannot expand into a huge one.
 */
export function parseCityConfig(text: string): CityConfig {
  if (Buffer.byteLength(text, 'utf8') > MAX_BYTES) throw new Error(`configuration is larger than ${MAX_BYTES} bytes`);
  const raw: unknown = parse(text, { maxAliasCount: 100, prettyErrors: true, uniqueKeys: true });
  return parseOrThrow(zCityConfig, raw, { what: 'configuration', code: 'invalid-configuration' });
}

export function readCityConfig(file: string): CityConfig {
  return parseCityConfig(readFileSync(file, 'utf8'));
}
