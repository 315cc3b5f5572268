import { spawn } from 'node:child_process';
import { CLI } from '../support/processes.js';


export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `certgate …` as its own process, as an operator would, with only the environment given (plus PATH):
 * asynchronously, so that an in-process test server keeps answering meanwhile.
 */
export function runCli(args: readonly string[], env: Record<string, string | undefined> = {}, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env['PATH'], ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Runs many invocations a few at a time: spawning node costs ~0.3 s each. */
export async function runAll(invocations: readonly (readonly string[])[], env: Record<string, string | undefined> = {}, parallel = 4): Promise<CliResult[]> {
  const results: CliResult[] = new Array(invocations.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, invocations.length) }, async () => {
      while (next < invocations.length) {
        const i = next++;
        results[i] = await runCli(invocations[i]!, env);
      }
    }),
  );
  return results;
}
