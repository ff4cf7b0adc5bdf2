/**
 * kiso's CAN API: what suites and user types import from 'kiso/can' (DBC,
 * ISO-TP, UDS, pcap traces, CAN logs (readTrace, createTraceWriter), the CAN auxiliaries, an in-memory bus). Apart
 * from 'kiso' so that a suite that needs no CAN does not load it; the types
 * are exported from 'kiso' too.
 */
export { CanAuxiliary } from './auxiliaries/can-dbc.js';
export { UdsAuxiliary } from './auxiliaries/uds.js';
export { UdsServerAuxiliary, UdsCallback, formatUdsData } from './auxiliaries/uds-server.js';
export { Dbc, DbcError, parseDbc, loadDbc } from './can/dbc/index.js';
export { IsoTpTransport, IsoTpError } from './can/isotp.js';
export { UdsClient, UdsNegativeResponseError, UdsNoResponseError, UdsInvalidResponseError, NRC, NRC_NAMES, UDS_SERVICES, nrcName, formatDtc } from './can/uds.js';
export { UdsServer, xorKey } from './can/uds-server.js';
export { PcapWriter, readCanPcap } from './can/pcap.js';
export { readTrace, readTraceChunks, createTraceWriter, traceFormatOf, TRACE_FORMAT_NAMES, type TraceReader, type ReadTraceOptions, type TraceFormatName } from './can/trace/logs.js';
export type { TraceFrame, TraceDirection, ReadStats } from './can/trace/trace-frame.js';
export type { FrameFileWriter } from './can/trace/log-format.js';
export { decodeTrace, type DecodeOptions, type DecodeSummary } from './can/trace/decode.js';
export { MemoryCanBus, memoryCanPair } from './connectors/memory-can.js';
