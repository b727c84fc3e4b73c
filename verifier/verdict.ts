/**
 * Stable reason codes of a verdict (issue: "Result … with stable reason codes"). Each is set where
 * the failure is found; the messages are for clerks and logs and carry no personal data.
 */
export const REASONS = {
  invalid_presentation: 'Die Vorlage ist kein gültiges Format. / The presentation is malformed.',
  invalid_signature: 'Die Signatur des Nachweises ist ungültig. / The credential signature is invalid.',
  issuer_certificate_invalid: 'Das Zertifikat der ausstellenden Stelle ist nicht von einer vertrauenswürdigen Stadt-CA, abgelaufen oder passt nicht zur Stelle. / The issuer certificate is not from a trusted city CA, has expired or does not name the issuer.',
  invalid_disclosure: 'Offengelegte Angaben passen nicht zum Nachweis. / A disclosure does not belong to the credential.',
  holder_binding_failed: 'Der Nachweis wurde nicht vom Inhaber vorgelegt. / Holder binding failed.',
  nonce_mismatch: 'Die Vorlage gehört zu einer anderen Anfrage. / The presentation belongs to another request.',
  audience_mismatch: 'Die Vorlage war für eine andere Stelle bestimmt. / The presentation was meant for another verifier.',
  expired: 'Der Nachweis ist abgelaufen. / The credential has expired.',
  not_yet_valid: 'Der Nachweis ist noch nicht gültig. / The credential is not yet valid.',
  credential_revoked: 'Der Nachweis wurde widerrufen. / The credential has been revoked.',
  credential_suspended: 'Der Nachweis ist vorübergehend gesperrt. / The credential is suspended.',
  status_unavailable: 'Der Status des Nachweises ist nicht abrufbar. / The credential status cannot be checked.',
  untrusted_issuer: 'Die ausstellende Stelle ist dafür nicht registriert. / The issuer is not registered for this credential type.',
  issuer_suspended: 'Die ausstellende Stelle ist derzeit gesperrt. / The issuer is suspended.',
  issuer_revoked: 'Die Berechtigung der ausstellenden Stelle wurde entzogen. / The issuer’s authorization was revoked.',
  trust_unavailable: 'Das Vertrauensregister ist nicht erreichbar. / The trust registry cannot be reached.',
  query_not_satisfied: 'Die Vorlage enthält nicht die angefragten Angaben. / The presentation does not answer the request.',
  replay: 'Diese Antwort wurde bereits verarbeitet. / This response was already processed.',
  declined: 'Die Person hat die Vorlage abgelehnt oder die Wallet konnte nicht antworten. / The citizen declined or the wallet could not answer.',
} as const;

export type ReasonCode = keyof typeof REASONS;

export interface VerdictError {
  code: ReasonCode;
  message: string;
  /** DCQL credential query id the error concerns, if any. */
  credential_query_id?: string;
}

export const reason = (code: ReasonCode, credential_query_id?: string, detail?: string): VerdictError => ({
  code,
  message: detail ? `${REASONS[code]} (${detail})` : REASONS[code],
  ...(credential_query_id ? { credential_query_id } : {}),
});

export interface VerifiedCredential {
  credential_query_id: string;
  vct: string;
  issuer: string;
  issuer_name: { de: string; en: string } | null;
  /** Only the claims the query asked for. */
  claims: Record<string, unknown>;
}

export interface Verdict {
  verified: boolean;
  errors: VerdictError[];
  warnings: string[];
  credentials: VerifiedCredential[];
}
