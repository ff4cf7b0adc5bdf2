import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeError } from '../core/errors.js';
import { packageRoot } from '../core/package-root.js';

/**
 * What went wrong when a suite file was imported, in the suite's own terms:
 * the place in the user's file (`test_x.ts:3:21`) and the error, once. The
 * stack keeps the user's frames only: kiso's loader, tsx and Node's module
 * machinery say nothing about the suite.
 */
export interface SuiteLoadProblem {
  /** `file:line:col` in the suite (or in a file it imports), or the suite file alone when no place is known. */
  where: string;
  /** `TypeError: Cannot read properties of undefined (reading 'port')`. */
  what: string;
  /** The error's first line and the user's own frames. */
  stack: string;
}

const FRAME_LOCATION = /(?:\(|at )((?:file:\/\/)?\/[^\s()]+?):(\d+):(\d+)\)?\s*$/;

function localPath(location: string): string {
  return location.startsWith('file://') ? fileURLToPath(location) : location;
}

/** A frame of the user's code: not Node's, not a dependency's, not kiso's own. */
function isUserFile(file: string): boolean {
  if (file.startsWith('node:') || file.includes(`${path.sep}node_modules${path.sep}`)) return false;
  const root = packageRoot();
  return !(file.startsWith(path.join(root, 'src') + path.sep) || file.startsWith(path.join(root, 'dist') + path.sep));
}

function userFrames(stack: string): Array<{ line: string; file: string; position: string }> {
  const frames: Array<{ line: string; file: string; position: string }> = [];
  for (const line of stack.split('\n')) {
    if (!/^\s+at /.test(line)) continue;
    const match = FRAME_LOCATION.exec(line);
    if (!match) continue;
    const file = localPath(match[1]!);
    if (isUserFile(file)) frames.push({ line, file, position: `${file}:${match[2]}:${match[3]}` });
  }
  return frames;
}

/** Where Node says a syntax error is: `node --check` prints `file:LINE`, the line, and a caret under the column. */
function syntaxErrorPosition(file: string): string | undefined {
  const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
  if (check.status === 0) return undefined;
  const lines = (check.stderr ?? '').split('\n');
  const head = lines.findIndex((line) => line.startsWith(`${file}:`));
  if (head < 0) return undefined;
  const lineNumber = /:(\d+)$/.exec(lines[head]!)?.[1];
  const caret = lines[head + 2]?.indexOf('^') ?? -1;
  return lineNumber ? `${file}:${lineNumber}${caret >= 0 ? `:${caret + 1}` : ''}` : undefined;
}

export function describeSuiteLoadError(file: string, error: unknown): SuiteLoadProblem {
  if (!(error instanceof Error)) return { where: file, what: describeError(error), stack: describeError(error) };
  const message = error.message;
  // tsx (esbuild) names the place itself: "Transform failed with 1 error:\n/x/test.ts:2:18: ERROR: Unexpected ";"".
  const transform = /^(\/[^\n]+?):(\d+):(\d+): ERROR: (.*)$/m.exec(message);
  if (transform) {
    const where = `${transform[1]}:${transform[2]}:${transform[3]}`;
    return { where, what: `SyntaxError: ${transform[4]}`, stack: `SyntaxError: ${transform[4]}\n    at ${where}` };
  }
  const name = error.name && error.name !== 'Error' ? error.name : (error as { code?: string }).code ?? 'Error';
  const what = `${name}: ${message.split('\n')[0]}`;
  const frames = userFrames(error.stack ?? '');
  const own = frames.find((frame) => frame.file === file) ?? frames[0];
  let where = own?.position;
  if (!where && error.name === 'SyntaxError' && /\.[cm]?js$/.test(file)) where = syntaxErrorPosition(file);
  return { where: where ?? file, what, stack: [what, ...frames.map((frame) => frame.line)].join('\n') };
}
