import type { Kysely } from 'kysely';
import { sightingChain } from '../../domain/sightings.js';

// Sightings bounded per client: until now every client's chain was kept as it was sent (tens of kilobytes for a
// chain padded with names), and the preview read and judged all of it. From here a sighting keeps the leaf and the
// intermediates above it within MAX_SIGHTING_CHAIN_BYTES (domain/sightings.ts), and the leaf's issuer beside its
// subject. Rows already stored are cut to the same bound, a page at a time (at most 10,000 per organization).

const PAGE = 200;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('observed_clients').addColumn('issuer', 'text').execute();
  const key = ['organization_id', 'project_id', 'service_account_id', 'fingerprint'] as const;
  let after: Record<(typeof key)[number], string> | undefined;
  for (;;) {
    let query = db.selectFrom('observed_clients').select([...key, 'chain']);
    if (after) {
      const last = after;
      query = query.where((eb: any) => eb(eb.refTuple(...key), '>', eb.tuple(...key.map((k) => last[k]))));
    }
    const rows: any[] = await query.orderBy('organization_id').orderBy('project_id').orderBy('service_account_id').orderBy('fingerprint').limit(PAGE).execute();
    for (const row of rows) {
      if (row.chain === '') continue;
      const chain = row.chain.split(',').map((b: string) => Buffer.from(b, 'base64'));
      const kept = sightingChain(chain);
      if (kept.length === chain.length) continue;
      let update = db.updateTable('observed_clients').set({ chain: kept.map((der) => der.toString('base64')).join(',') });
      for (const k of key) update = update.where(k, '=', row[k]);
      await update.execute();
    }
    if (rows.length < PAGE) return;
    after = rows.at(-1);
  }
}
