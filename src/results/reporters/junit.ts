import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Reporter } from './reporter.js';
import type { CaseResult, RunResult, SuiteResult } from '../outcomes.js';
import { countOutcomes } from '../outcomes.js';

// XML 1.0 forbids most control characters even when escaped: drop them.
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function escapeXml(text: string): string {
  return text
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function caseXml(result: CaseResult): string {
  const attributes = `classname="${escapeXml(`${result.suiteId} ${result.suiteName}`)}" name="${escapeXml(`[${result.suiteId}.${result.caseId}] ${result.name}`)}" time="${seconds(result.durationMs)}" file="${escapeXml(result.file)}"`;
  const parts: string[] = [];
  if (result.outcome === 'failed' || result.outcome === 'error') {
    const tag = result.outcome === 'failed' ? 'failure' : 'error';
    const error = result.error;
    const message = error ? `${error.step === 'run' ? '' : `${error.step}: `}${error.message}` : result.outcome;
    parts.push(`      <${tag} message="${escapeXml(message)}" type="${escapeXml(error?.type ?? 'Error')}">${escapeXml(error?.stack ?? message)}</${tag}>`);
  } else if (result.outcome === 'skipped') {
    parts.push(`      <skipped message="${escapeXml(result.skipReason ?? 'skipped')}"/>`);
  }
  const properties = [
    ...Object.entries(result.tags).map(([name, values]) => `        <property name="tag.${escapeXml(name)}" value="${escapeXml(values.join(','))}"/>`),
    ...result.requirements.map((requirement) => `        <property name="requirement" value="${escapeXml(requirement)}"/>`),
  ];
  if (properties.length) parts.unshift(`      <properties>\n${properties.join('\n')}\n      </properties>`);
  if (result.output.length) parts.push(`      <system-out>${escapeXml(result.output.join('\n'))}</system-out>`);
  return parts.length ? `    <testcase ${attributes}>\n${parts.join('\n')}\n    </testcase>` : `    <testcase ${attributes}/>`;
}

function suiteXml(suite: SuiteResult): string {
  const counts = countOutcomes(suite.cases);
  return [
    `  <testsuite name="${escapeXml(suite.name)}" id="${suite.id}" tests="${counts.total}" failures="${counts.failed}" errors="${counts.error}" skipped="${counts.skipped}" time="${seconds(suite.durationMs)}" timestamp="${new Date(suite.startedAt).toISOString()}" file="${escapeXml(suite.file)}">`,
    ...suite.cases.map(caseXml),
    '  </testsuite>',
  ].join('\n');
}

/** The whole run as JUnit XML, in the form GitLab and Jenkins read. */
export function junitXml(run: RunResult): string {
  const { total, failed, error, skipped } = run.counts;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="kiso" tests="${total}" failures="${failed}" errors="${error}" skipped="${skipped}" time="${seconds(run.durationMs)}" timestamp="${new Date(run.startedAt).toISOString()}">`,
    ...run.suites.map(suiteXml),
    '</testsuites>',
    '',
  ].join('\n');
}

/**
 * Writes the report at the end of the run, and the suites finished so far
 * after each suite, so a run that dies half-way still leaves its report.
 */
export class JunitReporter implements Reporter {
  private readonly suites: SuiteResult[] = [];
  private startedAt = Date.now();

  constructor(private readonly file: string) {}

  onRunStart(info: { startedAt: number }): void {
    this.startedAt = info.startedAt;
  }

  onSuiteEnd(suite: SuiteResult): void {
    this.suites.push(suite);
    const cases = this.suites.flatMap((s) => s.cases);
    this.write({ configFile: '', startedAt: this.startedAt, durationMs: Date.now() - this.startedAt, suites: this.suites, outcome: 'error', counts: countOutcomes(cases) });
  }

  onRunEnd(run: RunResult): void {
    this.write(run);
  }

  private write(run: RunResult): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileSync(this.file, junitXml(run));
  }
}
