import { KisoError } from '../core/errors.js';

/**
 * Operator prompts: `await ctx.prompt({ message, kind })` asks the person at
 * the station ("Is the LED green?", "Connect the probe") and waits for the
 * answer. Who answers depends on how kiso runs: the terminal (a TTY), the
 * tile of the slot under `kiso serve`, or nobody (CI): then the prompt is an
 * ERROR naming it, never a hang.
 */

export type PromptKind = 'confirm' | 'text' | 'number' | 'choice';
export type PromptAnswer = boolean | string | number;

export interface PromptRequest {
  message: string;
  /** confirm (yes/no, the default), text, number, or choice (one of `choices`). */
  kind?: PromptKind;
  choices?: readonly string[];
  /** Give up (ERROR) after this long; default: wait as long as the step may. */
  timeoutMs?: number;
}

/** Where a prompt comes from, for the operator to know which unit it is about. */
export interface PromptOrigin {
  suite: string;
  case?: string;
  slot?: number;
  serial?: string;
}

export interface Prompter {
  /** Resolves with the operator's answer (already checked against the kind); rejects when nobody can answer. */
  ask(request: Required<Pick<PromptRequest, 'message' | 'kind'>> & PromptRequest, origin: PromptOrigin, signal: AbortSignal): Promise<PromptAnswer>;
}

/** What the run record keeps of a prompt. */
export interface PromptResult {
  message: string;
  kind: PromptKind;
  choices?: string[];
  answer?: PromptAnswer;
  /** Why there is no answer (no operator, timeout, interrupted). */
  error?: string;
  /** Epoch ms. */
  askedAt: number;
  answeredAfterMs?: number;
}

/** No operator (CI, no TTY): every prompt is an error that says so. */
export const NO_OPERATOR: Prompter = {
  async ask(request) {
    throw new KisoError('KISO_NO_OPERATOR', `prompt "${request.message}" needs an operator and there is none: run kiso at a terminal, or under kiso serve`);
  },
};

/** Checks an answer against the prompt's kind; throws a message for the operator when it does not fit. */
export function checkAnswer(request: PromptRequest, raw: unknown): PromptAnswer {
  const kind = request.kind ?? 'confirm';
  if (kind === 'confirm') {
    if (typeof raw === 'boolean') return raw;
    const text = String(raw).trim().toLowerCase();
    if (['y', 'yes', 'true', 'ok', '1'].includes(text)) return true;
    if (['n', 'no', 'false', '0'].includes(text)) return false;
    throw new Error('answer yes or no');
  }
  if (kind === 'number') {
    const value = typeof raw === 'number' ? raw : Number(String(raw).trim());
    if (String(raw).trim() === '' || !Number.isFinite(value)) throw new Error('answer a number');
    return value;
  }
  if (kind === 'choice') {
    const choices = request.choices ?? [];
    const text = String(raw).trim();
    const byIndex = /^\d+$/.test(text) ? choices[Number(text) - 1] : undefined;
    const chosen = choices.find((choice) => choice === text) ?? byIndex;
    if (chosen === undefined) throw new Error(`answer one of: ${choices.join(', ')}`);
    return chosen;
  }
  return String(raw);
}

/** A prompt request as the runner asks it: kind defaulted, choices checked. */
export function normalizePrompt(request: PromptRequest | string): Required<Pick<PromptRequest, 'message' | 'kind'>> & PromptRequest {
  const full = typeof request === 'string' ? { message: request } : request;
  if (typeof full.message !== 'string' || !full.message) throw new KisoError('KISO_USAGE', 'ctx.prompt needs a message');
  const kind = full.kind ?? 'confirm';
  if (!['confirm', 'text', 'number', 'choice'].includes(kind)) throw new KisoError('KISO_USAGE', `ctx.prompt kind "${kind}" is none of confirm, text, number, choice`);
  if (kind === 'choice' && !full.choices?.length) throw new KisoError('KISO_USAGE', `ctx.prompt "${full.message}": kind choice needs choices`);
  return { ...full, kind };
}
