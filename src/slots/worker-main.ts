/**
 * Entry point of a fixture-slot worker process: it loads the station config
 * with its slot's values, runs the suites against its own device (all of
 * them, or the units the main process hands out), and streams every result
 * and log line back. It never decides about other slots.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { fromPortable } from '../config/portable.js';
import { serializeError } from '../processing/protocol.js';
import { formatLogLine, REDACTION } from '../core/logging.js';
import type { Reporter } from '../results/reporters/reporter.js';
import { OutputCapture, type LoadedSuite } from '../runner/run.js';
import { prepareRun } from '../runner/run-station.js';
import { catchStrayErrors } from '../runner/exit-guard.js';
import type { SlotEvent, SlotJob, SlotRequest, WorkUnit } from './protocol.js';
import type { PromptAnswer, Prompter } from '../runner/prompts.js';
import { reviveError } from '../processing/host-process.js';
import { registerBuiltins } from '../builtins.js';

registerBuiltins();

/** The real process.exit: while the suites run, process.exit is the guard that errors the running case (runner/exit-guard.ts). */
const exitProcess = process.exit.bind(process) as (code?: number) => never;

function emit(event: SlotEvent): void {
  try {
    process.send?.(event);
  } catch {
    // main is gone: 'disconnect' ends this worker
  }
}

const interrupt = new AbortController();
let unitWaiter: ((unit: WorkUnit | null) => void) | undefined;

/** ctx.prompt in a slot: asked in the main process, which has the operator; answers come back by id. */
const promptWaiters = new Map<number, { resolve(answer: PromptAnswer): void; reject(error: Error): void }>();
let nextPromptId = 0;
const relayedPrompts: Prompter = {
  ask(request, origin, signal) {
    const id = ++nextPromptId;
    return new Promise<PromptAnswer>((resolve, reject) => {
      promptWaiters.set(id, { resolve, reject });
      signal.addEventListener('abort', () => {
        if (promptWaiters.delete(id)) emit({ type: 'prompt-cancel', id });
      }, { once: true });
      emit({ type: 'prompt', id, request, origin });
    });
  },
};

/** Every reporter hook becomes an event for the main process. */
const forwarder: Reporter = {
  onRunStart: (info) => emit({ type: 'run-start', info }),
  onSuiteStart: (info) => emit({ type: 'suite-start', info }),
  onCaseStart: (info) => emit({ type: 'case-start', info }),
  onCaseEnd: (result) => emit({ type: 'case-end', result }),
  onSuiteEnd: (result) => emit({ type: 'suite-end', result }),
  onRunEnd: (result) => emit({ type: 'run-end', result }),
};

function lineStream(onLine: (line: string) => void): Writable {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      for (const line of (typeof chunk === 'string' ? chunk : chunk.toString('utf8')).split('\n')) if (line) onLine(line);
      done();
    },
  });
}

/** The suites of one unit: the suite with only the unit's cases (ids fixed first, so they keep their numbers). */
function unitSuite(suites: readonly LoadedSuite[], unit: WorkUnit): LoadedSuite | undefined {
  const loaded = suites.find((suite) => suite.file === unit.file && suite.suiteId === unit.suiteId);
  if (!loaded?.definition) return loaded;
  const cases = loaded.definition.cases.map((testCase, index) => ({ ...testCase, id: testCase.id ?? index + 1 })).filter((testCase) => unit.caseIds.includes(testCase.id));
  return { ...loaded, definition: { ...loaded.definition, cases } };
}

async function run(job: SlotJob): Promise<void> {
  const capture = new OutputCapture();
  const log = pino(
    { level: job.logLevel, base: { slot: job.slot, serial: job.serial }, ...REDACTION },
    pino.multistream([
      { level: 'trace', stream: lineStream((line) => capture.pushJson(line, formatLogLine)) },
      { level: 'trace', stream: lineStream((line) => emit({ type: 'log', line })) },
    ]),
  );
  const { strayErrors } = catchStrayErrors();
  const config = await fromPortable(job.config);
  const prepared = await prepareRun(config, {
    log,
    capture,
    strayErrors,
    reporters: [forwarder],
    failfast: job.failfast,
    tagFilters: job.tagFilters,
    filePattern: job.filePattern,
    suitePattern: job.suitePattern ? new RegExp(job.suitePattern) : undefined,
    casePattern: job.casePattern ? new RegExp(job.casePattern) : undefined,
    signal: interrupt.signal,
    dut: { ...job.values, slot: job.slot, serial_number: job.serial },
    prompter: relayedPrompts,
  });
  try {
    if (job.dist === 'each') {
      await prepared.runner.run(prepared.suites);
    } else {
      const next = async (): Promise<LoadedSuite | undefined> => {
        const unit = await new Promise<WorkUnit | null>((resolve) => {
          unitWaiter = resolve;
          emit({ type: 'next' });
        });
        return unit ? unitSuite(prepared.suites, unit) : undefined;
      };
      await prepared.runner.runQueue(next, 0);
    }
  } finally {
    await prepared.stop();
  }
}

/** Exits once the IPC channel has carried everything (a handle a suite leaked must not keep the worker alive). */
function finish(code: number): void {
  try {
    process.send?.({ type: 'done' } satisfies SlotEvent, () => exitProcess(code));
  } catch {
    exitProcess(code);
  }
}

process.on('message', (request: SlotRequest) => {
  switch (request.type) {
    case 'start':
      run(request.job).then(
        () => finish(0),
        (error: unknown) => {
          emit({ type: 'failed', error: serializeError(error) });
          finish(1);
        },
      );
      break;
    case 'unit':
      unitWaiter?.(request.unit);
      unitWaiter = undefined;
      break;
    case 'prompt-answer': {
      const waiter = promptWaiters.get(request.id);
      promptWaiters.delete(request.id);
      if (request.error) waiter?.reject(reviveError(request.error));
      else waiter?.resolve(request.answer!);
      break;
    }
    case 'stop':
      interrupt.abort();
      unitWaiter?.(null);
      break;
    default: {
      const unknown: never = request;
      emit({ type: 'log', line: JSON.stringify({ level: 50, time: Date.now(), msg: `slot worker: unknown message ${JSON.stringify(unknown)}` }) });
    }
  }
});

// The main process coordinates Ctrl-C for every slot; losing it ends this worker.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.on('disconnect', () => exitProcess(0));
