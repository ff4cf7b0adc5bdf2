import { builtinProxyType, resolveType } from '../core/registry.js';
import { suggest } from '../core/suggest.js';
import type { AuxiliaryEntry, ConnectorEntry } from './types.js';
import type { KeyPath } from './yaml-source.js';

// Proxies are built-ins whose catalog entry says so; user types are never proxies.
const isProxyAux = (aux: AuxiliaryEntry): boolean => aux.resolved.proxy !== undefined;
const isProxyConnector = (connector: ConnectorEntry | undefined): boolean => connector?.resolved.proxyEndpoint === true;

type Report = (at: KeyPath, message: string, atKey?: boolean) => void;

/**
 * Checks the proxy wiring: every aux_list name is an auxiliary, each of them
 * uses a proxy connector, a proxy connector serves exactly one listed
 * auxiliary, and nothing else uses a proxy's physical connector.
 */
export function checkProxies(connectors: Map<string, ConnectorEntry>, auxiliaries: Map<string, AuxiliaryEntry>, report: Report): void {
  const listedBy = new Map<string, string>();
  for (const proxy of auxiliaries.values()) {
    if (!isProxyAux(proxy)) continue;
    const list = Array.isArray(proxy.config.aux_list) ? (proxy.config.aux_list as string[]) : [];
    list.forEach((name, index) => {
      if (typeof name !== 'string') return; // the schema says it must be a name
      const at = ['auxiliaries', proxy.name, 'config', 'aux_list', index];
      const aux = auxiliaries.get(name);
      if (!aux) {
        const hints = suggest(name, [...auxiliaries.keys()]);
        report(at, `"${name}" is not an auxiliary${hints.length ? ` (did you mean "${hints[0]}"?)` : ''}; auxiliaries: ${[...auxiliaries.keys()].join(', ')}`);
        return;
      }
      if (name === proxy.name) {
        report(at, `a proxy cannot list itself`);
        return;
      }
      const proxyConnectors = Object.values(aux.connectors).filter((connectorName) => isProxyConnector(connectors.get(connectorName)));
      if (proxyConnectors.length === 0) {
        report(at, `auxiliary "${name}" does not use a proxy connector: give it one, e.g. connectors: { com: ${name}_proxy } with ${name}_proxy of type ${proxy.resolved.proxy!.connectorType}`);
      }
      const previous = listedBy.get(name);
      if (previous) report(at, `auxiliary "${name}" is already served by proxy "${previous}"`);
      listedBy.set(name, proxy.name);
    });
    const physical = proxy.connectors.com;
    if (physical && isProxyConnector(connectors.get(physical))) {
      report(['auxiliaries', proxy.name, 'connectors', 'com'], `a proxy's own connector must be the physical one, not the proxy connector "${physical}"`);
    }
  }
  for (const aux of auxiliaries.values()) {
    for (const [role, connectorName] of Object.entries(aux.connectors)) {
      if (isProxyConnector(connectors.get(connectorName)) && !listedBy.has(aux.name) && !isProxyAux(aux)) {
        report(['auxiliaries', aux.name, 'connectors', role], `"${connectorName}" is a proxy connector, but no proxy auxiliary lists "${aux.name}" in its aux_list`);
      }
    }
  }
}

/** A connector used by several auxiliaries, and who uses it. */
export interface SharedConnector {
  connector: string;
  users: Array<{ aux: string; role: string }>;
}

/**
 * What pykiso does too: two auxiliaries naming the same physical connector
 * get a proxy inserted between them and it, so both receive every frame.
 * Rewrites the entries in place and returns one note per inserted proxy.
 */
export async function insertProxies(shared: readonly SharedConnector[], connectors: Map<string, ConnectorEntry>, auxiliaries: Map<string, AuxiliaryEntry>, baseDir: string): Promise<string[]> {
  const notes: string[] = [];
  for (const { connector: physicalName, users } of shared) {
    const physical = connectors.get(physicalName)!;
    const processing = physical.config.processing === true;
    const { name: proxyType, proxy: { connectorType } } = builtinProxyType(processing);
    const proxyName = uniqueName(`proxy_${physicalName}`, auxiliaries);
    for (const { aux, role } of users) {
      const name = uniqueName(`${physicalName}__${aux}`, connectors);
      connectors.set(name, { name, type: connectorType, resolved: await resolveType(connectorType, 'connector', baseDir), config: {} });
      auxiliaries.get(aux)!.connectors[role] = name;
    }
    auxiliaries.set(proxyName, {
      name: proxyName,
      type: proxyType,
      resolved: await resolveType(proxyType, 'auxiliary', baseDir),
      connectors: { com: physicalName },
      config: { aux_list: users.map((user) => user.aux) },
      autoStart: true,
      processing,
    });
    notes.push(`connector "${physicalName}" is used by ${users.map((user) => `"${user.aux}"`).join(' and ')}: kiso inserted ${proxyType} "${proxyName}" so that each of them receives every frame`);
  }
  return notes;
}

function uniqueName(base: string, taken: Map<string, unknown>): string {
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
  return name;
}

export function isProxyConnectorEntry(connector: ConnectorEntry | undefined): boolean {
  return isProxyConnector(connector);
}

export function isProxyAuxiliaryEntry(aux: AuxiliaryEntry): boolean {
  return isProxyAux(aux);
}
