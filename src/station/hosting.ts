import type { AuxiliaryEntry, ConnectorEntry, StationConfig } from '../config/load.js';
import { isProxyConnectorEntry } from '../config/proxies.js';
import { builtinProxyType } from '../core/registry.js';
import type { HostSpec } from '../processing/protocol.js';
import type { LogLevel } from '../core/logging.js';

/**
 * Where an auxiliary runs. `local`: in the main process. `remote`: in a host
 * process of its own, with its connectors (processing: true on one of them,
 * or on the auxiliary). `proxy`: a proxy whose proxy and physical connector
 * run in a host process while the auxiliaries it serves stay here
 * (MpProxyAuxiliary, or a ProxyAuxiliary whose physical connector says
 * processing: true).
 */
export type Hosting = 'local' | 'remote' | 'proxy';

export function hostingOf(entry: AuxiliaryEntry, connectors: ReadonlyMap<string, ConnectorEntry>): Hosting {
  const proxy = entry.resolved.proxy;
  if (proxy?.hosted) return 'proxy';
  // A proxy connector's own flag is pykiso's way of saying "MP proxy"; it never moves its auxiliary.
  const physical = Object.values(entry.connectors)
    .map((name) => connectors.get(name))
    .filter((connector): connector is ConnectorEntry => connector !== undefined && !isProxyConnectorEntry(connector));
  const wantsProcess = entry.processing || physical.some((connector) => connector.config.processing === true);
  if (!wantsProcess) return 'local';
  return proxy ? 'proxy' : 'remote';
}

export function hostSpecOf(entry: AuxiliaryEntry, hosting: Exclude<Hosting, 'local'>, config: StationConfig, logLevel: LogLevel): HostSpec {
  const connectors = Object.values(entry.connectors).map((name) => {
    const connector = config.connectors.get(name)!;
    return { name, type: connector.type, config: connector.config };
  });
  return {
    auxiliary: { name: entry.name, type: hosting === 'proxy' ? builtinProxyType(false).name : entry.type, config: entry.config, connectors: { ...entry.connectors } },
    connectors,
    baseDir: config.baseDir,
    logLevel,
    proxy: hosting === 'proxy',
  };
}
