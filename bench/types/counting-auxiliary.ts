import { Auxiliary } from '../../src/core/auxiliary.js';
import type { Message } from '../../src/core/message.js';

/** Counts the generator's frames (id 0x100) it is handed, and checks they arrive in order. */
export class CountingAuxiliary extends Auxiliary {
  static override connectorRoles = ['com'] as const;

  count = 0;
  outOfOrder = 0;
  private target = Number.POSITIVE_INFINITY;
  private reached?: () => void;

  /** Resolves when `frames` generator frames have arrived. */
  expect(frames: number): Promise<void> {
    this.count = 0;
    this.outOfOrder = 0;
    this.target = frames;
    return new Promise((resolve) => (this.reached = resolve));
  }

  send(text: string): Promise<void> {
    return this.connector('com').send(text);
  }

  protected override onMessage(message: Message): void {
    if (message.can?.id !== 0x100) return;
    const index = message.data[0]! | (message.data[1]! << 8) | (message.data[2]! << 16);
    if (index !== (this.count & 0xffffff)) this.outOfOrder++;
    if (++this.count === this.target) this.reached?.();
  }
}
