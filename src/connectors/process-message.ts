import type { Message } from '../core/message.js';

/**
 * What CCProcess delivers and accepts, without its process code: suites
 * import these from 'kiso' to read its messages as pykiso's dicts.
 *
 * Every message CCProcess delivers has `channel` set to the stream it came
 * from: 'stdout' or 'stderr' (data: the bytes read, in text mode one line),
 * or 'exit' once the process ended and both streams are drained (data, as
 * UTF-8 text: "exit " and the return code, "exit 3"; a process a signal
 * ended has minus the signal number, as Python's returncode, and the
 * signal's name: "exit -9 SIGKILL"; a log or `kiso dump` shows it as is).
 */
export type ProcessStream = 'stdout' | 'stderr';

/** pykiso's message dicts: {"stdout": text}, {"stderr": text}, {"exit": code}. */
export type ProcessOutput = { stdout: string } | { stderr: string } | { exit: number; signal?: string };

/** A message that starts the process, as pykiso's `{"command": "start", "executable": ..., "args": [...]}`; both fields default to the config's. */
export interface ProcessStartCommand {
  command: 'start';
  executable?: string;
  args?: string[];
}

/** kiso's addition: ends the process (and its process group) as close() does; its exit event follows. */
export interface ProcessStopCommand {
  command: 'stop';
}

export type ProcessCommand = ProcessStartCommand | ProcessStopCommand;

/**
 * A command as a message: `send()` takes it like any other message
 * (`data` is empty), and CCProcess acts on `command` instead of writing
 * to stdin.
 */
export function processCommand(command: ProcessCommand): Message & ProcessCommand {
  return { data: new Uint8Array(0), ...command };
}

/** The command a sent value carries, or undefined for plain stdin data. */
export function commandOf(value: unknown): unknown {
  return value !== null && typeof value === 'object' && 'command' in value ? (value as { command: unknown }).command : undefined;
}

const EXIT_TEXT = /^exit (-?\d+)(?: (SIG[A-Z0-9]+))?$/;

/**
 * A CCProcess message as pykiso's dict (text decoded as UTF-8), or undefined
 * for a message that is not one (no such channel, an exit without a code).
 */
export function processOutput(message: Message): ProcessOutput | undefined {
  const text = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength).toString('utf8');
  switch (message.channel) {
    case 'stdout':
      return { stdout: text };
    case 'stderr':
      return { stderr: text };
    case 'exit': {
      const match = EXIT_TEXT.exec(text);
      if (!match) return undefined;
      return match[2] ? { exit: Number(match[1]), signal: match[2] } : { exit: Number(match[1]) };
    }
    default:
      return undefined;
  }
}
