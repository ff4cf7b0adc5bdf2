import type { AuxiliaryClass, AuxiliaryHandle, StationView } from '../core/auxiliary.js';
import type { StationConfig } from '../config/load.js';
import type { Connector, ConnectorClass } from '../core/connector.js';
import { KisoError, describeError } from '../core/errors.js';
import { ConfigError } from '../config/issues.js';
import { builtinProxyType, resolveType, type HostedProxyClass } from '../core/registry.js';
import { hostingOf, hostSpecOf } from './hosting.js';
import type { LogLevel, Logger } from '../core/logging.js';

/**
 * The live objects of a station: connectors and auxiliaries built from a
 * validated config. Building opens nothing; auxiliaries start on demand
 * (or all `auto_start` ones at once) and `stopAll()` closes everything that
 * was opened, in reverse start order, whatever failed before.
 */
export class StationRuntime implements StationView {
  private readonly started: string[] = [];
  /** Why an auxiliary could not start, so later use names the real cause. */
  private readonly startFailures = new Map<string, Error>();

  private constructor(
    readonly config: StationConfig,
    readonly connectors: Map<string, Connector<any>>,
    readonly auxiliaries: Map<string, AuxiliaryHandle>,
    private readonly log: Logger,
  ) {}

  static async build(config: StationConfig, log: Logger): Promise<StationRuntime> {
    const hosting = new Map([...config.auxiliaries.values()].map((entry) => [entry.name, hostingOf(entry, config.connectors)]));
    // Connectors of auxiliaries that run in a host process are built there, not here.
    const hostedConnectors = new Set([...config.auxiliaries.values()].filter((entry) => hosting.get(entry.name) !== 'local').flatMap((entry) => Object.values(entry.connectors)));
    const connectors = new Map<string, Connector<any>>();
    for (const entry of config.connectors.values()) {
      if (hostedConnectors.has(entry.name)) continue;
      const cls = (await entry.resolved.load()) as ConnectorClass;
      connectors.set(entry.name, atConfig(config, 'connectors', entry.name, entry.config, () => new cls(entry.config, { name: entry.name, log: log.child({ connector: entry.name }), baseDir: config.baseDir })));
    }
    const auxiliaries = new Map<string, AuxiliaryHandle>();
    for (const entry of config.auxiliaries.values()) {
      const where = hosting.get(entry.name)!;
      if (where !== 'local') {
        const spec = hostSpecOf(entry, where, config, log.level as LogLevel);
        const auxLog = log.child({ auxiliary: entry.name });
        // A hosted proxy's stand-in is the catalog's hosted proxy type (MpProxyAuxiliary), whichever proxy type the YAML names.
        const standIn = where === 'proxy' ? await hostedProxyClass(config.baseDir) : (await import('../processing/remote-auxiliary.js')).RemoteAuxiliary;
        const remote = new standIn(spec as never, auxLog);
        auxiliaries.set(entry.name, remote.asTyped());
        continue;
      }
      const cls = (await entry.resolved.load()) as AuxiliaryClass;
      const roles: Record<string, Connector<any>> = {};
      for (const [role, connectorName] of Object.entries(entry.connectors)) roles[role] = connectors.get(connectorName)!;
      auxiliaries.set(entry.name, atConfig(config, 'auxiliaries', entry.name, entry.config, () => new cls(entry.config, { name: entry.name, log: log.child({ auxiliary: entry.name }), connectors: roles, baseDir: config.baseDir })));
    }
    const runtime = new StationRuntime(config, connectors, auxiliaries, log);
    for (const aux of auxiliaries.values()) aux.bindStation?.(runtime);
    return runtime;
  }

  connectorsOf(name: string): Record<string, Connector<any>> | undefined {
    const entry = this.config.auxiliaries.get(name);
    if (!entry) return undefined;
    return Object.fromEntries(Object.entries(entry.connectors).flatMap(([role, connectorName]) => {
      const connector = this.connectors.get(connectorName);
      return connector ? [[role, connector]] : [];
    }));
  }

  auxiliary(name: string): AuxiliaryHandle {
    const aux = this.auxiliaries.get(name);
    if (!aux) {
      throw new KisoError('KISO_AUX_NOT_IN_CASE', `no auxiliary "${name}" in ${this.config.file} (auxiliaries: ${[...this.auxiliaries.keys()].join(', ') || 'none'})`);
    }
    const failure = this.startFailures.get(name);
    if (failure && aux.state !== 'running') throw failure;
    return aux;
  }

  /**
   * The auxiliaries `name` depends on: the proxy that serves it (its
   * aux_list names it), and what that proxy depends on.
   */
  dependenciesOf(name: string, seen = new Set<string>([name])): string[] {
    const found: string[] = [];
    for (const entry of this.config.auxiliaries.values()) {
      if (!entry.resolved.proxy || seen.has(entry.name)) continue;
      const list = Array.isArray(entry.config.aux_list) ? (entry.config.aux_list as unknown[]) : [];
      if (!list.includes(name)) continue;
      seen.add(entry.name);
      found.push(...this.dependenciesOf(entry.name, seen), entry.name);
    }
    return found;
  }

  /**
   * Starts the named auxiliaries that are not running yet, and restarts a
   * faulted one. What an auxiliary depends on comes first: a proxy whose
   * process died is restarted when a case names only the auxiliaries it
   * serves, never left dead under them.
   */
  async start(names: Iterable<string>): Promise<void> {
    for (const name of names) {
      for (const dependency of this.dependenciesOf(name)) {
        // Restarted in place: it stays stopped after the auxiliaries it serves, as when their connectors started it.
        if (this.auxiliaries.get(dependency)?.fault) await this.startOne(dependency, false);
      }
      await this.startOne(name, true);
    }
  }

  private async startOne(name: string, track: boolean): Promise<void> {
    const aux = this.auxiliaries.get(name) ?? this.auxiliary(name);
    if (aux.state === 'running' && !aux.fault) return;
    try {
      if (aux.fault) {
        // A connector died in an earlier case: try a fresh start, the device may be back.
        this.log.warn({ auxiliary: name }, `restarting auxiliary ${name} after: ${aux.fault.message}`);
        await aux.deleteInstance();
      }
      await aux.createInstance();
      this.startFailures.delete(name);
    } catch (error) {
      const failure = new KisoError('KISO_CONNECTOR_OPEN', `auxiliary "${name}" could not start: ${describeError(error)}`, { cause: error });
      this.startFailures.set(name, failure);
      throw failure;
    }
    if (track && !this.started.includes(name)) this.started.push(name);
    this.log.info({ auxiliary: name }, `auxiliary ${name} started`);
  }

  /** Starts every `auto_start` auxiliary; one that fails is logged and its cases error when they use it. */
  async startAutoStart(): Promise<void> {
    for (const name of this.autoStartNames()) {
      try {
        await this.start([name]);
      } catch (error) {
        this.log.error({ auxiliary: name, err: error }, describeError(error));
      }
    }
  }

  /** Names of the auxiliaries with `auto_start: true`, in YAML order. */
  autoStartNames(): string[] {
    return [...this.config.auxiliaries.values()].filter((entry) => entry.autoStart).map((entry) => entry.name);
  }

  /**
   * Stops every auxiliary that runs: those the runner started, last first,
   * then any started on their behalf (a proxy its connectors opened).
   * Failures are logged, not thrown.
   */
  async stopAll(): Promise<void> {
    const implicit = [...this.auxiliaries.keys()].filter((name) => !this.started.includes(name)).reverse();
    for (const name of [...[...this.started].reverse(), ...implicit]) {
      const aux = this.auxiliaries.get(name);
      if (!aux || aux.state === 'idle' || aux.state === 'stopped') continue;
      try {
        await aux.deleteInstance();
      } catch (error) {
        this.log.warn({ auxiliary: name, err: error }, `auxiliary ${name} failed to stop cleanly`);
      }
    }
    this.started.length = 0;
    for (const connector of this.connectors.values()) {
      await connector.close().catch((error: unknown) => this.log.warn({ connector: connector.name, err: error }, 'connector failed to close'));
    }
  }
}

/**
 * Builds one connector or auxiliary; a config problem its constructor finds
 * (a DBC file that does not exist) becomes a config error at the YAML
 * position of the key it is about (the key whose value the message names),
 * else of the entry's config.
 */
function atConfig<T>(config: StationConfig, section: 'connectors' | 'auxiliaries', name: string, values: Record<string, unknown>, build: () => T): T {
  try {
    return build();
  } catch (error) {
    // By its code: a user type may throw the KisoError of another copy of kiso (its own 'kiso' import).
    if (!(error instanceof Error) || (error as { code?: unknown }).code !== 'KISO_CONFIG_INVALID' || error instanceof ConfigError) throw error;
    const key = Object.entries(values).find(([, value]) => typeof value === 'string' && value.length >= 3 && error.message.includes(value))?.[0];
    const at = key ? [section, name, 'config', key] : [section, name, 'config'];
    throw new ConfigError([{ position: config.sources.locate(at), path: at, message: error.message }]);
  }
}

async function hostedProxyClass(baseDir: string): Promise<HostedProxyClass> {
  const resolved = await resolveType(builtinProxyType(true).name, 'auxiliary', baseDir);
  return (await resolved.load()) as unknown as HostedProxyClass;
}
