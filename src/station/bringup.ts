import { parseCansend, formatCandumpLog, formatMessageLine, isCanFrame, type CanFrame } from '../can/frame.js';
import type { StationConfig } from '../config/load.js';
import type { Connector, ConnectorClass } from '../core/connector.js';
import { KisoError } from '../core/errors.js';
import type { Logger } from '../core/logging.js';
import type { Message } from '../core/message.js';
import { suggest } from '../core/suggest.js';
import { isProxyConnectorEntry } from '../config/proxies.js';

/**
 * Bench bring-up without suites: `kiso dump` and `kiso send` open one
 * connector of a station, and only that one, to check the wiring.
 */
export async function openConnector(config: StationConfig, name: string, log: Logger): Promise<Connector<any>> {
  const entry = config.connectors.get(name);
  if (!entry) {
    const names = [...config.connectors.keys()].filter((candidate) => !isProxyConnectorEntry(config.connectors.get(candidate)));
    const hints = suggest(name, names);
    throw new KisoError('KISO_USAGE', `no connector "${name}" in ${config.file}${hints.length ? ` (did you mean "${hints[0]}"?)` : ''}; connectors: ${names.join(', ')}`);
  }
  if (isProxyConnectorEntry(entry)) {
    const proxy = [...config.auxiliaries.values()].find((aux) => (aux.config.aux_list as string[] | undefined)?.some((member) => config.auxiliaries.get(member)?.connectors && Object.values(config.auxiliaries.get(member)!.connectors).includes(name)));
    throw new KisoError('KISO_USAGE', `"${name}" is a proxy connector; dump or send on the physical connector instead${proxy ? ` ("${proxy.connectors.com}")` : ''}`);
  }
  const cls = (await entry.resolved.load()) as ConnectorClass;
  const connector = new cls(entry.config, { name, log: log.child({ connector: name }), baseDir: config.baseDir });
  await connector.open();
  return connector;
}

export interface DumpOptions {
  /** Stop after this many messages. */
  count?: number;
  /** candump -L log lines (with timestamps) instead of candump's screen lines. */
  logFormat?: boolean;
  /** Also write CAN frames to this pcap file (Wireshark). */
  pcap?: string;
  signal: AbortSignal;
  write: (line: string) => void;
}

/** Prints every message the connector receives until `count` or the signal; resolves with the number printed. */
export async function dump(connector: Connector<any>, options: DumpOptions): Promise<number> {
  const pcap = options.pcap ? new (await import('../can/pcap.js')).PcapWriter(options.pcap) : undefined;
  let printed = 0;
  try {
    await new Promise<void>((resolve) => {
      if (options.count === 0 || options.signal.aborted) return resolve();
      options.signal.addEventListener('abort', () => resolve(), { once: true });
      connector.onError((error) => {
        options.write(`# ${error.message}`);
        resolve();
      });
      connector.attach((message: Message) => {
        if (options.count !== undefined && printed >= options.count) return;
        printed++;
        if (pcap && isCanFrame(message)) pcap.write(message);
        options.write(options.logFormat && isCanFrame(message) ? formatCandumpLog(message, connector.name) : formatMessageLine(message, connector.name));
        if (options.count !== undefined && printed >= options.count) resolve();
      });
    });
  } finally {
    pcap?.close();
  }
  return printed;
}

/** What `kiso send` sends: cansend syntax for CAN connectors; hex bytes (`DEADBEEF`, `DE.AD`) or `--text` for the others. */
export function parseSendArgument(text: string, isCan: boolean): Message {
  if (isCan) return parseCansend(text);
  if (/^[0-9A-Fa-f]+#/.test(text)) {
    throw new KisoError('KISO_USAGE', `"${text}" is a CAN frame, but this connector is not a CAN connector: give hex bytes (e.g. DEADBEEF) or --text`);
  }
  const clean = text.replace(/^#/, '').replace(/\./g, '');
  if (!/^([0-9A-Fa-f]{2})+$/.test(clean)) throw new KisoError('KISO_USAGE', `"${text}" is not hex bytes (two hex digits per byte, e.g. DEADBEEF or DE.AD.BE.EF); use --text to send text`);
  return { data: Buffer.from(clean, 'hex') };
}

export function isCanConnector(connector: Connector<any>): boolean {
  try {
    return isCanFrame(connector.wireForm({ data: new Uint8Array(0) }) as CanFrame);
  } catch {
    return true; // it tried to make a CAN frame and refused the empty payload: a CAN connector
  }
}
