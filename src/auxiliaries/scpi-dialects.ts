import { suggest } from '../core/suggest.js';

/**
 * The SCPI commands of InstrumentControlAuxiliary's helpers, per instrument
 * family. The default is the SCPI-99 power-supply vocabulary most
 * instruments speak; a dialect lists only where its instruments differ, and
 * `null` marks a function they do not have (the helper then answers
 * "COMMAND_NOT_AVAILABLE" without sending anything, as pykiso does).
 * pykiso's `instrument` names select the same dialects.
 */
export type ScpiFunction =
  | 'identification'
  | 'statusByte'
  | 'allErrors'
  | 'nextError'
  | 'selfTest'
  | 'reset'
  | 'remoteControl'
  | 'outputChannel'
  | 'output'
  | 'nominalVoltage'
  | 'nominalCurrent'
  | 'nominalPower'
  | 'measureVoltage'
  | 'measureCurrent'
  | 'measurePower'
  | 'voltage'
  | 'current'
  | 'power'
  | 'voltageLimitLow'
  | 'voltageLimitHigh'
  | 'currentLimitLow'
  | 'currentLimitHigh'
  | 'powerLimitHigh';

/** A function's query (ends with '?') and the header its setter writes; null where the instrument has none. */
export interface ScpiCommand {
  query: string | null;
  write: string | null;
}

export type ScpiDialect = Readonly<Record<ScpiFunction, ScpiCommand>>;

const q = (query: string | null, write: string | null = null): ScpiCommand => ({ query, write });

export const DEFAULT_SCPI: ScpiDialect = {
  identification: q('*IDN?'),
  statusByte: q('*STB?'),
  allErrors: q('SYST:ERR:ALL?'),
  nextError: q('SYST:ERR?'),
  selfTest: q('*TST?'),
  reset: q(null, '*RST'),
  remoteControl: q('SYST:LOCK:OWN?', 'SYST:LOCK'),
  outputChannel: q('INST:NSEL?', 'INST:NSEL'),
  output: q('OUTP?', 'OUTP'),
  nominalVoltage: q('SYST:NOM:VOLT?'),
  nominalCurrent: q('SYST:NOM:CURR?'),
  nominalPower: q('SYST:NOM:POW?'),
  measureVoltage: q('MEAS:VOLT?'),
  measureCurrent: q('MEAS:CURR?'),
  measurePower: q('MEAS:POW?'),
  voltage: q('SOUR:VOLT?', 'SOUR:VOLT'),
  current: q('SOUR:CURR?', 'SOUR:CURR'),
  power: q('SOUR:POW?', 'SOUR:POW'),
  voltageLimitLow: q('SOUR:VOLT:LIM:LOW?', 'SOUR:VOLT:LIM:LOW'),
  voltageLimitHigh: q('SOUR:VOLT:LIM:HIGH?', 'SOUR:VOLT:LIM:HIGH'),
  currentLimitLow: q('SOUR:CURR:LIM:LOW?', 'SOUR:CURR:LIM:LOW'),
  currentLimitHigh: q('SOUR:CURR:LIM:HIGH?', 'SOUR:CURR:LIM:HIGH'),
  powerLimitHigh: q('SOUR:POW:LIM:HIGH?', 'SOUR:POW:LIM:HIGH'),
};

const NONE = q(null);

/** Where each known instrument family differs from the default. */
const DIFFERENCES: Record<string, Partial<Record<ScpiFunction, ScpiCommand>>> = {
  // EA power supplies (PSI 9000, EL 9000, PS 10000): one output, so no channel selection.
  'Elektro-Automatik': {
    outputChannel: NONE,
  },
  // R&S NGx/HMP supplies: several outputs, "ALIM" (adjustment limits) for the limits, no lock, no nominal values or power setting.
  'Rohde&Schwarz': {
    allErrors: NONE,
    remoteControl: NONE,
    nominalVoltage: NONE,
    nominalCurrent: NONE,
    nominalPower: NONE,
    power: NONE,
    voltageLimitLow: q('VOLT:ALIM:LOW?', 'VOLT:ALIM:LOW'),
    voltageLimitHigh: q('VOLT:ALIM?', 'VOLT:ALIM'),
    currentLimitLow: q('CURR:ALIM:LOW?', 'CURR:ALIM:LOW'),
    currentLimitHigh: q('CURR:ALIM?', 'CURR:ALIM'),
    powerLimitHigh: NONE,
  },
};

/** The names `instrument` takes (pykiso's REGISTERED_INSTRUMENTS). */
export const KNOWN_INSTRUMENTS = Object.keys(DIFFERENCES);

/** "Rohde & Schwarz", "rohde&schwarz" and "ROHDE-SCHWARZ" are the same name. */
const normalize = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

export interface ResolvedDialect {
  /** The known instrument family, or 'DEFAULT'. */
  name: string;
  commands: ScpiDialect;
  /** Set when `instrument` named something kiso does not know: what to tell the user. */
  note?: string;
}

/** The dialect `instrument` selects; an empty or unknown name gets the default commands (and a note, with the closest known names). */
export function resolveDialect(instrument: string | undefined): ResolvedDialect {
  const wanted = (instrument ?? '').trim();
  if (wanted === '' || normalize(wanted) === 'default') return { name: 'DEFAULT', commands: DEFAULT_SCPI };
  const known = KNOWN_INSTRUMENTS.find((name) => normalize(name) === normalize(wanted));
  if (known) return { name: known, commands: { ...DEFAULT_SCPI, ...DIFFERENCES[known] } };
  const close = suggest(wanted, KNOWN_INSTRUMENTS);
  const hint = close.length ? ` (did you mean "${close[0]}"?)` : '';
  return {
    name: 'DEFAULT',
    commands: DEFAULT_SCPI,
    note: `instrument "${wanted}" is not a known SCPI dialect${hint}: using the default SCPI commands (known: ${KNOWN_INSTRUMENTS.join(', ')})`,
  };
}
