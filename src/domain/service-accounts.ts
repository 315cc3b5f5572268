import { ApiError } from './errors.js';
import { shownId } from './ids.js';

export function serviceAccountNotFound(id: string): ApiError {
  return new ApiError('service_account_not_found', `No service account with id ${shownId('svc_acct', id)} exists in this project.`, 'service_account_id');
}
