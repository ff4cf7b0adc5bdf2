import type { LogLine, OpenPrompt, Tile, UiEvent, UiState } from './events.js';

/** Lines of log a tile keeps for the page; older ones are in the run's log and record. */
const TILE_LOG_LINES = 200;

type Listener = (event: UiEvent) => void;

/**
 * The page's state and its listeners: every change goes through `emit`,
 * which updates the state first, so `hello` to a late page equals the sum of
 * the events an early page saw.
 */
export class UiHub {
  private readonly listeners = new Set<Listener>();

  constructor(readonly state: UiState) {}

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    listener({ type: 'hello', state: this.state });
    return () => this.listeners.delete(listener);
  }

  tile(slot: number): Tile | undefined {
    return this.state.tiles.find((tile) => tile.slot === slot);
  }

  emit(event: UiEvent): void {
    this.apply(event);
    for (const listener of this.listeners) listener(event);
  }

  private apply(event: UiEvent): void {
    const state = this.state;
    switch (event.type) {
      case 'run-start':
        state.running = true;
        state.summary = undefined;
        state.tiles = event.tiles;
        return;
      case 'case-start': {
        const tile = this.tile(event.slot);
        if (tile) Object.assign(tile, { suite: event.suite, case: event.case });
        return;
      }
      case 'case-end': {
        const tile = this.tile(event.slot);
        if (tile) Object.assign(tile, { done: event.done, total: event.total, failed: event.failed });
        return;
      }
      case 'slot-end': {
        const tile = this.tile(event.slot);
        if (tile) Object.assign(tile, { status: event.status, recordId: event.recordId, endedAt: event.at, case: undefined });
        return;
      }
      case 'run-end':
        state.running = false;
        state.summary = event.summary;
        return;
      case 'log': {
        const tile = event.slot === null ? undefined : this.tile(event.slot);
        if (!tile) return;
        tile.logs.push(event.line);
        if (tile.logs.length > TILE_LOG_LINES) tile.logs.splice(0, tile.logs.length - TILE_LOG_LINES);
        return;
      }
      case 'prompt':
        state.prompts.push(event.prompt);
        return;
      case 'prompt-closed':
        state.prompts = state.prompts.filter((prompt: OpenPrompt) => prompt.id !== event.id);
        return;
      case 'hello':
        return;
    }
  }
}

export function logLineOf(raw: string): { slot: number | null; line: LogLine } | undefined {
  try {
    const entry = JSON.parse(raw) as { level?: number; time?: number; msg?: unknown; slot?: unknown };
    return { slot: typeof entry.slot === 'number' ? entry.slot : null, line: { time: entry.time ?? Date.now(), level: entry.level ?? 30, msg: String(entry.msg ?? '') } };
  } catch {
    return undefined;
  }
}
