import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/**
 * Starts test/helpers/scpi_instrument_sim.py, a SCPI power supply, on TCP
 * loopback or on a serial port, and reads its state through its control
 * channel (JSON lines on stdin/stdout). Waits are bounded only to turn a
 * hang into a failure.
 */
export const SCPI_SIM = fileURLToPath(new URL('./scpi_instrument_sim.py', import.meta.url));
const PYTHON = '/usr/bin/python3';

/** Why the simulator cannot run here (serial: pyserial too), or undefined. */
export function scpiSimMissing(serial = false): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} is not installed`;
  if (serial) {
    const probe = spawnSync(PYTHON, ['-c', 'import serial'], { stdio: 'ignore' });
    if (probe.status !== 0) return `${PYTHON} cannot import serial (Debian package python3-serial)`;
  }
  return undefined;
}

export interface SupplyChannel {
  voltage: number;
  current: number;
  power: number;
  voltage_limit_low: number;
  voltage_limit_high: number;
  current_limit_low: number;
  current_limit_high: number;
  power_limit_high: number;
  output: boolean;
}

export interface SupplyState {
  dialect: string;
  remote: boolean;
  selected: number;
  channels: SupplyChannel[];
  errors: string[];
}

type Event = Record<string, unknown>;

export class ScpiSimulator {
  private readonly events: Event[] = [];
  private stderr = '';
  /** The TCP port it listens on (TCP mode). */
  port = 0;

  private constructor(private readonly child: ChildProcess) {}

  /** `args`: `['--tcp', '0']` or `['--serial', path]`, plus `--dialect ea|rs`, `--channels N`. */
  static async start(args: string[]): Promise<ScpiSimulator> {
    const child = spawn(PYTHON, ['-u', SCPI_SIM, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const sim = new ScpiSimulator(child);
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (sim.stderr += text));
    createInterface({ input: child.stdout! }).on('line', (line) => sim.events.push(JSON.parse(line) as Event));
    try {
      const ready = await sim.next((event) => 'ready' in event || 'error' in event, 'the simulator to start');
      if ('error' in ready) throw new Error(`SCPI simulator failed to start: ${String(ready.error)}`);
      sim.port = typeof ready.port === 'number' ? ready.port : 0;
    } catch (error) {
      await sim.stop();
      throw error;
    }
    return sim;
  }

  /** What the supply is set to right now. */
  async state(): Promise<SupplyState> {
    this.child.stdin!.write(`${JSON.stringify({ op: 'state' })}\n`);
    const answer = await this.next((event) => event.ok === 'state', 'the simulator state');
    return answer.state as SupplyState;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      if (this.child.stdin!.writable) this.child.stdin!.end(`${JSON.stringify({ op: 'exit' })}\n`);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      clearTimeout(timer);
    }
    this.child.stdout!.destroy();
    this.child.stderr!.destroy();
  }

  private async next(match: (event: Event) => boolean, what: string, timeoutMs = 20_000): Promise<Event> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.findIndex(match);
      if (found >= 0) return this.events.splice(found, 1)[0]!;
      if (this.child.exitCode !== null) throw new Error(`SCPI simulator exited (${this.child.exitCode}) while waiting for ${what}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (simulator stderr: ${this.stderr.trim() || 'empty'})`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
