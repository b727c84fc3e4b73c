/**
 * Byte limits and deadlines for every outbound fetch (core/net/bounded-fetch.ts), by what is fetched.
 * Generous for real documents, small enough that a hostile or broken server cannot make a service
 * hold much memory or wait long.
 */

/** A did:web DID document: a handful of keys and services. */
export const DID_DOCUMENT_MAX_BYTES = 100_000;

/** A Status List Token or a status list credential (a compressed list of a million 8-bit entries stays well below). */
export const STATUS_LIST_MAX_BYTES = 2_000_000;

/** The trust registry's signed snapshot: every entity, grant (with its signed statement and history) and credential type. */
export const REGISTRY_SNAPSHOT_MAX_BYTES = 5_000_000;

/**
 * Protocol messages a wallet or issuer fetches: credential offers, issuer and authorization-server
 * metadata, request objects, JWK Sets, token, nonce and credential responses.
 */
export const PROTOCOL_MESSAGE_MAX_BYTES = 256_000;

/** Deadline for a service's fetch (DID documents, status lists, registry snapshots). */
export const SERVICE_FETCH_TIMEOUT_MS = 5_000;

/** Deadline for a wallet's fetch: a citizen's phone may be on a slow network. */
export const WALLET_FETCH_TIMEOUT_MS = 10_000;
