import { ApiError } from './errors.js';

export type Order = 'asc' | 'desc';

export interface PageRequest {
  readonly limit: number;
  readonly order: Order;
  readonly after?: string | undefined;
}

export interface Page<T> {
  readonly data: T[];
  readonly first_id: string | null;
  readonly last_id: string | null;
  readonly has_more: boolean;
}

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

/**
 * One page of items already sorted ascending by id. The cursor is a position,
 * not a row: the page starts at the first id past `after` in the chosen order,
 * so it keeps its place when the `after` item has since been deleted.
 */
export function paginate<T extends { id: string }, R = T>(
  ascending: readonly T[],
  request: PageRequest,
  present: (item: T) => R = (item) => item as unknown as R,
): Page<R> {
  if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > MAX_LIMIT) {
    throw new ApiError('invalid_value', `limit must be an integer between 1 and ${MAX_LIMIT}.`, 'limit');
  }
  const n = ascending.length;
  const after = request.after;
  const picked: T[] = [];
  let hasMore: boolean;
  if (request.order === 'asc') {
    let i = after === undefined ? 0 : firstGreater(ascending, after);
    for (; i < n && picked.length < request.limit; i++) picked.push(ascending[i]!);
    hasMore = i < n;
  } else {
    let i = after === undefined ? n - 1 : firstGreater(ascending, after) - 1;
    if (after !== undefined && i >= 0 && ascending[i]!.id === after) i--;
    for (; i >= 0 && picked.length < request.limit; i--) picked.push(ascending[i]!);
    hasMore = i >= 0;
  }
  return {
    data: picked.map(present),
    first_id: picked.length ? picked[0]!.id : null,
    last_id: picked.length ? picked[picked.length - 1]!.id : null,
    has_more: hasMore,
  };
}

/** Index of the first item whose id is greater than `id` (binary search). */
function firstGreater(items: readonly { id: string }[], id: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid]!.id <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
