import { Auxiliary, type AuxiliaryContext } from '../core/auxiliary.js';
import { describeError } from '../core/errors.js';
import type { Message } from '../core/message.js';
import { CommandType, MessageType, TokenCounter, ackOf, decodeMessage, describeMessage, encodeMessage, type TestAppMessage } from './testapp/message.js';
import { FAILURE_REASONS, Playbook, responseMessages } from './testapp/simulation.js';

export type SimulatedAuxiliaryConfig = Record<string, never>;

/**
 * pykiso's SimulatedAuxiliary: a virtual device under test running pykiso's
 * TestApp. It answers the TestApp commands its `com` connector receives
 * (usually a CCUdpServer a DUTAuxiliary's CCUdp writes to) by pykiso's
 * scenario table (testapp/simulation.ts): ACK, a report (pass, failed with a
 * reason, not implemented), log messages, or nothing (lost communication).
 * Answers go back to the peer that sent the command.
 */
export class SimulatedAuxiliary extends Auxiliary<SimulatedAuxiliaryConfig> {
  static override connectorRoles = ['com'] as const;

  private readonly tokens = new TokenCounter();
  private playbook = new Playbook();
  private reasons = 0;
  /** Commands answered so far, and what was answered (for tests and logs). */
  readonly played: Array<{ command: string; scenario: string; step: number; response: string }> = [];

  constructor(config: SimulatedAuxiliaryConfig, context: AuxiliaryContext) {
    super(config ?? {}, context);
  }

  protected override async onCreate(): Promise<void> {
    this.playbook = new Playbook();
  }

  protected override onMessage(raw: Message): void {
    let command: TestAppMessage;
    try {
      command = decodeMessage(raw.data);
    } catch (error) {
      this.log.warn({ auxiliary: this.name }, `simulated DUT "${this.name}" ignored a frame: ${describeError(error)}`);
      return;
    }
    if (command.type === MessageType.ACK) return; // the DUT auxiliary acknowledging a report or log: plays nothing
    if (command.type !== MessageType.COMMAND) {
      this.log.warn({ auxiliary: this.name }, `simulated DUT "${this.name}" ignored ${describeMessage(command)}: a test app only takes commands`);
      return;
    }
    if (command.subType === CommandType.PING) {
      this.answer([ackOf(command)], raw);
      return;
    }
    const { response, scenario, step } = this.playbook.next(command);
    this.played.push({ command: describeMessage(command), scenario: scenario.name, step, response: response ?? 'nothing' });
    this.log.debug({ auxiliary: this.name }, `simulated DUT: ${describeMessage(command)} → ${scenario.name} step ${step}: ${response ?? 'no answer (communication lost)'}`);
    if (!response) return;
    this.answer(responseMessages(response, command, this.tokens, () => FAILURE_REASONS[this.reasons++ % FAILURE_REASONS.length]!), raw);
  }

  private answer(messages: TestAppMessage[], to: Message): void {
    void (async () => {
      for (const message of messages) {
        try {
          await this.connector('com').send({ data: encodeMessage(message), ...(to.peer ? { peer: to.peer } : {}) });
        } catch (error) {
          this.log.warn({ auxiliary: this.name }, `simulated DUT "${this.name}" could not send ${describeMessage(message)}: ${describeError(error)}`);
          return;
        }
      }
    })();
  }
}
