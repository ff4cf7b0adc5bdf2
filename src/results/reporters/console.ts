import path from 'node:path';
import type { Reporter, SuiteStartInfo } from './reporter.js';
import type { CaseResult, Outcome, RunResult } from '../outcomes.js';

const LABELS: Record<Outcome, string> = { passed: 'PASS', failed: 'FAIL', error: 'ERROR', skipped: 'SKIP' };
const COLORS: Record<Outcome, string> = { passed: '\x1b[32m', failed: '\x1b[31m', error: '\x1b[35m', skipped: '\x1b[33m' };
const RESET = '\x1b[0m';

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export interface ConsoleReporterOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  color?: boolean;
  /** Put before every line, e.g. `[slot 2 SN-0002] ` when several devices run at once. */
  prefix?: string;
  /** Print the summary table at the end (off for slots: the station summary replaces it). */
  summary?: boolean;
}

/** Live progress (one line per case as it ends) and a summary table at the end. */
export class ConsoleReporter implements Reporter {
  private readonly out: NodeJS.WritableStream;
  private readonly color: boolean;

  private readonly summary: boolean;

  constructor(options: ConsoleReporterOptions = {}) {
    const stream = options.stream ?? process.stdout;
    const prefix = options.prefix;
    // Lines are written whole, so a prefix can go before each one.
    this.out = prefix ? ({ write: (text: string) => stream.write(text.replace(/^(?=.)/gm, prefix)) } as NodeJS.WritableStream) : stream;
    this.summary = options.summary ?? true;
    this.color = options.color ?? (Boolean((stream as { isTTY?: boolean }).isTTY) && !process.env.NO_COLOR);
  }

  private paint(outcome: Outcome, text: string): string {
    return this.color ? `${COLORS[outcome]}${text}${RESET}` : text;
  }

  onSuiteStart(info: SuiteStartInfo): void {
    this.out.write(`\nSuite ${info.id}: ${info.name} (${path.relative(process.cwd(), info.file) || info.file})\n`);
  }

  onCaseEnd(result: CaseResult): void {
    const retries = result.attempts > 1 ? `, ${result.attempts} attempts` : '';
    this.out.write(`  ${this.paint(result.outcome, LABELS[result.outcome].padEnd(5))} [${result.suiteId}.${result.caseId}] ${result.name} (${formatDuration(result.durationMs)}${retries})\n`);
    if (result.error) {
      const where = result.error.step === 'run' ? '' : ` in ${result.error.step}`;
      for (const line of `${result.error.type}${where}: ${result.error.message}`.split('\n')) this.out.write(`        ${line}\n`);
    } else if (result.skipReason && result.outcome === 'skipped') {
      this.out.write(`        ${result.skipReason}\n`);
    }
  }

  onRunEnd(run: RunResult): void {
    if (!this.summary) return;
    const cases = run.suites.flatMap((suite) => suite.cases);
    const rows = cases.map((result) => [`${result.suiteId}.${result.caseId}`, `${result.suiteName} › ${result.name}`, LABELS[result.outcome], formatDuration(result.durationMs)] as const);
    const idWidth = Math.max(2, ...rows.map((row) => row[0].length));
    const nameWidth = Math.min(70, Math.max(4, ...rows.map((row) => row[1].length)));
    this.out.write(`\n${'Id'.padEnd(idWidth)}  ${'Case'.padEnd(nameWidth)}  Outcome  Time\n`);
    cases.forEach((result, index) => {
      const row = rows[index]!;
      const name = row[1].length > nameWidth ? `${row[1].slice(0, nameWidth - 1)}…` : row[1].padEnd(nameWidth);
      this.out.write(`${row[0].padEnd(idWidth)}  ${name}  ${this.paint(result.outcome, row[2].padEnd(7))}  ${row[3]}\n`);
    });
    const { passed, failed, error, skipped } = run.counts;
    const verdict = run.outcome === 'aborted' ? 'INTERRUPTED' : run.outcome === 'passed' ? 'PASSED' : 'FAILED';
    this.out.write(`\n${verdict}: ${passed} passed, ${failed} failed, ${error} errors, ${skipped} skipped in ${formatDuration(run.durationMs)}\n`);
  }
}

/** No output: for benchmarks and library use. */
export class SilentReporter implements Reporter {}
