import { createInterface } from 'node:readline/promises';
import { checkAnswer, type Prompter } from '../runner/prompts.js';

/**
 * Operator prompts at the terminal: one question at a time (slots that ask
 * together wait their turn), asked again until the answer fits its kind.
 */
export class TtyPrompter implements Prompter {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly input: NodeJS.ReadableStream = process.stdin,
    private readonly output: NodeJS.WritableStream = process.stderr,
  ) {}

  ask(...[request, origin, signal]: Parameters<Prompter['ask']>): ReturnType<Prompter['ask']> {
    const turn = this.queue.then(async () => {
      const where = [origin.slot !== undefined ? `slot ${origin.slot}${origin.serial ? ` ${origin.serial}` : ''}` : undefined, origin.case ?? origin.suite].filter(Boolean).join(' · ');
      const hint = request.kind === 'confirm' ? ' [y/n]' : request.kind === 'choice' ? ` [${request.choices!.map((c, i) => `${i + 1}=${c}`).join(', ')}]` : request.kind === 'number' ? ' [number]' : '';
      const rl = createInterface({ input: this.input, output: this.output, terminal: true });
      try {
        for (;;) {
          const raw = await rl.question(`\n? ${where}: ${request.message}${hint} `, { signal });
          try {
            return checkAnswer(request, raw);
          } catch (error) {
            this.output.write(`  ${(error as Error).message}\n`);
          }
        }
      } finally {
        rl.close();
      }
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }
}
