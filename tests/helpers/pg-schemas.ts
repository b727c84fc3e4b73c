/** Drops the PostgreSQL schemas one run created under DATABASE_SCHEMA_PREFIX (registry, issuer, verifier). */
export async function dropSchemas(url: string, prefix: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(prefix)) throw new Error('not a schema prefix');
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of ['registry', 'issuer', 'verifier']) await client.query(`DROP SCHEMA IF EXISTS "${prefix}${s}" CASCADE`);
  } finally {
    await client.end();
  }
}
