// Output for people: aligned tables, key-value blocks and dates with what they mean today.

export type Row = readonly (string | number | boolean | null | undefined)[];

function cell(value: Row[number]): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

/** Columns padded to their widest cell, headers in capitals; "(none)" for an empty list. */
export function table(headers: readonly string[], rows: readonly Row[]): string {
  if (rows.length === 0) return '(none)\n';
  const cells = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => r.map(cell))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** One object as "key: value" lines. */
export function fields(pairs: readonly (readonly [string, Row[number]])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)} ${cell(v)}`).join('\n') + '\n';
}

/** A Unix time as an ISO date and time (UTC, to the second). */
export function time(seconds: number | null | undefined): string | null {
  if (seconds === null || seconds === undefined) return null;
  return new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** An expiry as its date and the days left: "2027-01-05 (412 days left)" or "2025-01-01 (expired 30 days ago)". */
export function expiry(seconds: number | null | undefined, nowMs = Date.now()): string | null {
  if (seconds === null || seconds === undefined) return null;
  const date = new Date(seconds * 1000).toISOString().slice(0, 10);
  const days = Math.floor((seconds * 1000 - nowMs) / 86_400_000);
  if (seconds * 1000 <= nowMs) {
    const ago = Math.floor((nowMs - seconds * 1000) / 86_400_000);
    return `${date} (expired ${ago === 0 ? 'today' : `${ago} day${ago === 1 ? '' : 's'} ago`})`;
  }
  return `${date} (${days} day${days === 1 ? '' : 's'} left)`;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
