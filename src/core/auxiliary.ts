import type { Logger } from './logging.js';
import type { Connector } from './connector.js';
import { KisoError, describeError } from './errors.js';
import type { Message } from './message.js';
import { ReceiveQueue } from './receive-queue.js';

/**
 * The auxiliary contract, with pykiso's verbs.
 *
 * Lifecycle: idle → (createInstance) → running ⇄ (suspend/resume) suspended
 *            running|suspended → (stop or deleteInstance) → stopped
 *            stopped → (createInstance) → running again.
 *
 * - createInstance(): opens the auxiliary's connectors, then runs the type's
 *   `onCreate()`. The runner calls it before the first case that uses the
 *   auxiliary, or at run start when `auto_start` is true.
 * - deleteInstance(): runs `onDelete()` and closes the connectors.
 * - lockIt(timeoutMs) / unlockIt(): exclusive use; a second locker waits and
 *   gets KISO_AUX_LOCK_TIMEOUT if the lock is not released in time.
 * - runCommand(command, data, { blocking, timeoutMs }): runs one of the type's
 *   commands; its outcome is queued as a report for waitAndGetReport().
 * - abortCommand(): aborts the running command (its report says so).
 * - waitAndGetReport({ timeoutMs }): the next report, or undefined.
 * - stop(), suspend(), resume(): as their names say. Any command or send to an
 *   auxiliary that is not running is a KISO_AUX_NOT_RUNNING error, never a
 *   silent drop.
 *
 * Received messages arrive in `onMessage(message, role)`; types that let the
 * test read them keep them in a bounded `ReceiveQueue`.
 */
export type AuxiliaryState = 'idle' | 'running' | 'suspended' | 'stopped';

export interface AuxiliaryContext {
  /** The auxiliary's name in the YAML. */
  name: string;
  log: Logger;
  /** Connectors by role, as the YAML `connectors:` map names them. */
  connectors: Record<string, Connector<any>>;
  /** Folder of the YAML file. */
  baseDir: string;
}

/**
 * What the station and the runner need of an auxiliary, whether it runs here
 * (an Auxiliary) or in a process of its own (a RemoteAuxiliary stand-in).
 */
export interface AuxiliaryHandle {
  readonly name: string;
  readonly state: AuxiliaryState;
  readonly isRunning: boolean;
  readonly fault: Error | undefined;
  createInstance(): Promise<void>;
  deleteInstance(): Promise<void>;
  bindStation?(station: StationView): void;
}

/** What an auxiliary may look up in the station once everything is built (proxies find their attached connectors). */
export interface StationView {
  /** The connectors of auxiliary `name`, by role; undefined for an unknown name. */
  connectorsOf(name: string): Record<string, Connector<any>> | undefined;
}

export interface CommandReport {
  command: string;
  ok: boolean;
  /** What the command returned. */
  value?: unknown;
  /** Why it failed, when `ok` is false. */
  error?: string;
  aborted?: boolean;
}

export interface RunCommandOptions {
  /** Wait for the command to finish (default true). */
  blocking?: boolean;
  /** Abort the command after this long. */
  timeoutMs?: number;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 5_000;
export const DEFAULT_REPORT_QUEUE_SIZE = 1_000;

export abstract class Auxiliary<Config extends object = Record<string, unknown>> implements AuxiliaryHandle {
  /** JSON schema of `config`; validated before anything opens. */
  static configSchema?: object;
  /** Connector roles the type needs, e.g. ['com']; checked against the YAML. */
  static connectorRoles?: readonly string[];

  readonly name: string;
  readonly config: Config;
  protected readonly log: Logger;
  protected readonly connectors: Record<string, Connector<any>>;
  protected readonly baseDir: string;

  private currentState: AuxiliaryState = 'idle';
  private locked = false;
  private lockWaiters: Array<() => void> = [];
  private running?: { command: string; controller: AbortController; done: Promise<void> };
  private reports = new ReceiveQueue<CommandReport>(DEFAULT_REPORT_QUEUE_SIZE);
  private detachers: Array<() => void> = [];
  private connectorFault: Error | undefined;

  constructor(config: Config, context: AuxiliaryContext) {
    this.name = context.name;
    this.config = config;
    this.log = context.log;
    this.connectors = context.connectors;
    this.baseDir = context.baseDir;
  }

  get state(): AuxiliaryState {
    return this.currentState;
  }

  get isRunning(): boolean {
    return this.currentState === 'running';
  }

  /** Set when one of the connectors failed mid-run (device unplugged, peer gone); cleared by a new start. */
  get fault(): Error | undefined {
    return this.connectorFault;
  }

  // ---- lifecycle -------------------------------------------------------

  async createInstance(): Promise<void> {
    if (this.currentState === 'running') return;
    if (this.currentState === 'suspended') return this.resume();
    await this.openConnectors();
    try {
      await this.onCreate();
    } catch (error) {
      await this.closeConnectors();
      throw error;
    }
    this.currentState = 'running';
    this.log.debug({ auxiliary: this.name }, 'auxiliary created');
  }

  async deleteInstance(): Promise<void> {
    if (this.currentState === 'idle' || this.currentState === 'stopped') {
      this.currentState = 'stopped';
      return;
    }
    const wasRunning = this.currentState === 'running';
    this.currentState = 'stopped';
    await this.abortCommand();
    try {
      if (wasRunning) await this.onDelete();
    } finally {
      await this.closeConnectors();
      this.reports.cancelWaiters();
      this.log.debug({ auxiliary: this.name }, 'auxiliary deleted');
    }
  }

  async stop(): Promise<void> {
    await this.deleteInstance();
  }

  async suspend(): Promise<void> {
    this.ensureRunning('suspend');
    await this.abortCommand();
    await this.onDelete();
    await this.closeConnectors();
    this.currentState = 'suspended';
  }

  async resume(): Promise<void> {
    if (this.currentState === 'running') return;
    if (this.currentState !== 'suspended') {
      throw new KisoError('KISO_AUX_NOT_RUNNING', `auxiliary "${this.name}" is ${this.currentState}: only a suspended auxiliary can resume`);
    }
    await this.openConnectors();
    await this.onCreate();
    this.currentState = 'running';
  }

  // ---- locking ---------------------------------------------------------

  async lockIt(timeoutMs = DEFAULT_LOCK_TIMEOUT_MS): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.lockWaiters = this.lockWaiters.filter((w) => w !== grant);
        reject(new KisoError('KISO_AUX_LOCK_TIMEOUT', `auxiliary "${this.name}" is locked by another user; gave up after ${timeoutMs} ms`));
      }, timeoutMs);
      this.lockWaiters.push(grant);
    });
  }

  unlockIt(): void {
    const next = this.lockWaiters.shift();
    if (next) next(); // ownership passes straight to the next waiter
    else this.locked = false;
  }

  get isLocked(): boolean {
    return this.locked;
  }

  // ---- commands --------------------------------------------------------

  async runCommand(command: string, data?: unknown, options: RunCommandOptions = {}): Promise<CommandReport | undefined> {
    this.ensureRunning(`runCommand("${command}")`);
    if (this.running) {
      throw new KisoError('KISO_AUX_COMMAND', `auxiliary "${this.name}" is still running command "${this.running.command}"`);
    }
    const controller = new AbortController();
    const timer = options.timeoutMs !== undefined ? setTimeout(() => controller.abort(new KisoError('KISO_TIMEOUT', `command "${command}" timed out after ${options.timeoutMs} ms`)), options.timeoutMs) : undefined;
    let report!: CommandReport;
    const done = (async () => {
      try {
        const value = await this.executeCommand(command, data, controller.signal);
        report = controller.signal.aborted ? { command, ok: false, aborted: true, error: describeError(controller.signal.reason) } : { command, ok: true, value };
      } catch (error) {
        report = { command, ok: false, error: describeError(error), aborted: controller.signal.aborted };
      } finally {
        if (timer) clearTimeout(timer);
        this.running = undefined;
        this.reports.push(report);
      }
    })();
    this.running = { command, controller, done };
    if (options.blocking === false) return undefined;
    await done;
    return report;
  }

  async abortCommand(): Promise<void> {
    const running = this.running;
    if (!running) return;
    running.controller.abort(new KisoError('KISO_AUX_COMMAND', `command "${running.command}" aborted`));
    await running.done;
  }

  async waitAndGetReport(options: { timeoutMs?: number } = {}): Promise<CommandReport | undefined> {
    return this.reports.shift(options.timeoutMs ?? 0);
  }

  // ---- for types -------------------------------------------------------

  /** Called once, after the whole station is built and before anything starts. */
  bindStation?(station: StationView): void;

  /** Called once the connectors are open. */
  protected async onCreate(): Promise<void> {}
  /** Called before the connectors close. */
  protected async onDelete(): Promise<void> {}
  /** A message arrived on the connector playing `role`. */
  protected onMessage(_message: Message, _role: string): void {}
  /** A connector failed mid-run; every later verb fails with this error until the auxiliary restarts. */
  protected onConnectorFault(_error: Error, _role: string): void {}
  /** Runs one command; types override this. */
  protected async executeCommand(command: string, _data: unknown, _signal: AbortSignal): Promise<unknown> {
    throw new KisoError('KISO_AUX_COMMAND', `auxiliary "${this.name}" has no command "${command}"`);
  }

  /** Throws the clear error for a verb used while not running. */
  protected ensureRunning(verb: string): void {
    if (this.currentState === 'running') {
      if (this.connectorFault) throw this.connectorFault;
      return;
    }
    const hint = this.currentState === 'suspended' ? 'resume() it first' : this.currentState === 'idle' ? 'it was never started (declare it in the case\'s auxiliaries, or call createInstance())' : 'it was stopped';
    throw new KisoError('KISO_AUX_NOT_RUNNING', `auxiliary "${this.name}" is ${this.currentState}: cannot ${verb}; ${hint}`);
  }

  /** The connector playing `role`, or a clear error. */
  protected connector(role: string): Connector<any> {
    const connector = this.connectors[role];
    if (!connector) {
      throw new KisoError('KISO_AUX_COMMAND', `auxiliary "${this.name}" has no connector for role "${role}" (it has: ${Object.keys(this.connectors).join(', ') || 'none'})`);
    }
    return connector;
  }

  private async openConnectors(): Promise<void> {
    const opened: Connector<any>[] = [];
    try {
      this.connectorFault = undefined;
      for (const [role, connector] of Object.entries(this.connectors)) {
        this.detachers.push(connector.attach((message) => this.onMessage(message, role)));
        this.detachers.push(connector.onError((error) => this.handleConnectorFault(error, role, connector.name)));
        await connector.open();
        opened.push(connector);
      }
    } catch (error) {
      for (const connector of opened) await connector.close().catch(() => undefined);
      this.detachAll();
      throw error;
    }
  }

  private handleConnectorFault(error: Error, role: string, connectorName: string): void {
    if (this.connectorFault) return;
    this.connectorFault = new KisoError('KISO_CONNECTOR_CLOSED', `auxiliary "${this.name}": connector "${connectorName}" failed: ${error.message}`, { cause: error });
    this.log.error({ auxiliary: this.name, connector: connectorName }, this.connectorFault.message);
    this.onConnectorFault(this.connectorFault, role);
  }

  private async closeConnectors(): Promise<void> {
    this.detachAll();
    for (const connector of Object.values(this.connectors)) {
      try {
        await connector.close();
      } catch (error) {
        this.log.warn({ auxiliary: this.name, connector: connector.name, err: error }, 'connector failed to close');
      }
    }
  }

  private detachAll(): void {
    for (const detach of this.detachers) detach();
    this.detachers = [];
  }
}

/** What the registry needs of an auxiliary class. */
export interface AuxiliaryClass {
  new (config: any, context: AuxiliaryContext): Auxiliary<any>;
  configSchema?: object;
  connectorRoles?: readonly string[];
}
