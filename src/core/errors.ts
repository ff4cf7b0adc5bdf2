/**
 * One catalogue of kiso's errors. Every error a user can see carries a stable
 * code (KISO_<AREA>_<WHAT>) so that logs, JUnit messages and docs can refer to
 * it; `test/unit/errors.test.ts` checks the codes are unique and documented.
 */
export const ERRORS = {
  KISO_CONFIG_INVALID: 'the configuration has errors',
  KISO_USAGE: 'the command line is wrong',
  KISO_TYPE_UNKNOWN: 'a type name resolves to nothing',
  KISO_TYPE_LOAD: 'a user type module could not be loaded',
  KISO_AUX_LOCK_TIMEOUT: 'an auxiliary stayed locked by someone else',
  KISO_AUX_NOT_RUNNING: 'an auxiliary was used while stopped or suspended',
  KISO_AUX_NOT_IN_CASE: 'a case used an auxiliary it did not declare',
  KISO_AUX_COMMAND: 'an auxiliary command failed or is unknown',
  KISO_AUX_CRASHED: 'an auxiliary host process died',
  KISO_CONNECTOR_OPEN: 'a connector could not be opened',
  KISO_CONNECTOR_SEND: 'a connector could not send',
  KISO_CONNECTOR_CLOSED: 'a connector was used while closed',
  KISO_CONNECTOR_INVALID_MESSAGE: 'a message is not valid for this connector',
  KISO_IPC_PROTOCOL: 'a process sent an IPC message kiso does not understand',
  KISO_NO_OPERATOR: 'an operator prompt had no one to answer it (no terminal, no kiso serve)',
  KISO_PYTHON: 'the Python process of pykiso suites could not start or died',
  KISO_SUITE_LOAD: 'a suite file could not be loaded',
  KISO_SUITE_INVALID: 'a suite file does not export a suite',
  KISO_SELECTION_EMPTY: 'a suite folder, pattern or tag filter selects nothing, so the run would test nothing',
  KISO_TIMEOUT: 'a step of a test case took longer than its timeout',
  KISO_DBC_INVALID: 'a DBC file has an error (reported with file:line)',
  KISO_DBC_SIGNAL: 'a message, signal or value does not fit the DBC',
  KISO_ISOTP: 'an ISO-TP transfer failed (timeout, sequence error, overflow)',
  KISO_UDS_NEGATIVE_RESPONSE: 'the ECU refused a UDS request (negative response with its NRC)',
  KISO_UDS_NO_RESPONSE: 'the ECU did not answer a UDS request in time (P2 / P2*)',
  KISO_UDS_INVALID_RESPONSE: 'a UDS response does not match its request',
  KISO_INSTRUMENT_NO_ANSWER: 'an instrument did not answer a SCPI query or read in time',
  KISO_SERIAL_HOOK: "the station's serial-number hook failed or returned no serial",
  KISO_STORE: 'the run store cannot be read or written, or has no such run',
  KISO_STORE_UNREACHABLE: 'the fleet store (PostgreSQL) cannot be reached now; runs wait in the outbox',
  KISO_STATION_PROCEDURE: 'the station is not linked to the procedure of the run',
  KISO_ABORTED: 'the run was interrupted',
  KISO_TRACE_READ: 'a CAN log cannot be read or written (missing, or not in its format at all)',
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class KisoError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KisoError';
    this.code = code;
  }
}

export function isKisoError(error: unknown, code?: ErrorCode): error is KisoError {
  return error instanceof KisoError && (code === undefined || error.code === code);
}

/** A readable one-line description of anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
