import { KisoError } from '../../core/errors.js';

/** One byte's share of a signal: `bits` bits at `shift` in data[byte], worth 2^valueShift in the raw value. */
export interface BitSegment {
  byte: number;
  shift: number;
  bits: number;
  valueShift: number;
}

export type ValueType = 'integer' | 'float32' | 'float64';

export interface DbcSignal {
  name: string;
  /** Name of the message the signal belongs to. */
  messageName: string;
  /** As written in the DBC: the LSB (Intel) or the MSB (Motorola) in DBC bit numbering. */
  startBit: number;
  length: number;
  byteOrder: 'little_endian' | 'big_endian';
  signed: boolean;
  valueType: ValueType;
  factor: number;
  offset: number;
  /** Physical range from the DBC; both 0 means "no range given". */
  minimum: number;
  maximum: number;
  unit: string;
  receivers: string[];
  /** This signal selects which multiplexed signals a frame carries (M, or mNM for extended multiplexing). */
  isMultiplexer: boolean;
  /** The switch this signal depends on; undefined for a signal present in every frame. */
  multiplexerName?: string;
  /** Switch values (inclusive ranges) for which the signal is present. */
  multiplexRanges?: Array<[number, number]>;
  /** Raw value → label (VAL_ or a VAL_TABLE_). */
  valueTable?: Map<number, string>;
  /** Raw value sent when a message is sent without this signal (GenSigStartValue, default 0). */
  initialRaw: number;
  comment?: string;
  /** Line of the SG_ definition, for messages that point at the DBC. */
  line: number;
  /** @internal precomputed layout */
  segments: BitSegment[];
}

export interface DbcMessage {
  name: string;
  /** Arbitration id without the DBC's extended flag bit. */
  id: number;
  extended: boolean;
  /** Payload length in bytes (the BO_ size). */
  length: number;
  /** Sent as CAN FD (VFrameFormat *_FD, or longer than 8 bytes). */
  fd: boolean;
  /** Bit-rate switch for FD frames (VFrameFormat / CANFD_BRS attribute). */
  brs: boolean;
  transmitter: string;
  signals: DbcSignal[];
  signalsByName: Map<string, DbcSignal>;
  /** GenMsgCycleTime in ms, when the DBC gives one (> 0). */
  cycleTimeMs?: number;
  comment?: string;
  line: number;
  /** @internal signals in decoding order: every switch before the signals it selects */
  decodeOrder: DbcSignal[];
}

export interface DbcDatabase {
  file: string;
  version: string;
  nodes: string[];
  messages: DbcMessage[];
  valueTables: Map<string, Map<number, string>>;
  /** Things the parser tolerated (references to unknown messages or signals), with file:line. */
  warnings: string[];
}

/** A DBC syntax or consistency error, always with the file and line. */
export class DbcError extends KisoError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number | undefined,
    readonly reason: string,
  ) {
    super('KISO_DBC_INVALID', `${file}${line > 0 ? `:${line}` : ''}${line > 0 && column !== undefined ? `:${column}` : ''}: ${reason}`);
    this.name = 'DbcError';
  }
}
