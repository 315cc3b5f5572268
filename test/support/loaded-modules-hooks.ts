// Module hooks (node:module register) for loaded-modules.ts: appends the URL of every ES module loaded to a file.
import { appendFileSync } from 'node:fs';

let file: string | undefined;

export function initialize(data: { file: string }): void {
  file = data.file;
}

export async function load(url: string, context: unknown, next: (url: string, context: unknown) => Promise<unknown>): Promise<unknown> {
  if (file) appendFileSync(file, `${url}\n`);
  return next(url, context);
}
