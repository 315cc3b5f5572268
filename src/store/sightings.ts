import type { Kysely } from 'kysely';
import type { ObservedClient, Observations } from '../domain/model.js';
import { sightingChain } from '../domain/sightings.js';
import type { Database } from './schema.js';
import type { SightingsPage } from './store.js';

// What the gateways saw: the clients that presented certificates (observed_clients), and the counts of observe mode
// (mtls_observations). Written apart from the organization's revision: no snapshot reloads for them.

export async function addObservations(db: Kysely<Database>, organizationId: string, scope: string, wouldRefuse: number, admitted: number, now: number): Promise<void> {
  await db
    .insertInto('mtls_observations')
    .values({ organization_id: organizationId, scope, would_refuse: wouldRefuse, admitted, since: now })
    .onConflict((oc) =>
      oc.columns(['organization_id', 'scope']).doUpdateSet((eb) => ({
        would_refuse: eb('mtls_observations.would_refuse', '+', wouldRefuse),
        admitted: eb('mtls_observations.admitted', '+', admitted),
      })),
    )
    .execute();
}

export async function observations(db: Kysely<Database>, organizationId: string, scope: string): Promise<Observations> {
  const row = await db
    .selectFrom('mtls_observations')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('scope', '=', scope)
    .executeTakeFirst();
  return row ? { wouldRefuse: Number(row.would_refuse), admitted: Number(row.admitted), since: Number(row.since) } : { wouldRefuse: 0, admitted: 0, since: null };
}

export async function recordClients(db: Kysely<Database>, organizationId: string, sightings: readonly ObservedClient[], forgetBefore: number, maxPerOrganization: number): Promise<void> {
  for (const c of sightings) {
    await db
      .insertInto('observed_clients')
      .values({
        organization_id: organizationId,
        project_id: c.projectId,
        service_account_id: c.serviceAccountId,
        fingerprint: c.fingerprint,
        subject: c.subject,
        issuer: c.issuer ?? null,
        chain: sightingChain(c.chain).map((der) => der.toString('base64')).join(','),
        certificate_id: c.certificateId,
        first_seen: c.firstSeen,
        last_seen: c.lastSeen,
        requests: c.requests,
      })
      .onConflict((oc) =>
        oc.columns(['organization_id', 'project_id', 'service_account_id', 'fingerprint']).doUpdateSet((eb) => ({
          requests: eb('observed_clients.requests', '+', c.requests),
          last_seen: c.lastSeen,
          certificate_id: c.certificateId,
          subject: eb.ref('excluded.subject'),
          issuer: eb.ref('excluded.issuer'),
          chain: eb.ref('excluded.chain'),
        })),
      )
      .execute();
  }
  await db.deleteFrom('observed_clients').where('organization_id', '=', organizationId).where('last_seen', '<', forgetBefore).execute();
  // bounded per organization: past the bound, the longest unseen go first
  const count = await db
    .selectFrom('observed_clients')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('organization_id', '=', organizationId)
    .executeTakeFirstOrThrow();
  const excess = Number(count.n) - maxPerOrganization;
  if (excess > 0) {
    const oldest = await db
      .selectFrom('observed_clients')
      .select('last_seen')
      .where('organization_id', '=', organizationId)
      .orderBy('last_seen')
      .offset(excess)
      .limit(1)
      .executeTakeFirst();
    if (oldest) await db.deleteFrom('observed_clients').where('organization_id', '=', organizationId).where('last_seen', '<', oldest.last_seen).execute();
  }
}

export async function observedClients(db: Kysely<Database>, organizationId: string, seenSince: number, page: SightingsPage = {}): Promise<ObservedClient[]> {
  let query = db.selectFrom('observed_clients').selectAll().where('organization_id', '=', organizationId).where('last_seen', '>=', seenSince);
  if (page.projectId != null) query = query.where('project_id', '=', page.projectId);
  const after = page.after;
  if (after) {
    query = query.where((eb) => eb(eb.refTuple('project_id', 'service_account_id', 'fingerprint'), '>', eb.tuple(after.projectId, after.serviceAccountId, after.fingerprint)));
  }
  query = query.orderBy('project_id').orderBy('service_account_id').orderBy('fingerprint');
  if (page.limit !== undefined) query = query.limit(page.limit);
  const rows = await query.execute();
  return rows.map((r) => ({
    projectId: r.project_id,
    serviceAccountId: r.service_account_id,
    fingerprint: r.fingerprint,
    subject: r.subject,
    issuer: r.issuer,
    chain: r.chain === '' ? [] : r.chain.split(',').map((b) => Buffer.from(b, 'base64')),
    certificateId: r.certificate_id,
    firstSeen: Number(r.first_seen),
    lastSeen: Number(r.last_seen),
    requests: Number(r.requests),
  }));
}
