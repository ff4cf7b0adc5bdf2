/**
 * kiso's public API: what suites and user types import from 'kiso'.
 */
export { defineSuite } from './core/suite-api.js';
export type { SuiteDefinition, TestCaseDefinition, SuiteContext, CaseContext, SuiteInfo, CaseInfo, StepTimeouts, DefinedSuite } from './core/suite-api.js';
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
export type { Logger } from './core/logging.js';
export type { Reporter } from './core/reporters/reporter.js';
export type { RunResult, CaseResult, SuiteResult, Outcome } from './core/runner/results.js';
