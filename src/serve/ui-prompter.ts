import { checkAnswer, type PromptAnswer, type Prompter } from '../runner/prompts.js';
import type { UiHub } from './hub.js';

interface Pending {
  request: Parameters<Prompter['ask']>[0];
  resolve(answer: PromptAnswer): void;
}

/** Operator prompts on the page: each shows on its slot's tile until answered, timed out or withdrawn. */
export class UiPrompter implements Prompter {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(private readonly hub: UiHub) {}

  ask(...[request, origin, signal]: Parameters<Prompter['ask']>): Promise<PromptAnswer> {
    const id = ++this.nextId;
    return new Promise<PromptAnswer>((resolve, reject) => {
      const close = (reason: string): void => {
        if (!this.pending.delete(id)) return;
        this.hub.emit({ type: 'prompt-closed', id, reason });
        reject(new Error(reason));
      };
      signal.addEventListener('abort', () => close('withdrawn: the step ended or the run was aborted'), { once: true });
      this.pending.set(id, { request, resolve });
      this.hub.emit({
        type: 'prompt',
        prompt: { id, slot: origin.slot ?? (this.hub.state.station.fixture ? undefined : 1), serial: origin.serial, suite: origin.suite, case: origin.case, message: request.message, kind: request.kind, ...(request.choices ? { choices: [...request.choices] } : {}) },
      });
    });
  }

  /** An answer from the page; an answer that does not fit the kind is refused with why, and the prompt stays open. */
  answer(id: number, raw: unknown): { ok: true } | { ok: false; status: number; error: string } {
    const pending = this.pending.get(id);
    if (!pending) return { ok: false, status: 404, error: `no open prompt ${id}` };
    let answer: PromptAnswer;
    try {
      answer = checkAnswer(pending.request, raw);
    } catch (error) {
      return { ok: false, status: 400, error: (error as Error).message };
    }
    this.pending.delete(id);
    this.hub.emit({ type: 'prompt-closed', id, answer });
    pending.resolve(answer);
    return { ok: true };
  }
}
