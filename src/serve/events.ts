import type { PromptKind } from '../runner/prompts.js';

/**
 * What kiso serve's page shows, and the events that change it. The page
 * gets the whole state once (`hello`) and then every change as it happens,
 * over Server-Sent Events; a page opened mid-run sees the same as one that
 * was open from the start.
 */

export type TileStatus = 'idle' | 'running' | 'passed' | 'failed' | 'error' | 'aborted' | 'empty';

export interface LogLine {
  time: number;
  level: number;
  msg: string;
}

export interface Tile {
  slot: number;
  serial: string;
  present: boolean;
  status: TileStatus;
  suite?: string;
  case?: string;
  done: number;
  total: number;
  failed: number;
  startedAt?: number;
  endedAt?: number;
  /** The run record of the slot's last run (its page: /runs/ID). */
  recordId?: string;
  /** The latest lines of the slot's log. */
  logs: LogLine[];
}

export interface OpenPrompt {
  id: number;
  slot?: number;
  serial?: string;
  suite: string;
  case?: string;
  message: string;
  kind: PromptKind;
  choices?: string[];
}

export interface UiState {
  station: { name: string; file: string; fixture: boolean };
  running: boolean;
  /** The last run's end, once there is one. */
  summary?: { outcome: string; passed: number; failed: number; error: number; skipped: number; durationMs: number };
  tiles: Tile[];
  prompts: OpenPrompt[];
}

export type UiEvent =
  | { type: 'hello'; state: UiState }
  | { type: 'run-start'; tiles: Tile[]; at: number }
  | { type: 'case-start'; slot: number; suite: string; case: string; testId: string }
  | { type: 'case-end'; slot: number; testId: string; name: string; outcome: string; message?: string; done: number; total: number; failed: number; at: number }
  | { type: 'slot-end'; slot: number; status: TileStatus; recordId?: string; at: number }
  | { type: 'run-end'; summary: NonNullable<UiState['summary']> }
  | { type: 'log'; slot: number | null; line: LogLine }
  | { type: 'prompt'; prompt: OpenPrompt }
  | { type: 'prompt-closed'; id: number; answer?: unknown; reason?: string };
