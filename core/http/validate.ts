import { z } from 'zod';
import { ProblemError } from './errors.ts';

/** Dotted path of the first failing field, `(body)` for the root. */
function fieldOf(issue: z.core.$ZodIssue): string {
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
  return path.length === 0 ? '(body)' : path.map(String).join('.');
}

export interface ParseOptions {
  /** Problem code used for schema failures. */
  code?: string;
  /** What is being parsed, for the message ("request body", "query"). */
  what?: string;
  /** Path of the parsed value inside the body, prepended to field names (`claims`). */
  fieldPrefix?: string;
}

/**
 * The one edge validator: schema failures become a `400` problem naming the first failing field.
 * Inside the service the parsed value is trusted by its type.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, opts: ParseOptions = {}): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const prefix = (f: string) => (opts.fieldPrefix ? (f === '(body)' ? opts.fieldPrefix : `${opts.fieldPrefix}.${f}`) : f);
  const issues = result.error.issues.slice(0, 10).map((i) => ({ field: prefix(fieldOf(i)), message: i.message }));
  const first = issues[0]!;
  throw new ProblemError({
    status: 400,
    code: opts.code ?? 'invalid-request',
    title: 'Invalid request',
    detail: `${opts.what ?? 'request body'}: ${first.field}: ${first.message}`,
    extra: { field: first.field, errors: issues },
  });
}

/** RFC 3339 date-time in UTC with `Z` (TRQP v2 and our APIs). */
export const zUtcDateTime = z.iso.datetime({ offset: false, message: 'must be an RFC 3339 date-time in UTC (…Z)' });

/** A did:web identifier (W3C did:web method, host with optional %3A-encoded port, colon-separated path). */
export const zDidWeb = z
  .string()
  .max(512)
  .regex(/^did:web:[A-Za-z0-9.-]+(%3A\d{1,5})?(:[A-Za-z0-9._~-]+)*$/, 'must be a did:web identifier');

/** Any DID (W3C DID Core §3.1 syntax, bounded length). */
export const zDid = z
  .string()
  .max(4096)
  .regex(/^did:[a-z0-9]+:[A-Za-z0-9._%:-]*[A-Za-z0-9._%-]$/, 'must be a DID');

/** A bilingual display name: German and English are both required. */
export const zI18nText = z.strictObject({
  de: z.string().trim().min(1).max(200),
  en: z.string().trim().min(1).max(200),
});
