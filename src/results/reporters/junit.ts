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

/**
 * `default`: the JUnit GitLab and junitparser read, with four extensions
 * Jenkins' xunit-plugin schema (junit-10.xsd) rejects: `skipped` and
 * `timestamp` on `testsuites`, `file` and `properties` on a `testcase`.
 * `jenkins`: valid against junit-10.xsd; the case properties move to the
 * suite's, prefixed with the case id, and the case's file is the suite's.
 */
export type JunitFormat = 'default' | 'jenkins';
export const JUNIT_FORMATS: readonly JunitFormat[] = ['default', 'jenkins'];

export interface JunitOptions {
  format?: JunitFormat;
  /** Suite files are written relative to this folder (the station YAML's). */
  stationDir?: string;
  /** The run record's id, as a property of every suite. */
  runId?: string;
  serialNumber?: string | null;
  /** The fixture slot (1-based): named in every suite's name too. */
  slot?: number;
}

/** A file relative to the station's folder when it lies inside it, else as is. */
function relativeFile(file: string, stationDir: string | undefined): string {
  if (!stationDir || !file) return file;
  const relative = path.relative(stationDir, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative.split(path.sep).join('/') : file;
}

/** An attribute is one line (XML turns a newline in it into a space): the first line, with a mark when there is more. */
function oneLine(text: string): string {
  const lines = text.split(/\r?\n/).filter((line) => line.trim());
  return lines.length > 1 ? `${lines[0]!.trim()} […]` : (lines[0]?.trim() ?? '');
}

/** The element's text: the whole message, then the stack when it adds to it. */
function fullText(message: string, stack: string | undefined): string {
  if (!stack) return message;
  return stack.includes(message) ? stack : `${message}\n${stack}`;
}

const property = (name: string, value: string): string => `<property name="${escapeXml(name)}" value="${escapeXml(value)}"/>`;

function caseProperties(result: CaseResult): Array<[string, string]> {
  return [...Object.entries(result.tags).map(([name, values]): [string, string] => [`tag.${name}`, values.join(',')]), ...result.requirements.map((requirement): [string, string] => ['requirement', requirement])];
}

function caseXml(result: CaseResult, options: JunitOptions): string {
  const jenkins = options.format === 'jenkins';
  const attributes = `classname="${escapeXml(`${result.suiteId} ${result.suiteName}`)}" name="${escapeXml(`[${result.suiteId}.${result.caseId}] ${result.name}`)}" time="${seconds(result.durationMs)}"${jenkins ? '' : ` file="${escapeXml(relativeFile(result.file, options.stationDir))}"`}`;
  const parts: string[] = [];
  if (result.outcome === 'failed' || result.outcome === 'error') {
    const tag = result.outcome === 'failed' ? 'failure' : 'error';
    const error = result.error;
    const message = error ? `${error.step === 'run' ? '' : `${error.step}: `}${error.message}` : result.outcome;
    parts.push(`      <${tag} message="${escapeXml(oneLine(message))}" type="${escapeXml(error?.type ?? 'Error')}">${escapeXml(fullText(message, error?.stack))}</${tag}>`);
  } else if (result.outcome === 'skipped') {
    const reason = result.skipReason ?? 'skipped';
    parts.push(`      <skipped message="${escapeXml(oneLine(reason))}"${oneLine(reason) === reason ? '/>' : `>${escapeXml(reason)}</skipped>`}`);
  }
  const properties = jenkins ? [] : caseProperties(result);
  if (properties.length) parts.unshift(`      <properties>\n${properties.map(([name, value]) => `        ${property(name, value)}`).join('\n')}\n      </properties>`);
  if (result.output.length) parts.push(`      <system-out>${escapeXml(result.output.join('\n'))}</system-out>`);
  return parts.length ? `    <testcase ${attributes}>\n${parts.join('\n')}\n    </testcase>` : `    <testcase ${attributes}/>`;
}

/** Which unit: `power board (slot 2, SN-0002)` with fixture slots, the suite's own name otherwise. */
function suiteName(suite: SuiteResult, options: JunitOptions): string {
  if (options.slot === undefined) return suite.name;
  return `${suite.name} (slot ${options.slot}${options.serialNumber ? `, ${options.serialNumber}` : ''})`;
}

function suiteXml(suite: SuiteResult, options: JunitOptions): string {
  const counts = countOutcomes(suite.cases);
  const properties: Array<[string, string]> = [];
  if (options.runId) properties.push(['run_id', options.runId]);
  if (options.serialNumber) properties.push(['serial_number', options.serialNumber]);
  if (options.slot !== undefined) properties.push(['slot', String(options.slot)]);
  if (options.format === 'jenkins') {
    for (const result of suite.cases) for (const [name, value] of caseProperties(result)) properties.push([`[${result.suiteId}.${result.caseId}] ${name}`, value]);
  }
  return [
    `  <testsuite name="${escapeXml(suiteName(suite, options))}" id="${suite.id}" tests="${counts.total}" failures="${counts.failed}" errors="${counts.error}" skipped="${counts.skipped}" time="${seconds(suite.durationMs)}" timestamp="${new Date(suite.startedAt).toISOString()}" file="${escapeXml(relativeFile(suite.file, options.stationDir))}">`,
    ...(properties.length ? [`    <properties>\n${properties.map(([name, value]) => `      ${property(name, value)}`).join('\n')}\n    </properties>`] : []),
    ...suite.cases.map((result) => caseXml(result, options)),
    '  </testsuite>',
  ].join('\n');
}

/** The whole run as JUnit XML, in the form GitLab and Jenkins read (`jenkins`: valid against xunit-plugin's junit-10.xsd). */
export function junitXml(run: RunResult, options: JunitOptions = {}): string {
  const { total, failed, error, skipped } = run.counts;
  const jenkins = options.format === 'jenkins';
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="kiso" tests="${total}" failures="${failed}" errors="${error}"${jenkins ? '' : ` skipped="${skipped}"`} time="${seconds(run.durationMs)}"${jenkins ? '' : ` timestamp="${new Date(run.startedAt).toISOString()}"`}>`,
    ...run.suites.map((suite) => suiteXml(suite, options)),
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

  constructor(
    private readonly file: string,
    private readonly options: JunitOptions = {},
  ) {}

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
    writeFileSync(this.file, junitXml(run, this.options));
  }
}
