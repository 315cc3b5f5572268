import type { Actor } from '../domain/model.js';
import type { AuditQuery, SightingsPage, Store, WriteTransaction } from './store.js';
import * as audit from './audit.js';
import { catchUp } from './changes.js';
import type { Engine } from './engine.js';
import { ensureOrganization, migrate } from './maintenance.js';
import * as reads from './reads.js';
import * as sightings from './sightings.js';
import { write } from './writes.js';

export type { Engine } from './engine.js';

/**
 * The one Store of both engines: SQL shared by SQLite and PostgreSQL, laid out by role in the files beside it
 * (reads.ts, writes.ts: the write transaction, changes.ts: the change feed, audit.ts, sightings.ts, maintenance.ts:
 * migrations and setup); what differs between the engines is the Engine each gives it (sqlite.ts, postgres.ts).
 */
export class SqlStore implements Store {
  constructor(private readonly engine: Engine) {}

  migrate = () => migrate(this.engine);
  close = () => this.engine.close();
  onExternalChange = (listener: () => void) => this.engine.watch(listener);
  ready = () => this.engine.ready();
  ensureOrganization = (id: string, name: string, now: number) => ensureOrganization(this.engine, id, name, now);

  adminKeyByHash = (keyHash: string) => reads.adminKeyByHash(this.engine.db, keyHash);
  projectKeyOwner = (keyHash: string) => reads.projectKeyOwner(this.engine.db, keyHash);
  adminKeys = (organizationId: string) => reads.adminKeys(this.engine.db, organizationId);
  touchAdminKeys = (ids: readonly string[], now: number) => reads.touchAdminKeys(this.engine.db, ids, now);
  organizationIds = () => reads.organizationIds(this.engine.db);
  loadOrganization = (organizationId: string) => reads.loadOrganization(this.engine, organizationId);
  revision = (organizationId: string) => reads.revision(this.engine, organizationId);

  catchUp = (organizationId: string, fromRevision: number) => catchUp(this.engine, organizationId, fromRevision);

  auditLogs = (organizationId: string, query: AuditQuery) => audit.auditLogs(this.engine.db, organizationId, query);
  pruneAuditLogs = (organizationId: string, olderThan: number, batch: number) => audit.pruneAuditLogs(this.engine, organizationId, olderThan, batch);

  addObservations = (organizationId: string, scope: string, wouldRefuse: number, admitted: number, now: number) => sightings.addObservations(this.engine.db, organizationId, scope, wouldRefuse, admitted, now);
  observations = (organizationId: string, scope: string) => sightings.observations(this.engine.db, organizationId, scope);
  recordClients = (organizationId: string, seen: Parameters<Store['recordClients']>[1], forgetBefore: number, maxPerOrganization: number) =>
    sightings.recordClients(this.engine.db, organizationId, seen, forgetBefore, maxPerOrganization);
  observedClients = (organizationId: string, seenSince: number, page?: SightingsPage) => sightings.observedClients(this.engine.db, organizationId, seenSince, page);

  write<T>(actor: Actor, now: number, work: (tx: WriteTransaction) => Promise<T>): Promise<T> {
    return write(this.engine, actor, now, work);
  }
}
