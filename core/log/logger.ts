import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logger for every service.
 *
 * Privacy rule: callers log identifiers of organisations, request ids, routes and outcome codes,
 * never request bodies, claims, tokens, codes or key material. The redaction list below is a
 * second line of defence for the fields that could slip in through error objects or headers.
 */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.authorization',
  '*.access_token',
  '*.tx_code',
  '*.pre-authorized_code',
  '*.privateKeyHex',
  '*.d',
  '*.claims',
  '*.vp_token',
  '*.credential',
  '*.token',
  '*.secret',
  '*.password',
];

export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
