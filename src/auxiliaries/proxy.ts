import path from 'node:path';
import { Auxiliary, type StationView } from '../core/auxiliary.js';
import { nowSeconds, type Message } from '../core/message.js';
import type { LogTrace } from '../can/trace/pcap-trace.js';
import { TraceWriter } from '../can/trace/trace-writer.js';

export interface ProxyAuxiliaryConfig {
  /** The auxiliaries that share the physical connector, each through its own proxy connector. */
  aux_list: string[];
  activate_trace?: boolean;
  trace_dir?: string;
  trace_name?: string;
  /** Rotate the trace file past this many bytes (0: one file); candump format only. */
  trace_max_bytes?: number;
  /** candump (the default): candump log lines with direction; or any other writable log format (see README, CAN logs). */
  trace_format?: 'candump' | 'pcap' | 'pcapng' | 'asc' | 'blf' | 'trc' | 'trc-1.1' | 'csv';
  processing?: boolean;
  /** In its own process: the most bytes of frames waiting for the main process before frames are dropped (src/processing/bounded-sender.ts). */
  ipc_backlog_bytes?: number;
}

/**
 * Something the proxy hands frames to: an in-process proxy connector, or the
 * IPC link to the auxiliaries of the main process.
 */
export interface ProxySink {
  /** `sender` is the auxiliary that sent the frame (undefined: it came from the bus); sinks skip their own. */
  push(message: Message, sender: string | undefined): void;
  /** The proxy itself died (its process crashed): the sink fails its owner. */
  hubFailed?(error: Error): void;
}

/** What a proxy connector needs of its proxy, in this process (ProxyAuxiliary) or another (MpProxyAuxiliary). */
export interface ProxyHub {
  readonly name: string;
  readonly isRunning: boolean;
  createInstance(): Promise<void>;
  addSink(sink: ProxySink): void;
  removeSink(sink: ProxySink): void;
  /** An attached auxiliary sends: resolves once the frame is on the bus. */
  forward(message: Message, sender: string): Promise<void>;
}

/** The connector side of a proxy: what a proxy binds to at station build. */
export interface ProxyEndpoint {
  bindProxy(proxy: ProxyHub, owner: string): void;
}

export function isProxyEndpoint(value: unknown): value is ProxyEndpoint {
  return typeof (value as ProxyEndpoint | undefined)?.bindProxy === 'function';
}

/** Binds the proxy connectors of the auxiliaries a proxy serves to that proxy (at station build). */
export function bindProxyEndpoints(hub: ProxyHub, auxList: readonly string[], station: StationView): void {
  for (const auxName of auxList) {
    for (const connector of Object.values(station.connectorsOf(auxName) ?? {})) {
      if (isProxyEndpoint(connector)) connector.bindProxy(hub, auxName);
    }
  }
}

/**
 * pykiso's ProxyAuxiliary: one physical connector (role `com`) shared by the
 * auxiliaries of `aux_list`. A frame from the bus reaches every attached
 * auxiliary; a frame one auxiliary sends goes out on the bus and then to every
 * other attached auxiliary, in the order the proxy handled them. With
 * `activate_trace`, every frame in both directions goes to a trace file
 * (candump log, or `trace_format`), all on one channel: the physical connector.
 */
export class ProxyAuxiliary extends Auxiliary<ProxyAuxiliaryConfig> implements ProxyHub {
  static override connectorRoles = ['com'] as const;

  private readonly sinks = new Set<ProxySink>();
  private trace?: TraceWriter | LogTrace;

  override bindStation(station: StationView): void {
    bindProxyEndpoints(this, this.config.aux_list, station);
  }

  addSink(sink: ProxySink): void {
    this.sinks.add(sink);
  }

  removeSink(sink: ProxySink): void {
    this.sinks.delete(sink);
  }

  /** An attached auxiliary sends: out on the bus, then to the others. */
  async forward(message: Message, sender: string): Promise<void> {
    this.ensureRunning(`forward a frame from "${sender}"`);
    const physical = this.connector('com');
    const onWire = physical.wireForm(message);
    await physical.send(onWire);
    // Stamped when it is on the bus, by the clock received frames are stamped with.
    const stamped = { ...onWire, timestamp: nowSeconds() };
    this.trace?.record(stamped, physical.name, 'T');
    for (const sink of this.sinks) sink.push(stamped, sender);
  }

  /** Where the trace is written, when it is on. */
  get traceFiles(): readonly string[] {
    return this.trace?.files ?? [];
  }

  protected override async onCreate(): Promise<void> {
    if (this.config.activate_trace) {
      const dir = this.config.trace_dir ?? this.baseDir;
      const options = { dir: path.resolve(this.baseDir, dir), name: this.config.trace_name ?? `${this.name}_trace`, maxBytes: this.config.trace_max_bytes };
      const format = this.config.trace_format ?? 'candump';
      this.trace = format === 'candump' ? new TraceWriter(options) : new (await import('../can/trace/pcap-trace.js')).LogTrace({ ...options, format });
      this.log.info({ auxiliary: this.name, trace: this.trace.file }, `proxy ${this.name} traces to ${this.trace.file}`);
    }
  }

  protected override async onDelete(): Promise<void> {
    const trace = this.trace;
    this.trace = undefined;
    if (trace) {
      await trace.close();
      this.log.info({ auxiliary: this.name, lines: trace.lines, files: trace.files }, `proxy ${this.name} wrote ${trace.lines} trace lines`);
    }
  }

  protected override onMessage(message: Message): void {
    this.trace?.record(message, this.connector('com').name, 'R');
    for (const sink of this.sinks) sink.push(message, undefined);
  }
}
