import type { AuxiliaryContext, CanAuxiliaryConfig, PeriodicMessage } from 'kiso';
import { CanAuxiliary, IsoTpTransport, UdsServer, xorKey } from 'kiso/can';

interface EcuSimulatorConfig extends CanAuxiliaryConfig {
  /** CAN id of the tester's UDS requests. */
  request_id: number;
  /** CAN id of this ECU's UDS responses. */
  response_id: number;
  /** What DID 0xF190 answers. */
  vin: string;
}

/** The plant: how fast the simulated engine follows the requested speed, per 20 ms step. */
const STEP_MS = 20;
const RPM_PER_STEP = 200;
const IDLE_RPM = 800;

/**
 * A simulated engine ECU on the CAN bus, driven by the same DBC as the test
 * bench: a user auxiliary type built on CanAuxiliary. It sends EngineStatus,
 * BatteryStatus and the multiplexed EngineDiagnostics at their DBC cycle
 * times, follows EngineCommand (ignition, target speed, gear) like a slow
 * engine would, and answers UDS requests (VIN, part number, a writable
 * calibration DID behind security access, a self-test routine, one DTC).
 * On a bench with the real ECU, drop this auxiliary from the YAML.
 */
export class EcuSimulator extends CanAuxiliary<EcuSimulatorConfig> {
  static override connectorRoles = ['com'] as const;
  static override configSchema = {
    type: 'object',
    properties: {
      dbc: { type: 'string', minLength: 1, kisoPath: true, description: 'The DBC the ECU speaks.' },
      request_id: { type: 'integer', minimum: 0, maximum: 0x7ff, default: 0x7e0 },
      response_id: { type: 'integer', minimum: 0, maximum: 0x7ff, default: 0x7e8 },
      vin: { type: 'string', minLength: 17, maxLength: 17, default: '1KS0EXAMPLE000001' },
    },
    required: ['dbc'],
    additionalProperties: false,
  };

  private periodic: PeriodicMessage[] = [];
  private plant: NodeJS.Timeout | undefined;
  private transport: IsoTpTransport | undefined;
  private server: UdsServer | undefined;
  private readonly engine = { speed: 0, gear: 0, state: 0, coolant: 20, runHours: 1234.5, page: 0 };

  constructor(config: EcuSimulatorConfig, context: AuxiliaryContext) {
    super(config, context);
  }

  protected override async onCreate(): Promise<void> {
    await super.onCreate();
    this.periodic = [
      this.beginPeriodic('EngineStatus', this.statusValues()),
      this.beginPeriodic('BatteryStatus', { BatteryVoltage: 12.6, BatteryCurrent: -1.5, StateOfCharge: 87.5 }),
      this.beginPeriodic('EngineDiagnostics', { DiagPage: 0, OilPressure: 0, OilTemp: 20 }),
    ];
    this.plant = setInterval(() => this.step(), STEP_MS);
    this.transport = new IsoTpTransport(this.connector('com'), { txId: this.config.response_id, rxId: this.config.request_id, log: this.log });
    this.server = new UdsServer(this.transport, {
      dids: {
        0xf190: Buffer.from(this.config.vin),
        0xf187: Buffer.from('KISO-ECU-0001'),
        0x0100: () => Uint8Array.of(Math.round(this.engine.speed) >> 8, Math.round(this.engine.speed) & 0xff),
        0x0200: Uint8Array.of(0x01, 0x00),
      },
      writableDids: [0x0200],
      protectedDids: [0x0200],
      expectedKey: (seed) => xorKey(seed),
      routines: { 0x0203: () => Uint8Array.of(this.engine.state === 2 ? 0x00 : 0x01) },
      dtcs: [{ dtc: 0x011600, status: 0x08, code: 'P0116-00' }],
      log: this.log,
    });
    this.server.start();
  }

  protected override async onDelete(): Promise<void> {
    clearInterval(this.plant);
    this.plant = undefined;
    await this.server?.stop();
    this.transport?.close();
    await super.onDelete();
  }

  /** One plant step: follow the tester's EngineCommand. */
  private step(): void {
    const ignition = this.lastSignal('IgnitionOn')?.label === 'On';
    const target = ignition ? Math.max(IDLE_RPM, this.lastValue('TargetSpeed') ?? IDLE_RPM) : 0;
    const engine = this.engine;
    engine.state = !ignition ? 0 : engine.speed < IDLE_RPM / 2 ? 1 : 2;
    engine.speed += Math.max(-RPM_PER_STEP, Math.min(RPM_PER_STEP, target - engine.speed));
    // The gearbox engages the requested gear once the engine runs.
    if (engine.state === 2) engine.gear = Number(this.lastSignal('TargetGear')?.raw ?? engine.gear);
    if (engine.state === 2 && engine.coolant < 90) engine.coolant += 0.05;
    engine.runHours += STEP_MS / 3_600_000;
    engine.page = 1 - engine.page;
    try {
      this.periodic[0]!.update(this.statusValues());
      this.periodic[2]!.replace(engine.page === 0 ? { DiagPage: 0, OilPressure: engine.state === 2 ? 3.2 : 0, OilTemp: Math.round(engine.coolant) } : { DiagPage: 1, RunHours: Math.round(engine.runHours * 10) / 10 });
    } catch (error) {
      this.log.error({ err: error }, 'ECU simulator: cannot encode its state');
    }
  }

  private statusValues(): Record<string, number> {
    const { speed, gear, state, coolant } = this.engine;
    return { EngineSpeed: speed, GearPosition: gear, EngineState: state, CoolantTemp: Math.round(coolant), Torque: state === 2 ? 85.5 : 0 };
  }
}
