import { formatMessageLine } from '../can/frame.js';
import { createLogger, type LogLevel } from '../core/logging.js';
import { dump, isCanConnector, openConnector, parseSendArgument } from '../station/bringup.js';
import { loadAll, type PlannedRun } from './load-stations.js';
import { EXIT, UsageError } from './usage.js';

/** `kiso dump` and `kiso send`: one connector of a station, opened alone, from the command line. */

export async function dumpCommand(flags: { testConfigurationFile: string; connector: string; count?: number; log?: boolean; pcap?: string; logLevel: LogLevel }): Promise<number> {
  const [{ config }] = (await loadAll([flags.testConfigurationFile])) as [PlannedRun];
  const { logger } = createLogger({ level: flags.logLevel, console: true });
  const connector = await openConnector(config, flags.connector, logger);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stderr.write(`kiso dump: listening on "${flags.connector}" (${config.connectors.get(flags.connector)!.type})${flags.count !== undefined ? `, ${flags.count} message(s)` : ''}; Ctrl-C to stop\n`);
  try {
    const printed = await dump(connector, { count: flags.count, logFormat: flags.log, pcap: flags.pcap, signal: stop.signal, write: (line) => process.stdout.write(`${line}\n`) });
    process.stderr.write(`kiso dump: ${printed} message(s)${flags.pcap ? `, pcap: ${flags.pcap}` : ''}\n`);
  } finally {
    await connector.close();
  }
  return EXIT.passed;
}

export async function sendCommand(messages: string[], flags: { testConfigurationFile: string; connector: string; text?: string; interval: number; logLevel: LogLevel }): Promise<number> {
  if (messages.length === 0 && flags.text === undefined) throw new UsageError('kiso send needs at least one message, e.g. kiso send -c station.yaml --connector can 123#DEADBEEF');
  const [{ config }] = (await loadAll([flags.testConfigurationFile])) as [PlannedRun];
  const { logger } = createLogger({ level: flags.logLevel, console: true });
  const connector = await openConnector(config, flags.connector, logger);
  try {
    const isCan = isCanConnector(connector);
    // Parse everything before sending anything: a typo in the third frame must not leave the first two on the bus.
    const parsed = flags.text !== undefined ? [{ data: Buffer.from(flags.text, 'utf8') }] : messages.map((text) => parseSendArgument(text, isCan));
    for (const [index, message] of parsed.entries()) {
      if (index > 0 && flags.interval > 0) await new Promise((resolve) => setTimeout(resolve, flags.interval));
      await connector.send(message);
      process.stdout.write(`${formatMessageLine(connector.wireForm(message), flags.connector)}\n`);
    }
  } finally {
    await connector.close();
  }
  return EXIT.passed;
}

