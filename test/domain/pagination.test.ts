import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/domain/errors.js';
import { idSeconds, isId, newId } from '../../src/domain/ids.js';
import { paginate } from '../../src/domain/pagination.js';

const items = Array.from({ length: 7 }, () => ({ id: newId('cert') }));
const ids = items.map((i) => i.id);

describe('ids', () => {
  it('are distinct, well formed and increase in creation order, even within one millisecond', () => {
    const many = Array.from({ length: 2000 }, () => newId('cert', 1_700_000_000_000));
    assert.equal(new Set(many).size, many.length);
    assert.deepEqual([...many].sort(), many);
    assert.ok(many.every((id) => isId('cert', id)));
    assert.equal(isId('cert', 'cert_abc'), false);
    assert.equal(isId('proj', many[0]!), false);
  });

  it('carry their creation second', () => {
    assert.equal(idSeconds(newId('proj', Date.UTC(2031, 0, 2, 3, 4, 5, 678))), Date.UTC(2031, 0, 2, 3, 4, 5) / 1000);
  });
});

describe('paginate', () => {
  it('walks ascending and descending pages without skipping or repeating', () => {
    for (const order of ['asc', 'desc'] as const) {
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = paginate(items, { limit: 3, order, after });
        seen.push(...page.data.map((d) => d.id));
        assert.equal(page.first_id, page.data[0]?.id ?? null);
        assert.equal(page.last_id, page.data.at(-1)?.id ?? null);
        if (!page.has_more) break;
        after = page.last_id!;
      }
      assert.deepEqual(seen, order === 'asc' ? ids : [...ids].reverse());
    }
  });

  it('keeps its place when the cursor item was deleted', () => {
    const without = items.filter((i) => i.id !== ids[3]);
    assert.deepEqual(paginate(without, { limit: 2, order: 'asc', after: ids[3] }).data.map((d) => d.id), ids.slice(4, 6));
    assert.deepEqual(paginate(without, { limit: 2, order: 'desc', after: ids[3] }).data.map((d) => d.id), [ids[2], ids[1]]);
  });

  it('reports has_more exactly', () => {
    assert.equal(paginate(items, { limit: 7, order: 'asc' }).has_more, false);
    assert.equal(paginate(items, { limit: 6, order: 'asc' }).has_more, true);
    assert.equal(paginate(items, { limit: 1, order: 'desc', after: ids[1] }).has_more, false);
    const empty = paginate([], { limit: 5, order: 'desc' });
    assert.deepEqual(empty, { data: [], first_id: null, last_id: null, has_more: false });
  });

  it('refuses a limit outside 1..100', () => {
    for (const limit of [0, 101, 1.5]) {
      assert.throws(() => paginate(items, { limit, order: 'asc' }), (e: unknown) => e instanceof ApiError && e.param === 'limit');
    }
  });
});
