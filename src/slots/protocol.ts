/**
 * Messages between kiso's main process and a fixture-slot worker. A worker
 * runs one slot's device with its own auxiliaries and connectors, and
 * streams what happens back; with `--dist load` it asks for work units.
 */
import type { LogLevel } from '../core/logging.js';
import type { CaseStartInfo, RunStartInfo, SuiteStartInfo } from '../results/reporters/reporter.js';
import type { CaseResult, RunResult, SuiteResult } from '../results/outcomes.js';
import type { SerializedError } from '../processing/protocol.js';
import type { PortableStationConfig } from '../config/portable.js';
import type { PromptAnswer, PromptOrigin, PromptRequest } from '../runner/prompts.js';

export type Distribution = 'each' | 'load';

/** A piece of the case list one slot takes (`--dist load`): one suite, or the cases of it that must stay together. */
export interface WorkUnit {
  file: string;
  suiteId: number;
  caseIds: number[];
}

export interface SlotJob {
  /** The slot's station config, already checked by the main process. */
  config: PortableStationConfig;
  slot: number;
  serial: string;
  values: Record<string, unknown>;
  dist: Distribution;
  logLevel: LogLevel;
  failfast: boolean;
  tagFilters: Record<string, string[]>;
  filePattern?: string;
  /** RegExp sources of the suite-name and case-name filters. */
  suitePattern?: string;
  casePattern?: string;
}

/** Main → worker. */
export type SlotRequest =
  | { type: 'start'; job: SlotJob }
  | { type: 'unit'; unit: WorkUnit | null }
  /** The operator's answer to a worker's prompt (or why there is none). */
  | { type: 'prompt-answer'; id: number; answer?: PromptAnswer; error?: SerializedError }
  | { type: 'stop' };

/** Worker → main. */
export type SlotEvent =
  | { type: 'run-start'; info: RunStartInfo }
  | { type: 'suite-start'; info: SuiteStartInfo }
  | { type: 'case-start'; info: CaseStartInfo }
  | { type: 'case-end'; result: CaseResult }
  | { type: 'suite-end'; result: SuiteResult }
  | { type: 'run-end'; result: RunResult }
  | { type: 'next' }
  /** ctx.prompt in a slot: the main process has the operator (terminal or kiso serve). */
  | { type: 'prompt'; id: number; request: PromptRequest & { kind: NonNullable<PromptRequest['kind']> }; origin: PromptOrigin }
  /** The prompt's step ended before an answer came: withdraw it. */
  | { type: 'prompt-cancel'; id: number }
  | { type: 'failed'; error: SerializedError }
  /** The last message: everything before it has arrived. */
  | { type: 'done' }
  | { type: 'log'; line: string };
