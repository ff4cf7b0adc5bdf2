import { Connector } from '../core/connector.js';
import { canFrame, validateCanFrame, type CanFrame } from '../can/frame.js';
import type { Message } from '../core/message.js';

/** python-can's `can_filters` entry: a frame passes when `id & can_mask === can_id & can_mask`. */
export interface CanFilter {
  can_id: number;
  can_mask: number;
  /** Match only extended (true) or only standard (false) frames; both when absent. */
  extended?: boolean;
}

/** Config keys every CAN connector shares (pykiso's names). */
export interface CanConnectorConfig {
  /** Channel or interface name (can0, vcan0, a multicast group, ...). */
  channel?: string;
  /** Arbitration id used when bytes are sent without one (pykiso's remote_id). */
  remote_id?: number;
  /** Defaults for frames sent as plain bytes. */
  is_extended_id?: boolean;
  is_fd?: boolean;
  enable_brs?: boolean;
  /** Receive filters; no filters (or an empty list) lets every frame through. */
  can_filters?: CanFilter[];
  processing?: boolean;
}

/** The JSON-schema properties of CanConnectorConfig, for each CAN type's schema to spread in. */
export const CAN_CONFIG_PROPERTIES = {
  remote_id: { description: 'Arbitration id used when a message is sent as plain bytes (pykiso remote_id).', type: 'integer', minimum: 0, maximum: 0x1fffffff },
  is_extended_id: { description: 'Plain-bytes messages use a 29-bit id.', type: 'boolean', default: false },
  is_fd: { description: 'Plain-bytes messages are sent as CAN FD frames.', type: 'boolean', default: false },
  enable_brs: { description: 'CAN FD frames switch bit rate (BRS).', type: 'boolean', default: false },
  can_filters: {
    description: 'Receive only frames with (id & can_mask) == (can_id & can_mask); python-can\'s can_filters.',
    type: 'array',
    items: {
      type: 'object',
      properties: {
        can_id: { type: 'integer', minimum: 0, maximum: 0x1fffffff },
        can_mask: { type: 'integer', minimum: 0, maximum: 0x1fffffff },
        extended: { type: 'boolean' },
      },
      required: ['can_id', 'can_mask'],
      additionalProperties: false,
    },
  },
  processing: { description: 'Run this connector and its auxiliary in their own OS process (pykiso\'s multiprocessing switch).', type: 'boolean', default: false },
} as const;

export function matchesFilters(frame: CanFrame, filters: readonly CanFilter[] | undefined): boolean {
  if (!filters || filters.length === 0) return true;
  return filters.some((filter) => (filter.extended === undefined || filter.extended === frame.can.extended) && (frame.can.id & filter.can_mask) === (filter.can_id & filter.can_mask));
}

/**
 * Base of every CAN connector: turns plain bytes into a frame with the
 * configured defaults, validates every frame before it reaches the wire,
 * and filters received frames in software (backends with hardware or kernel
 * filters may also apply them there).
 */
export abstract class CanConnector<Config extends CanConnectorConfig = CanConnectorConfig> extends Connector<Config> {
  /** The frame a message becomes on this bus; throws KISO_CONNECTOR_INVALID_MESSAGE if it cannot be one. */
  toFrame(message: Message): CanFrame {
    if (message.can) {
      validateCanFrame(message);
      return message;
    }
    return canFrame({
      id: this.config.remote_id ?? 0,
      extended: this.config.is_extended_id ?? (this.config.remote_id ?? 0) > 0x7ff,
      fd: this.config.is_fd ?? false,
      brs: (this.config.is_fd ?? false) && (this.config.enable_brs ?? false),
      data: message.data,
    });
  }

  override wireForm(message: Message): CanFrame {
    return this.toFrame(message);
  }

  protected override async doSend(message: Message): Promise<void> {
    await this.sendFrame(this.toFrame(message));
  }

  /** Delivers a received frame if it passes the filters. */
  protected deliverFrame(frame: CanFrame): void {
    if (matchesFilters(frame, this.config.can_filters)) this.deliver(frame);
  }

  protected abstract sendFrame(frame: CanFrame): Promise<void>;
}
