import { KisoError } from '../core/errors.js';

/** A place in a YAML file; line and col are 1-based. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/** One problem found in a configuration, with where it is and what was expected. */
export interface ConfigIssue {
  position?: SourcePosition;
  /** Key path in the loaded configuration, e.g. ['connectors', 'udp', 'config', 'dest_port']. */
  path: ReadonlyArray<string | number>;
  message: string;
}

/** `connectors.udp.config.dest_port`, `test_suite_list[0].suite_dir`. */
export function formatKeyPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out || '(top level)';
}

export function formatPosition(position: SourcePosition | undefined, relativeTo = process.cwd()): string {
  if (!position) return '';
  const file = position.file.startsWith(relativeTo + '/') ? position.file.slice(relativeTo.length + 1) : position.file;
  return `${file}:${position.line}:${position.col}`;
}

export function formatIssue(issue: ConfigIssue): string {
  const where = formatPosition(issue.position);
  const keyPath = issue.path.length ? `${formatKeyPath(issue.path)}: ` : '';
  return `${where ? `${where}: ` : ''}${keyPath}${issue.message}`;
}

/** Every problem of a configuration at once; the CLI prints them and exits with code 2. */
export class ConfigError extends KisoError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    const sorted = [...issues].sort(compareIssues);
    super('KISO_CONFIG_INVALID', `the configuration has ${sorted.length} error${sorted.length === 1 ? '' : 's'}:\n${sorted.map((issue) => `  ${formatIssue(issue)}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = sorted;
  }
}

function compareIssues(a: ConfigIssue, b: ConfigIssue): number {
  const fa = a.position?.file ?? '';
  const fb = b.position?.file ?? '';
  if (fa !== fb) return fa < fb ? -1 : 1;
  return (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.col ?? 0) - (b.position?.col ?? 0);
}
