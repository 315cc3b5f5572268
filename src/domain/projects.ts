import { ApiError } from './errors.js';
import { isId } from './ids.js';
import type { ProjectRecord } from './model.js';

export function projectNotFound(id: string): ApiError {
  const shown = isId('proj', id) ? id : JSON.stringify(id.slice(0, 80));
  return new ApiError('project_not_found', `No project with id ${shown} exists in this organization.`, 'project_id');
}

/** A project that calls may act on: it exists and is not archived. */
export function requireUsableProject(id: string, project: ProjectRecord | undefined): ProjectRecord {
  if (!project) throw projectNotFound(id);
  if (project.archivedAt !== null) {
    throw new ApiError('project_archived', `Project ${id} is archived; archived projects cannot be used or changed.`, 'project_id');
  }
  return project;
}

export function checkProjectName(name: string): string {
  if (name.trim().length === 0) throw new ApiError('invalid_value', 'name must not be empty.', 'name');
  if (name.length > 256) throw new ApiError('invalid_value', 'name must be at most 256 characters long.', 'name');
  return name;
}
