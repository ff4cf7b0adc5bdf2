import { fileURLToPath } from 'node:url';

/** One stack frame's `(file:line:col)`; file may be a file:// URL. */
const FRAME = /\(?((?:file:\/\/)?[^()\s]+):(\d+):\d+\)?$/;

/** `path/file.ts:42` of a stack frame line (`at fn (file:///x.ts:42:7)`), or undefined. */
export function siteOfFrame(frame: string): string | undefined {
  const match = FRAME.exec(frame.trim());
  if (!match) return undefined;
  const file = match[1]!.startsWith('file://') ? fileURLToPath(match[1]!) : match[1]!;
  return `${file}:${match[2]}`;
}

/** `path/file.ts:42` of the code that called `fn`; a one-frame stack, cheap enough per log line or check. */
export function callerOf(fn: Function): string | undefined {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  Error.captureStackTrace(holder, fn);
  Error.stackTraceLimit = limit;
  const frame = holder.stack?.split('\n')[1];
  return frame ? siteOfFrame(frame) : undefined;
}
