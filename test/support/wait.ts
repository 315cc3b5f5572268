import assert from 'node:assert/strict';

/**
 * Polls until check() holds and returns how many milliseconds that took,
 * failing once the bound has passed. Used only for the stated propagation bounds.
 */
export async function within(boundMs: number, check: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > boundMs) assert.fail(`not seen within ${boundMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
