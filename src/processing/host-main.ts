/**
 * Entry point of an auxiliary host process (`processing: true`). It builds
 * one auxiliary with the connectors it owns, runs every verb the main
 * process calls, and streams a proxy's frames both ways in packed batches.
 * It imports only the IPC types and what it hosts, never the runner.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../core/logging.js';
import type { Auxiliary, AuxiliaryClass } from '../core/auxiliary.js';
import type { Connector, ConnectorClass } from '../core/connector.js';
import { KisoError } from '../core/errors.js';
import { REDACTION } from '../core/logging.js';
import type { Message } from '../core/message.js';
import { resolveType } from '../core/registry.js';
import type { ProxyAuxiliary, ProxyAuxiliaryConfig } from '../auxiliaries/proxy.js';
import { BoundedSender, DEFAULT_BACKLOG_BYTES } from './bounded-sender.js';
import { FrameBatcher } from './frame-batcher.js';
import { unpackMessages } from './frame-pack.js';
import { IpcGarbageBound } from './ipc-garbage.js';
import { serializeError, type HostedState, type HostEvent, type HostRequest, type HostSpec } from './protocol.js';
import { registerBuiltins } from '../builtins.js';

registerBuiltins();

/** Major GCs often enough that what IPC serialization keeps of frame batches cannot pile up (see IpcGarbageBound). */
const ipcGarbage = new IpcGarbageBound();

function emit(event: HostEvent): void {
  try {
    process.send?.(event);
  } catch {
    // The main process is gone; 'disconnect' ends this host.
  }
}

// Log lines travel to the main process, which writes them to its log, its console and the running case.
const ipcLogStream = new Writable({
  decodeStrings: false,
  write(chunk: string | Buffer, _encoding, done) {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    for (const line of text.split('\n')) if (line) emit({ type: 'log', line });
    done();
  },
});

let aux: Auxiliary<any> | undefined;
let connectors: Connector<any>[] = [];

function hostedState(): HostedState {
  if (!aux) return { state: 'idle', locked: false };
  const fault = aux.fault;
  return { state: aux.state, locked: aux.isLocked, ...(fault ? { fault: serializeError(fault) } : {}) };
}

function sendState(): void {
  emit({ type: 'state', ...hostedState() });
}

async function build(spec: HostSpec): Promise<void> {
  const log = pino({ level: spec.logLevel, base: undefined, ...REDACTION }, ipcLogStream);
  const byName = new Map<string, Connector<any>>();
  for (const entry of spec.connectors) {
    const cls = (await (await resolveType(entry.type, 'connector', spec.baseDir)).load()) as ConnectorClass;
    const connector = new cls(entry.config, { name: entry.name, log: log.child({ connector: entry.name }), baseDir: spec.baseDir });
    // A connector failing mid-run changes the auxiliary's fault: tell the main process at once.
    connector.onError(() => queueMicrotask(sendState));
    byName.set(entry.name, connector);
  }
  connectors = [...byName.values()];
  const roles: Record<string, Connector<any>> = {};
  for (const [role, name] of Object.entries(spec.auxiliary.connectors)) roles[role] = byName.get(name)!;
  const cls = (await (await resolveType(spec.auxiliary.type, 'auxiliary', spec.baseDir)).load()) as AuxiliaryClass;
  aux = new cls(spec.auxiliary.config, { name: spec.auxiliary.name, log: log.child({ auxiliary: spec.auxiliary.name }), connectors: roles, baseDir: spec.baseDir });
  if (spec.proxy) {
    const backlogBytes = (spec.auxiliary.config as Pick<ProxyAuxiliaryConfig, 'ipc_backlog_bytes'>).ipc_backlog_bytes ?? DEFAULT_BACKLOG_BYTES;
    attachProxyLink(aux as ProxyAuxiliary, backlogBytes, log.child({ auxiliary: spec.auxiliary.name }));
  }
}

/** How often the host says what it dropped and what its memory holds, while it drops. */
const DROP_REPORT_MS = 10_000;

/**
 * The proxy's frames for the main process's auxiliaries leave in batches
 * keyed by sender, with a bound on the bytes waiting on the IPC channel
 * (the proxy's `ipc_backlog_bytes`): a main process that cannot keep up
 * costs frames (counted, and said with the host's memory every 10 s), never
 * the host's memory.
 */
function attachProxyLink(proxy: ProxyAuxiliary, backlogBytes: number, log: Logger): void {
  const sender = new BoundedSender<HostEvent>((event, written) => process.send?.(event, undefined, undefined, written) ?? false, backlogBytes);
  let reported = 0;
  let lastReport = 0;
  const batcher = new FrameBatcher<string | null>((key, batch, count) => {
    if (sender.push({ type: 'frames', sender: key, batch }, count, batch.length)) {
      ipcGarbage.count();
      return;
    }
    const now = Date.now();
    if (now - lastReport < DROP_REPORT_MS && reported > 0) return;
    lastReport = now;
    reported++;
    const { inFlight, bytesInFlight, droppedFrames, droppedBatches } = sender.stats;
    const memory = process.memoryUsage();
    const mib = (bytes: number): number => Math.round(bytes / 1048576);
    log.warn(
      { droppedFrames, droppedBatches, batchesWaiting: inFlight, bytesWaiting: bytesInFlight, rssMiB: mib(memory.rss), heapUsedMiB: mib(memory.heapUsed), externalMiB: mib(memory.external) },
      `the main process does not keep up with the proxy's frames: ${droppedFrames} frame(s) dropped so far, ${inFlight} batches (${(bytesInFlight / 1048576).toFixed(1)} MiB) waiting on the IPC channel; host memory: rss ${mib(memory.rss)} MiB, heap ${mib(memory.heapUsed)} MiB, buffers ${mib(memory.external)} MiB`,
    );
  });
  proxy.addSink({ push: (message: Message, key: string | undefined) => batcher.push(key ?? null, message) });
}

/** Frames the main process's auxiliaries sent through the proxy, in order; each failure is reported by index. */
let forwarding: Promise<void> = Promise.resolve();
function forwardFrames(seq: number, sender: string, batch: Uint8Array): void {
  forwarding = forwarding.then(async () => {
    const errors: Array<{ index: number; error: ReturnType<typeof serializeError> }> = [];
    const proxy = aux as ProxyAuxiliary | undefined;
    const messages = unpackMessages(batch);
    for (let index = 0; index < messages.length; index++) {
      try {
        if (!proxy) throw new KisoError('KISO_AUX_NOT_RUNNING', 'the proxy is not built');
        await proxy.forward(messages[index]!, sender);
      } catch (error) {
        errors.push({ index, error: serializeError(error) });
      }
    }
    emit({ type: 'frames-ack', seq, errors });
  });
}

/** Runs one call; its result carries the state after it, so the main side needs no second message. */
async function call(id: number, method: string, args: unknown[]): Promise<void> {
  try {
    if (!aux) throw new KisoError('KISO_AUX_NOT_RUNNING', 'the hosted auxiliary is not built');
    const target = (aux as unknown as Record<string, unknown>)[method];
    if (typeof target !== 'function') {
      throw new KisoError('KISO_AUX_COMMAND', `auxiliary "${aux.name}" has no method "${method}"`);
    }
    const value = await (target as (...a: unknown[]) => unknown).apply(aux, args);
    try {
      process.send?.({ type: 'result', id, ok: true, value, after: hostedState() } satisfies HostEvent);
    } catch (error) {
      emit({ type: 'result', id, ok: false, error: serializeError(new KisoError('KISO_IPC_PROTOCOL', `the result of ${method}() cannot cross processes: ${(error as Error).message}`)), after: hostedState() });
    }
  } catch (error) {
    emit({ type: 'result', id, ok: false, error: serializeError(error), after: hostedState() });
  }
}

async function shutdown(): Promise<void> {
  try {
    if (aux && aux.state !== 'idle' && aux.state !== 'stopped') await aux.deleteInstance();
    for (const connector of connectors) await connector.close();
  } finally {
    process.disconnect?.();
    process.exit(0);
  }
}

process.on('message', (message: HostRequest) => {
  switch (message.type) {
    case 'init':
      build(message.spec).then(
        () => emit({ type: 'ready', pid: process.pid }),
        (error: unknown) => emit({ type: 'init-failed', error: serializeError(error) }),
      );
      break;
    case 'call':
      void call(message.id, message.method, message.args);
      break;
    case 'frames':
      ipcGarbage.count();
      forwardFrames(message.seq, message.sender, message.batch);
      break;
    case 'shutdown':
      void shutdown();
      break;
    default: {
      const unknown: never = message;
      emit({ type: 'log', line: JSON.stringify({ level: 50, time: Date.now(), msg: `host: unknown IPC message ${JSON.stringify(unknown)}` }) });
    }
  }
});

// The main process owns the run: Ctrl-C reaches the whole process group, but only
// the main process decides how to stop. Losing it (even to kill -9) ends this host.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {}); // a closed terminal hangs up the whole group: the main process stops this host
process.on('disconnect', () => process.exit(0));
