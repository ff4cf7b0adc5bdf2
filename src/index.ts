/**
 * kiso's public API: what suites and user types import from 'kiso'.
 */
export { defineSuite } from './runner/suite-api.js';
export type { SuiteDefinition, TestCaseDefinition, SuiteContext, CaseContext, SuiteInfo, CaseInfo, StepTimeouts, DefinedSuite } from './runner/suite-api.js';
export { Connector } from './core/connector.js';
export type { ConnectorContext, ConnectorStats, MessageReceiver } from './core/connector.js';
export { Auxiliary } from './core/auxiliary.js';
export type { AuxiliaryContext, AuxiliaryState, CommandReport, RunCommandOptions } from './core/auxiliary.js';
export type { Message, CanFields, PeerAddress, Sendable } from './core/message.js';
export { toMessage, nowSeconds } from './core/message.js';
export { KisoError, ERRORS } from './core/errors.js';
export type { ErrorCode } from './core/errors.js';
export { ReceiveQueue } from './core/receive-queue.js';
export { CommunicationAuxiliary } from './auxiliaries/communication.js';
export type { RecordAuxiliary, RecordAuxiliaryConfig, RecordEntry, LogQueryOptions, WaitForMessageOptions, DumpOptions, RegexMatches } from './auxiliaries/record.js';
export type { ProcessConnector, ProcessConnectorConfig } from './connectors/process.js';
export { processCommand, processOutput } from './connectors/process-message.js';
export type { ProcessOutput, ProcessCommand, ProcessStartCommand, ProcessStopCommand, ProcessStream } from './connectors/process-message.js';
export type { Logger } from './core/logging.js';
export type { Reporter } from './results/reporters/reporter.js';
export type { RunResult, CaseResult, SuiteResult, Outcome } from './results/outcomes.js';
export type { MeasurementDeclaration, MeasuredValue, MeasurementOutcome, Dimension, Row } from './results/measurements.js';
export type { Limits } from './results/limits.js';
export type { AttachmentContent } from './results/attachments.js';
export type { CheckApi, StepApi, CheckResult, Range } from './results/checks.js';
export type { SerialHook, SerialHookContext } from './station/run-metadata.js';
export type { RunRecord, PhaseRecord, MeasurementRecord, CheckRecord } from './results/record/types.js';
// CAN signals and diagnostics: their types here, their code in 'kiso/can' (loaded only by stations that use CAN).
export type { CanAuxiliary } from './auxiliaries/can-dbc.js';
export type { UdsAuxiliary } from './auxiliaries/uds.js';
export type { UdsServerAuxiliary, UdsCallback, UdsCallbackSpec, UdsCallbackFunction, UdsBytes, UdsServerAuxiliaryConfig } from './auxiliaries/uds-server.js';
export type { InstrumentControlAuxiliary, InstrumentControlAuxiliaryConfig, WriteStatus, WriteValidation } from './auxiliaries/instrument-control.js';
export type { Dbc, DbcError } from './can/dbc/index.js';
export type { IsoTpTransport, IsoTpError } from './can/isotp.js';
export type { UdsClient, UdsNegativeResponseError, UdsNoResponseError, UdsInvalidResponseError } from './can/uds.js';
export type { UdsServer } from './can/uds-server.js';
export type { PcapWriter } from './can/pcap.js';
export type { TraceFrame, TraceDirection, ReadStats } from './can/trace/trace-frame.js';
export type { TraceReader, ReadTraceOptions, TraceFormatName } from './can/trace/logs.js';
export type { MemoryCanBus } from './connectors/memory-can.js';
export type { CanAuxiliaryConfig, CanAuxiliaryStats, ReceivedSignal, SignalExpectation, SignalRange, MessageCondition, WaitOptions, PeriodicOptions, PeriodicMessage } from './auxiliaries/can-dbc.js';
export type { UdsAuxiliaryConfig, UdsTpLayerConfig, UdsLayerConfig } from './auxiliaries/uds.js';
export type { DbcDatabase, DbcMessage, DbcSignal, DecodedMessage, DecodedSignal, EncodeOptions, RawValue, SignalInput } from './can/dbc/index.js';
export type { IsoTpOptions, IsoTpTimeouts, IsoTpResult } from './can/isotp.js';
export type { UdsClientOptions, UdsTransport, UdsResponse, RequestOptions, SessionInfo, DtcRecord, SecurityKeyHook } from './can/uds.js';
export type { UdsServerOptions } from './can/uds-server.js';
import { registerBuiltins } from './builtins.js';

// Suites and user types that load kiso as a library resolve built-in names too.
registerBuiltins();
export type { CanFrame } from './can/frame.js';
