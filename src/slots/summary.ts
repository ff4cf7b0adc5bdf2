import { formatDuration } from '../results/reporters/console.js';
import type { SlotOutcome } from './run-slots.js';

const LABEL: Record<SlotOutcome['status'], string> = { passed: 'PASSED', failed: 'FAILED', error: 'ERROR', aborted: 'INTERRUPTED', empty: 'empty', 'not run': 'not run' };

/** The station summary after a fixture run: one line per slot, then the verdict. */
export function formatStationSummary(outcomes: readonly SlotOutcome[], durationMs: number): string {
  const rows = outcomes.map(({ slot, status, result, crash }) => {
    const counts = result?.counts;
    return [
      String(slot.slot),
      slot.present ? slot.serial : '-',
      LABEL[status],
      counts ? `${counts.passed}/${counts.failed}/${counts.error}/${counts.skipped}` : '',
      result ? formatDuration(result.durationMs) : '',
      crash ?? '',
    ];
  });
  const header = ['Slot', 'Serial', 'Outcome', 'P/F/E/S', 'Duration', ''];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]): string => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd();
  const tested = outcomes.filter((outcome) => outcome.status !== 'empty');
  const passed = tested.filter((outcome) => outcome.status === 'passed').length;
  const empty = outcomes.length - tested.length;
  const verdict = passed === tested.length && tested.length > 0 ? 'STATION PASSED' : 'STATION FAILED';
  return [
    '',
    'Station summary',
    line(header),
    ...rows.map(line),
    '',
    `${verdict}: ${passed} of ${tested.length} device(s) passed${empty ? `, ${empty} empty slot(s) skipped` : ''} in ${formatDuration(durationMs)}`,
    '',
  ].join('\n');
}
