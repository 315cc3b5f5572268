// Writing a benchmark's results: bench/results/<name>.json (every figure), <name>.md (the tables, the machine,
// the command) and <name>.svg (the chart), keeping a hand-written "## Findings" section of an earlier .md.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Chart, svgChart } from './chart.js';
import { log, ROOT } from './harness.js';

/** bench/results for a run of the project's own build with the default phases; bench/work/results otherwise */
export function resultsDir(official: boolean): string {
  return process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench', official ? 'results' : 'work/results');
}

/** The commit measured, and whether the worktree had changes on top of it. */
export function measuredCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src/*.ts', 'bench/*.ts', 'test/*.ts', 'package.json'], { cwd: ROOT }).toString().trim();
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

export function machineTable(m: Record<string, string | number>, commit: string): string {
  return `| machine | |
|---|---|
| nproc | ${m.nproc} |
| CPU | ${m.cpu} |
| memory | ${m.memoryGiB} GiB |
| OS | ${m.os}, ${m.kernel} |
| node | ${m.node} |
| certgate commit | ${commit} |
| date | ${m.date} |`;
}

/** What the reader must know about a shared machine: the other processes' CPU during the measured windows. */
export function sharedMachineNote(foreign: readonly number[], nproc: number | string, disturbed: string): string {
  const finite = foreign.filter(Number.isFinite);
  const max = finite.length ? Math.max(...finite) : 0;
  const mean = finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : 0;
  return (
    `**A shared machine.** Other agents' work ran on this machine while measuring: processes outside the benchmark used on average ` +
    `${mean.toFixed(0)}% and at most ${max.toFixed(0)}% of a core during the measured windows (100% = one of the ` +
    `${nproc} cores). ${disturbed} Absolute figures move with that load; per-CPU-second figures and ratios from one run move less.`
  );
}

/** The usual sentence for benchmarks that measure a disturbed window once more. */
export function remeasured(disturbed: readonly string[]): string {
  return `Windows where others used over 25% of a core (or a request failed) were measured again once and then kept; still disturbed: ${disturbed.length ? disturbed.map((d) => `\`${d}\``).join('; ') : 'none'}.`;
}

export function writeResults(dir: string, name: string, report: object, markdown: string, chart: Chart): void {
  mkdirSync(dir, { recursive: true });
  const mdPath = join(dir, `${name}.md`);
  let findings = '';
  try {
    const text = readFileSync(mdPath, 'utf8');
    const at = text.indexOf('\n## Findings');
    if (at >= 0) findings = text.slice(at);
  } catch {
    /* first run */
  }
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(mdPath, markdown.trimEnd() + '\n' + (findings || ''));
  writeFileSync(join(dir, `${name}.svg`), svgChart(chart));
  log(`wrote ${join(dir, name)}.{json,md,svg}`);
}
