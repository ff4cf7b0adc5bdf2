import type { ConnectorContext } from '../core/connector.js';
import type { CanFilter } from './can-base.js';
import { PythonCanConnector, type BridgeBus, type PythonCanBridgeConfig } from './python-can.js';

/**
 * pykiso's PCAN and Vector connectors (CCPCanCan, CCVectorCan) with pykiso's
 * keys, run through kiso's python-can bridge. Each config is translated by a
 * pure function into the very `can.Bus(...)` call pykiso's connector makes,
 * so a pykiso station opens the same adapter the same way.
 */

/** pykiso's cc_pcan_can:CCPCanCan keys (its defaults in PCAN_DEFAULTS). */
export interface PCanCanConfig extends PythonCanBridgeConfig {
  /** python-can interface (pykiso passes it through: `pcan`, or another to try the station elsewhere). */
  interface?: string;
  channel?: string;
  /** python-can BusState: ACTIVE or PASSIVE (listen only). */
  state?: string;
  bitrate?: number;
  f_clock_mhz?: number;
  nom_brp?: number;
  nom_tseg1?: number;
  nom_tseg2?: number;
  nom_sjw?: number;
  data_brp?: number;
  data_tseg1?: number;
  data_tseg2?: number;
  data_sjw?: number;
  /** PCAN-Basic trace (.trc) keys: accepted; kiso traces through a proxy instead (see PCAN_TRACE_KEYS). */
  trace_path?: string;
  trace_size?: number;
  logging_activated?: boolean;
  merge_trc_logs?: boolean;
  strategy_trc_file?: 'testRun' | 'testCase' | null;
  /** Drop python-can's "Bus error: an error counter ..." warnings of the PCAN driver. */
  bus_error_warning_filter?: boolean;
  /** kiso: further can.Bus keyword arguments, applied last. */
  bus_kwargs?: Record<string, unknown>;
}

/** pykiso's cc_vector_can:CCVectorCan keys (its defaults in VECTOR_DEFAULTS). */
export interface VectorCanConfig extends Omit<PythonCanBridgeConfig, 'channel'> {
  /** python-can interface (pykiso's name for it). */
  bustype?: string;
  poll_interval?: number;
  rx_queue_size?: number;
  /** Vector device serial number, or AUTO: the lowest one connected. */
  serial?: number | string | null;
  channel?: number | string | number[];
  bitrate?: number;
  data_bitrate?: number;
  /** Open the bus in CAN FD mode (also the default of is_fd for plain-bytes sends). */
  fd?: boolean;
  app_name?: string | null;
  /** kiso: further can.Bus keyword arguments, applied last. */
  bus_kwargs?: Record<string, unknown>;
}

export const PCAN_DEFAULTS = {
  interface: 'pcan',
  channel: 'PCAN_USBBUS1',
  state: 'ACTIVE',
  bitrate: 500000,
  is_fd: true,
  enable_brs: false,
  f_clock_mhz: 80,
  nom_brp: 2,
  nom_tseg1: 63,
  nom_tseg2: 16,
  nom_sjw: 16,
  data_brp: 4,
  data_tseg1: 7,
  data_tseg2: 2,
  data_sjw: 2,
} as const;

export const VECTOR_DEFAULTS = {
  bustype: 'vector',
  poll_interval: 0.01,
  rx_queue_size: 524288,
  channel: 3,
  bitrate: 500000,
  data_bitrate: 2000000,
  fd: true,
  enable_brs: false,
} as const;

/** The PCAN message pykiso's bus_error_warning_filter drops (logger can.pcan). */
export const PCAN_BUS_ERROR_PREFIX = 'Bus error: an error counter';

/** PCAN-Basic trace keys: pykiso has the driver write .trc files; kiso records traffic with a proxy's trace instead. */
export const PCAN_TRACE_KEYS = ['trace_path', 'trace_size', 'logging_activated', 'merge_trc_logs', 'strategy_trc_file'] as const;

function filtersOrNull(filters: CanFilter[] | undefined): CanFilter[] | null {
  return filters && filters.length > 0 ? filters : null;
}

/**
 * pykiso's CCPCanCan._cc_open: `can.interface.Bus(interface, channel,
 * state, bitrate, fd=is_fd, f_clock_mhz, nom_brp, nom_tseg1, nom_tseg2,
 * nom_sjw, data_brp, data_tseg1, data_tseg2, data_sjw, can_filters)`.
 * python-can's PCAN interface uses the bit-timing keys when fd is true and
 * `bitrate` otherwise, as in pykiso.
 */
export function pcanBusArguments(config: PCanCanConfig): BridgeBus {
  const value = <K extends keyof typeof PCAN_DEFAULTS>(key: K): NonNullable<PCanCanConfig[K]> | (typeof PCAN_DEFAULTS)[K] => (config[key] ?? PCAN_DEFAULTS[key]) as never;
  return {
    interface: value('interface'),
    channel: value('channel'),
    kwargs: {
      state: String(value('state')).toUpperCase(),
      bitrate: value('bitrate'),
      fd: value('is_fd'),
      f_clock_mhz: value('f_clock_mhz'),
      nom_brp: value('nom_brp'),
      nom_tseg1: value('nom_tseg1'),
      nom_tseg2: value('nom_tseg2'),
      nom_sjw: value('nom_sjw'),
      data_brp: value('data_brp'),
      data_tseg1: value('data_tseg1'),
      data_tseg2: value('data_tseg2'),
      data_sjw: value('data_sjw'),
      can_filters: filtersOrNull(config.can_filters),
      ...config.bus_kwargs,
    },
    ...(config.bus_error_warning_filter ? { drop_log_prefixes: { 'can.pcan': [PCAN_BUS_ERROR_PREFIX] } } : {}),
  };
}

/**
 * pykiso's CCVectorCan._cc_open: `can.interface.Bus(bustype, poll_interval,
 * rx_queue_size, serial, app_name, channel, bitrate, data_bitrate, fd,
 * bitrate_switch=enable_brs, can_filters)`. `serial: AUTO` is looked up by
 * the bridge as pykiso does (the lowest Vector serial number connected), and
 * only for the vector interface; a serial given as text becomes a number.
 */
export function vectorBusArguments(config: VectorCanConfig): BridgeBus {
  const bustype = config.bustype ?? VECTOR_DEFAULTS.bustype;
  const auto = typeof config.serial === 'string' && config.serial.toUpperCase() === 'AUTO';
  const serial = auto || config.serial === undefined || config.serial === null ? null : Number(config.serial);
  return {
    interface: bustype,
    channel: config.channel ?? VECTOR_DEFAULTS.channel,
    kwargs: {
      poll_interval: config.poll_interval ?? VECTOR_DEFAULTS.poll_interval,
      rx_queue_size: config.rx_queue_size ?? VECTOR_DEFAULTS.rx_queue_size,
      serial,
      app_name: config.app_name ?? null,
      bitrate: config.bitrate ?? VECTOR_DEFAULTS.bitrate,
      data_bitrate: config.data_bitrate ?? VECTOR_DEFAULTS.data_bitrate,
      fd: config.fd ?? VECTOR_DEFAULTS.fd,
      bitrate_switch: config.enable_brs ?? VECTOR_DEFAULTS.enable_brs,
      can_filters: filtersOrNull(config.can_filters),
      ...config.bus_kwargs,
    },
    ...(auto && bustype === 'vector' ? { vector_serial_auto: true } : {}),
  };
}

/** What the PCAN keys that change nothing in kiso stand for; logged when the connector opens. */
export function pcanNotes(config: PCanCanConfig): string[] {
  const notes: string[] = [];
  const traceKeys = PCAN_TRACE_KEYS.filter((key) => config[key] !== undefined && !(key === 'logging_activated' && config[key] === false));
  if (traceKeys.length > 0 || config.logging_activated !== false) {
    notes.push(
      `PCAN-Basic trace files (${[...new Set(['logging_activated', ...traceKeys])].join(', ')}) are not written by kiso: record the bus with a ProxyAuxiliary's activate_trace (candump log or pcap), or kiso dump --pcap`,
    );
  }
  if (config.enable_brs && !(config.is_fd ?? PCAN_DEFAULTS.is_fd)) notes.push('enable_brs has no effect because is_fd is false (as in pykiso)');
  return notes;
}

/** pykiso's CCPCanCan (PEAK PCAN adapters) through python-can's pcan interface. */
export class PCanCanConnector extends PythonCanConnector<PCanCanConfig> {
  constructor(config: PCanCanConfig, context: ConnectorContext) {
    // pykiso sends plain bytes as CAN FD frames unless is_fd is false.
    super({ ...config, is_fd: config.is_fd ?? PCAN_DEFAULTS.is_fd }, context);
  }

  override bridgeBus(): BridgeBus {
    return pcanBusArguments(this.config);
  }

  protected override async doOpen(): Promise<void> {
    for (const note of pcanNotes(this.config)) this.log.info({ connector: this.name }, note);
    await super.doOpen();
  }
}

/** pykiso's CCVectorCan (Vector adapters) through python-can's vector interface. */
export class VectorCanConnector extends PythonCanConnector<PythonCanBridgeConfig> {
  /** The config with Vector's keys (its channel may be a number, which kiso's CAN keys do not allow). */
  readonly vector: VectorCanConfig;

  constructor(config: VectorCanConfig, context: ConnectorContext) {
    // pykiso sends plain bytes as CAN FD frames when fd is true (its default).
    super({ ...config, channel: undefined, is_fd: config.is_fd ?? config.fd ?? VECTOR_DEFAULTS.fd }, context);
    this.vector = config;
  }

  override bridgeBus(): BridgeBus {
    return vectorBusArguments(this.vector);
  }

  protected override async doOpen(): Promise<void> {
    const { vector } = this;
    if (vector.enable_brs && !(vector.fd ?? VECTOR_DEFAULTS.fd)) this.log.info({ connector: this.name }, 'enable_brs has no effect because fd is false (as in pykiso)');
    if (typeof vector.serial === 'string' && vector.serial.toUpperCase() === 'AUTO' && (vector.bustype ?? 'vector') !== 'vector') {
      this.log.info({ connector: this.name }, `serial: AUTO looks up a Vector device; with bustype ${vector.bustype} no serial is passed`);
    }
    await super.doOpen();
  }
}
