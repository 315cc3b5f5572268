import { ApiError } from './errors.js';
import { shownId } from './ids.js';
import type { ProjectRecord } from './model.js';

export function projectNotFound(id: string): ApiError {
  return new ApiError('project_not_found', `No project with id ${shownId('proj', id)} exists in this organization.`, 'project_id');
}

/** A project that calls may act on: it exists and is not archived. */
export function requireUsableProject(id: string, project: ProjectRecord | undefined): ProjectRecord {
  if (!project) throw projectNotFound(id);
  if (project.archivedAt !== null) {
    throw new ApiError('project_archived', `Project ${id} is archived; archived projects cannot be used or changed.`, 'project_id');
  }
  return project;
}
