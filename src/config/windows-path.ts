import path from 'node:path';

/**
 * A relative path as a station written on Windows spells it (`.\suites\can`,
 * `..\common\aux.yaml`), made usable here: on Linux a backslash would be part
 * of a file name. Drive paths (`C:\...`) stay as written: no Linux folder
 * matches them, and the "cannot read" error then shows them unchanged.
 */
export function portablePath(value: string): string {
  if (path.sep !== '/' || !value.includes('\\') || /^[A-Za-z]:/.test(value) || value.startsWith('\\\\')) return value;
  return value.replace(/\\/g, '/');
}
