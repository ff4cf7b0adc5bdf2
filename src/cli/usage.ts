/** Exit codes: the contract scripts and CI rely on. */
export const EXIT = { passed: 0, failed: 1, usage: 2 } as const;

/** A wrong command line: printed as `kiso: ...` with a hint, exit 2. */
export class UsageError extends Error {}

/** A command has already said what went wrong and asks for this exit code. */
export class ExitRequest extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** commander's collector for a repeatable option. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function positiveInteger(value: string, option: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new UsageError(`${option} takes a whole number, got "${value}"`);
  return number;
}
