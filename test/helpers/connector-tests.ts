import { after } from 'node:test';
import type { Connector } from '../../src/core/connector.js';
import { silentLogger } from '../../src/core/logging.js';

/** The context a connector under test is built with. */
export const connectorContext = (name: string) => ({ name, log: silentLogger(), baseDir: process.cwd() });

/**
 * Opens connectors for a test file and closes them all after it, even when a
 * test fails; `cleanups` takes anything else to undo.
 */
export function connectorTestFile(): { opened: <T extends Connector<any>>(connector: T) => Promise<T>; cleanups: Array<() => Promise<void> | void> } {
  const cleanups: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  return {
    cleanups,
    async opened(connector) {
      await connector.open();
      cleanups.push(() => connector.close());
      return connector;
    },
  };
}
