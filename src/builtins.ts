import type { AuxiliaryClass } from './core/auxiliary.js';
import { registerBuiltinTypes, type TypeCatalog } from './core/registry.js';

/**
 * The one list of kiso's built-in types, at the package edge: its short
 * name, the pykiso paths and aliases that mean the same type, the JSON
 * schema of its `config` (a file under `schemas/`), a lazy loader (a station
 * loads only the transports it uses) and its traits. Adding a type is one
 * entry here; the process entries (`kiso`, host and slot workers, the
 * public API) register this list before they resolve any type.
 */
export const BUILTIN_TYPES = {
  CCLoopback: {
    kind: 'connector',
    aliases: ['pykiso.lib.connectors.cc_raw_loopback:CCLoopback', 'loopback'],
    schema: 'connectors/loopback.schema.json',
    summary: 'echoes every sent message back to its owner; for trying suites without a device',
    load: async () => (await import('./connectors/loopback.js')).LoopbackConnector,
  },
  CCUdp: {
    kind: 'connector',
    aliases: ['pykiso.lib.connectors.cc_udp:CCUdp', 'udp'],
    schema: 'connectors/udp.schema.json',
    summary: 'UDP client: sends datagrams to dest_ip:dest_port, receives the answers',
    load: async () => (await import('./connectors/udp.js')).UdpConnector,
  },
  CCUdpServer: {
    kind: 'connector',
    aliases: ['pykiso.lib.connectors.cc_udp_server:CCUdpServer', 'udp_server'],
    schema: 'connectors/udp-server.schema.json',
    summary: 'UDP server: binds dest_ip:dest_port, answers the last peer that wrote',
    load: async () => (await import('./connectors/udp-server.js')).UdpServerConnector,
  },
  CCTcpip: {
    kind: 'connector',
    aliases: ['pykiso.lib.connectors.cc_tcp_ip:CCTcpip', 'tcp'],
    schema: 'connectors/tcp.schema.json',
    summary: 'TCP client: connects to dest_ip:dest_port',
    load: async () => (await import('./connectors/tcp.js')).TcpConnector,
  },
  CCTcpServer: {
    kind: 'connector',
    aliases: ['tcp_server'],
    schema: 'connectors/tcp-server.schema.json',
    summary: 'TCP server: listens on dest_ip:dest_port, talks to the connected clients',
    load: async () => (await import('./connectors/tcp-server.js')).TcpServerConnector,
  },
  CCSerial: {
    kind: 'connector',
    // Not pykiso's cc_uart:CCUart: that one wraps pykiso TestApp messages in SLIP + CRC, a different wire format.
    aliases: ['pykiso.lib.connectors.cc_serial:CCSerial', 'serial'],
    schema: 'connectors/serial.schema.json',
    summary: 'serial port (UART, USB-serial, pty): raw chunks, delimiter or fixed-length framing',
    load: async () => (await import('./connectors/serial.js')).SerialConnector,
  },
  CCSlcan: {
    kind: 'connector',
    aliases: ['slcan'],
    schema: 'connectors/slcan.schema.json',
    summary: 'CAN through an slcan (Lawicel ASCII) USB adapter: CANable, USBtin, CANUSB; CAN FD per CANable 2.0',
    load: async () => (await import('./connectors/slcan.js')).SlcanConnector,
  },
  CCSocketCan: {
    kind: 'connector',
    aliases: ['pykiso.lib.connectors.cc_socket_can:CCSocketCan', 'pykiso.lib.connectors.cc_socket_can.cc_socket_can:CCSocketCan', 'socketcan'],
    schema: 'connectors/socketcan.schema.json',
    summary: 'CAN on a Linux SocketCAN interface (can0, vcan0); CAN FD, kernel filters',
    load: async () => (await import('./connectors/socketcan.js')).SocketCanConnector,
  },
  CCPythonCan: {
    kind: 'connector',
    aliases: ['python_can'],
    schema: 'connectors/python-can.schema.json',
    summary: 'CAN through python-can (PCAN, Vector, Kvaser, ...), via a Python bridge process',
    load: async () => (await import('./connectors/python-can.js')).PythonCanConnector,
  },
  CCPCanCan: {
    kind: 'connector',
    aliases: ['pykiso.lib.connectors.cc_pcan_can:CCPCanCan', 'pykiso.lib.connectors.cc_pcan_can.cc_pcan_can:CCPCanCan', 'pcan'],
    schema: 'connectors/pcan-can.schema.json',
    summary: 'PEAK PCAN adapters with pykiso\'s CCPCanCan keys (bit timing, state), through python-can\'s pcan interface',
    load: async () => (await import('./connectors/pykiso-can.js')).PCanCanConnector,
  },
  CCVectorCan: {
    kind: 'connector',
    aliases: ['pykiso.lib.connectors.cc_vector_can:CCVectorCan', 'vector'],
    schema: 'connectors/vector-can.schema.json',
    summary: 'Vector adapters with pykiso\'s CCVectorCan keys (bustype, serial, app_name), through python-can\'s vector interface',
    load: async () => (await import('./connectors/pykiso-can.js')).VectorCanConnector,
  },
  CCVirtualCan: {
    kind: 'connector',
    aliases: ['pykiso.lib.connectors.cc_virtual_can:CCVirtualCan', 'virtual_can'],
    schema: 'connectors/virtual-can.schema.json',
    summary: 'virtual CAN bus over UDP multicast, shared with python-can\'s udp_multicast interface',
    load: async () => (await import('./connectors/virtual-can.js')).VirtualCanConnector,
  },
  CCProcess: {
    kind: 'connector',
    aliases: ['pykiso.lib.connectors.cc_process:CCProcess', 'process'],
    schema: 'connectors/process.schema.json',
    summary: 'a local process: stdout/stderr as messages, sent messages to stdin, its exit as a message; close ends its process group',
    load: async () => (await import('./connectors/process.js')).ProcessConnector,
  },
  CCProxy: {
    kind: 'connector',
    aliases: ['pykiso.lib.connectors.cc_proxy:CCProxy', 'pykiso.lib.connectors.cc_dt_proxy:CCDTProxy', 'proxy'],
    schema: 'connectors/proxy.schema.json',
    summary: 'the connector of an auxiliary that shares a physical connector through a ProxyAuxiliary',
    proxyEndpoint: true,
    load: async () => (await import('./connectors/proxy.js')).ProxyConnector,
  },
  ProxyAuxiliary: {
    kind: 'auxiliary',
    aliases: ['pykiso.lib.auxiliaries.proxy_auxiliary:ProxyAuxiliary', 'pykiso.lib.auxiliaries.dt_proxy_auxiliary:DTProxyAuxiliary'],
    roles: ['com'],
    schema: 'auxiliaries/proxy.schema.json',
    summary: 'shares one physical connector between the auxiliaries of aux_list, with an optional trace',
    proxy: { connectorType: 'CCProxy', hosted: false },
    load: async () => (await import('./auxiliaries/proxy.js')).ProxyAuxiliary,
  },
  CCMpProxy: {
    kind: 'connector',
    aliases: ['pykiso.lib.connectors.cc_mp_proxy:CCMpProxy', 'mp_proxy'],
    schema: 'connectors/proxy.schema.json',
    summary: 'the connector of an auxiliary that shares a physical connector through an MpProxyAuxiliary',
    proxyEndpoint: true,
    load: async () => (await import('./connectors/proxy.js')).ProxyConnector,
  },
  MpProxyAuxiliary: {
    kind: 'auxiliary',
    aliases: ['pykiso.lib.auxiliaries.mp_proxy_auxiliary:MpProxyAuxiliary'],
    roles: ['com'],
    schema: 'auxiliaries/proxy.schema.json',
    summary: 'ProxyAuxiliary whose proxy and physical connector run in their own process',
    proxy: { connectorType: 'CCMpProxy', hosted: true },
    // The station builds this main-process stand-in with the host spec; the host process runs a ProxyAuxiliary.
    load: async () => (await import('./auxiliaries/mp-proxy.js')).MpProxyAuxiliary as unknown as AuxiliaryClass,
  },
  CanAuxiliary: {
    kind: 'auxiliary',
    // pykiso has had both module paths (can_auxiliary.py, then a can_auxiliary package).
    aliases: ['pykiso.lib.auxiliaries.can_auxiliary:CanAuxiliary', 'pykiso.lib.auxiliaries.can_auxiliary.can_auxiliary:CanAuxiliary', 'can_dbc'],
    roles: ['com'],
    schema: 'auxiliaries/can-dbc.schema.json',
    summary: 'CAN messages and signals from a DBC file: send by name, decode every frame, wait on signals, periodic messages',
    load: async () => (await import('./auxiliaries/can-dbc.js')).CanAuxiliary,
  },
  UdsAuxiliary: {
    kind: 'auxiliary',
    aliases: ['pykiso.lib.auxiliaries.udsaux.uds_auxiliary:UdsAuxiliary', 'uds'],
    roles: ['com'],
    schema: 'auxiliaries/uds.schema.json',
    summary: 'UDS diagnostics (ISO 14229) over ISO-TP (ISO 15765-2) on a CAN connector',
    load: async () => (await import('./auxiliaries/uds.js')).UdsAuxiliary,
  },
  UdsServerAuxiliary: {
    kind: 'auxiliary',
    aliases: ['pykiso.lib.auxiliaries.udsaux.uds_server_auxiliary:UdsServerAuxiliary', 'uds_server'],
    roles: ['com'],
    schema: 'auxiliaries/uds-server.schema.json',
    summary: 'the ECU side of UDS over ISO-TP: answers requests by the callbacks a suite registers (pykiso\'s register_callback)',
    load: async () => (await import('./auxiliaries/uds-server.js')).UdsServerAuxiliary,
  },
  RecordAuxiliary: {
    kind: 'auxiliary',
    aliases: ['pykiso.lib.auxiliaries.record_auxiliary:RecordAuxiliary', 'record'],
    roles: ['com'],
    schema: 'auxiliaries/record.schema.json',
    summary: 'records everything its connector receives as a text log: search it, wait for a message, dump it to a file',
    load: async () => (await import('./auxiliaries/record.js')).RecordAuxiliary,
  },
  InstrumentControlAuxiliary: {
    kind: 'auxiliary',
    // pykiso exports it from the package and from its module.
    aliases: ['pykiso.lib.auxiliaries.instrument_control_auxiliary:InstrumentControlAuxiliary', 'pykiso.lib.auxiliaries.instrument_control_auxiliary.instrument_control_auxiliary:InstrumentControlAuxiliary', 'instrument_control'],
    roles: ['com'],
    schema: 'auxiliaries/instrument-control.schema.json',
    summary: 'SCPI instruments (power supplies, loads, meters) over CCTcpip or CCSerial: write, read, query and pykiso\'s helpers',
    load: async () => (await import('./auxiliaries/instrument-control.js')).InstrumentControlAuxiliary,
  },
  DUTAuxiliary: {
    kind: 'auxiliary',
    aliases: ['pykiso.lib.auxiliaries.dut_auxiliary:DUTAuxiliary', 'dut'],
    roles: ['com'],
    schema: 'auxiliaries/dut.schema.json',
    summary: 'drives the test app on the device over pykiso\'s TestApp protocol: the steps of pykiso\'s RemoteTest (command, ACK, report, abort)',
    load: async () => (await import('./auxiliaries/dut.js')).DUTAuxiliary,
  },
  SimulatedAuxiliary: {
    kind: 'auxiliary',
    aliases: ['pykiso.lib.auxiliaries.simulated_auxiliary:SimulatedAuxiliary', 'pykiso.lib.auxiliaries.simulated_auxiliary.simulated_auxiliary:SimulatedAuxiliary', 'simulated'],
    roles: ['com'],
    schema: 'auxiliaries/simulated.schema.json',
    summary: 'a virtual device running pykiso\'s TestApp: answers by pykiso\'s scenario table (ack, report ok/failed/not implemented, logs, lost communication)',
    load: async () => (await import('./auxiliaries/simulated.js')).SimulatedAuxiliary,
  },
  CommunicationAuxiliary: {
    kind: 'auxiliary',
    aliases: ['pykiso.lib.auxiliaries.communication_auxiliary:CommunicationAuxiliary'],
    roles: ['com'],
    schema: 'auxiliaries/communication.schema.json',
    summary: 'sends raw messages and receives them with a timeout',
    load: async () => (await import('./auxiliaries/communication.js')).CommunicationAuxiliary,
  },
} as const satisfies TypeCatalog;

export type BuiltinTypeName = keyof typeof BUILTIN_TYPES;

/** Makes the built-ins resolvable by name; every process entry calls it first. */
export function registerBuiltins(): void {
  registerBuiltinTypes(BUILTIN_TYPES);
}

