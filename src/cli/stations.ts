import type { Command } from 'commander';
import { describeError, isKisoError } from '../core/errors.js';

/**
 * `kiso stations list|add|link|unlink|remove`: the stations of the fleet
 * store and the procedures linked to each (TofuPilot's model). A station
 * runs only its linked procedures; a run of another is refused before
 * anything opens. The fleet is `--fleet-url` or `$KISO_STORE_URL`.
 */

class StationsUsageError extends Error {}

async function withFleet<T>(flags: { fleetUrl?: string }, work: (fleet: import('../store/pg-store.js').FleetStore) => Promise<T>): Promise<T> {
  const { isStoreUrl, redactUrl } = await import('../store/location.js');
  const url = flags.fleetUrl ?? process.env.KISO_STORE_URL;
  if (!url || !isStoreUrl(url)) throw new StationsUsageError(`kiso stations needs the fleet store: --fleet-url postgres://ROLE@HOST/DATABASE or KISO_STORE_URL${url ? ` (got ${redactUrl(url)})` : ''}`);
  const { FleetStore } = await import('../store/pg-store.js');
  const fleet = await FleetStore.open(url);
  try {
    return await work(fleet);
  } finally {
    await fleet.close();
  }
}

function guarded<A extends unknown[]>(setExitCode: (code: number) => void, action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
      setExitCode(0);
    } catch (error) {
      if (!(error instanceof StationsUsageError) && !isKisoError(error)) throw error;
      process.stderr.write(`kiso: ${describeError(error)}\n`);
      setExitCode(error instanceof StationsUsageError || isKisoError(error, 'KISO_USAGE') ? 2 : 1);
    }
  };
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function addStationsCommands(program: Command, setExitCode: (code: number) => void): void {
  const stations = program.command('stations').description('the stations of the fleet store and the procedures each may run');
  const fleetOption = ['--fleet-url <url>', 'the fleet store (default: $KISO_STORE_URL)'] as const;

  stations
    .command('list')
    .description('every station and its linked procedures')
    .option(...fleetOption)
    .option('--json', 'as JSON')
    .action(
      guarded(setExitCode, async (flags: { fleetUrl?: string; json?: boolean }) => {
        await withFleet(flags, async (fleet) => {
          const list = await fleet.stations();
          if (flags.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
          else if (!list.length) process.stdout.write(`no stations in ${fleet.location}\n`);
          else for (const station of list) process.stdout.write(`${station.name}  ${station.procedures.join(', ') || '(no procedure linked)'}\n`);
        });
      }),
    );

  for (const [name, description] of [
    ['add', 'register a station, linking the procedures given'],
    ['link', 'link procedures to a station (registering it when new)'],
  ] as const) {
    stations
      .command(name)
      .description(description)
      .argument('<station>', 'station name (the station YAML\'s station.name, or --station-name)')
      .option('--procedure <id>', 'a procedure it may run (repeatable)', collect, [])
      .option(...fleetOption)
      .action(
        guarded(setExitCode, async (station: string, flags: { fleetUrl?: string; procedure: string[] }) => {
          if (name === 'link' && !flags.procedure.length) throw new StationsUsageError('kiso stations link needs at least one --procedure');
          await withFleet(flags, async (fleet) => {
            await fleet.addStation(station, flags.procedure);
            process.stdout.write(`${station}: ${(await fleet.stationProcedures(station))!.join(', ') || '(no procedure linked)'}\n`);
          });
        }),
      );
  }

  stations
    .command('unlink')
    .description('unlink procedures from a station')
    .argument('<station>', 'station name')
    .option('--procedure <id>', 'a procedure (repeatable)', collect, [])
    .option(...fleetOption)
    .action(
      guarded(setExitCode, async (station: string, flags: { fleetUrl?: string; procedure: string[] }) => {
        if (!flags.procedure.length) throw new StationsUsageError('kiso stations unlink needs at least one --procedure');
        await withFleet(flags, async (fleet) => {
          await fleet.unlinkProcedures(station, flags.procedure);
          process.stdout.write(`${station}: ${(await fleet.stationProcedures(station))?.join(', ') || '(no procedure linked)'}\n`);
        });
      }),
    );

  stations
    .command('remove')
    .description('remove a station (its runs stay)')
    .argument('<station>', 'station name')
    .option(...fleetOption)
    .action(
      guarded(setExitCode, async (station: string, flags: { fleetUrl?: string }) => {
        await withFleet(flags, async (fleet) => fleet.removeStation(station));
      }),
    );
}
