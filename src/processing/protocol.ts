/**
 * Every message between the main process and an auxiliary host process.
 * Both sides switch on `type`; the compiler rejects a message that is not
 * here. Frames travel packed (frame-pack.ts), one buffer per batch.
 */
import type { AuxiliaryState } from '../core/auxiliary.js';
import type { LogLevel } from '../core/logging.js';

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  /** The error's own plain fields (a UDS negative response's nrc and nrcName, ...). */
  fields?: Record<string, string | number | boolean>;
}

export interface HostedConnectorSpec {
  name: string;
  type: string;
  config: Record<string, unknown>;
}

/** What a host process builds: one auxiliary and the connectors it owns. */
export interface HostSpec {
  auxiliary: { name: string; type: string; config: Record<string, unknown>; connectors: Record<string, string> };
  connectors: HostedConnectorSpec[];
  /** The station YAML's folder, for user types and relative paths. */
  baseDir: string;
  logLevel: LogLevel;
  /** A proxy's frames go to the main process's auxiliaries through the IPC link. */
  proxy: boolean;
}

/** The hosted auxiliary's state, sent after every call (inside its result) and on a connector fault. */
export interface HostedState {
  state: AuxiliaryState;
  locked: boolean;
  fault?: SerializedError;
}

/** Main → host. */
export type HostRequest =
  | { type: 'init'; spec: HostSpec }
  | { type: 'call'; id: number; method: string; args: unknown[] }
  | { type: 'frames'; seq: number; sender: string; batch: Uint8Array }
  | { type: 'shutdown' };

/** Host → main. */
export type HostEvent =
  | { type: 'ready'; pid: number }
  | { type: 'init-failed'; error: SerializedError }
  | { type: 'result'; id: number; ok: true; value: unknown; after: HostedState }
  | { type: 'result'; id: number; ok: false; error: SerializedError; after: HostedState }
  | ({ type: 'state' } & HostedState)
  | { type: 'frames'; sender: string | null; batch: Uint8Array }
  | { type: 'frames-ack'; seq: number; errors: Array<{ index: number; error: SerializedError }> }
  | { type: 'log'; line: string };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const fields = Object.fromEntries(
      Object.entries(error).filter(([key, value]) => key !== 'code' && ['string', 'number', 'boolean'].includes(typeof value)),
    ) as Record<string, string | number | boolean>;
    return { name: error.name, message: error.message, code: (error as { code?: string }).code, stack: error.stack, ...(Object.keys(fields).length ? { fields } : {}) };
  }
  return { name: 'Error', message: String(error) };
}
