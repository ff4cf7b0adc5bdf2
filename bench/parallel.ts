import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { result, type BenchResult } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEVICE = path.join(ROOT, 'examples/templates/simulated_udp_device.ts');
/** Per device: CASES cases of REQUESTS requests each, every answer ANSWER_DELAY_MS late: a 30 s cycle of I/O waiting, as in the 4 devices x 30 s. */
const CASES = 30;
const REQUESTS = 10;
const ANSWER_DELAY_MS = 100;

function station(dir: string, slots: number, basePort: number): string {
  mkdirSync(path.join(dir, 'suite'), { recursive: true });
  writeFileSync(
    path.join(dir, 'suite', 'test_io.ts'),
    `import assert from 'node:assert/strict';
import { defineSuite, type CommunicationAuxiliary } from 'kiso';
const ask = async (dut: CommunicationAuxiliary, command: string) => {
  await dut.send(command);
  const answer = await dut.receive({ timeoutMs: 5000 });
  assert.ok(answer);
  return Buffer.from(answer.data).toString();
};
export default defineSuite({
  auxiliaries: ['dut', 'device'],
  cases: Array.from({ length: ${CASES} }, (_, i) => ({
    name: 'measure ' + i,
    async run(ctx) {
      for (let r = 0; r < ${REQUESTS}; r++) assert.equal(await ask(ctx.aux('dut'), 'VOLT?'), '4.98');
    },
  })),
});
`,
  );
  const duts = Array.from({ length: slots }, (_, i) => `  - { slot: ${i + 1}, serial_number: SIM-${i + 1}, port: ${basePort + i} }`).join('\n');
  const file = path.join(dir, 'station.yaml');
  writeFileSync(
    file,
    `duts:
${duts}
auxiliaries:
  dut:
    connectors: { com: link }
    type: CommunicationAuxiliary
  device:
    connectors: { com: device_port }
    type: ${DEVICE}:SimulatedUdpDevice
    config: { firmware: "1.4.2", answer_delay_ms: ${ANSWER_DELAY_MS} }
connectors:
  link: { type: CCUdp, config: { dest_ip: 127.0.0.1, dest_port: "\${dut.port}" } }
  device_port: { type: CCUdpServer, config: { dest_ip: 127.0.0.1, dest_port: "\${dut.port}" } }
test_suite_list:
  - suite_dir: suite
`,
  );
  // The suite imports 'kiso': resolve it to this checkout.
  mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  spawnSync('ln', ['-sfn', ROOT, path.join(dir, 'node_modules', 'kiso')]);
  return file;
}

/** Wall time of a whole `kiso -c` run (process start to exit) with `slots` simulated devices. */
function cycleSeconds(slots: number): number {
  process.stderr.write(`bench: parallel: ${slots} device(s), about ${(CASES * REQUESTS * ANSWER_DELAY_MS) / 1000} s...\n`);
  const dir = mkdtempSync(path.join(tmpdir(), `kiso-bench-par${slots}-`));
  const file = station(dir, slots, 20000 + Math.floor(Math.random() * 30000));
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [path.join(ROOT, 'dist/src/cli/main.js'), '-c', file, '--no-record', '--log-level', 'warn'], { cwd: dir, encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (run.status !== 0) throw new Error(`kiso with ${slots} slot(s) exited ${run.status}:\n${run.stdout}\n${run.stderr}`);
  const passed = new RegExp(`STATION PASSED: ${slots} of ${slots} device`).test(run.stdout);
  if (!passed) throw new Error(`kiso with ${slots} slot(s) did not pass every device:\n${run.stdout}`);
  return seconds;
}

/** Parallel efficiency: the cycle time of N devices at once over the cycle time of one device alone, in the same run. */
export async function run(): Promise<BenchResult[]> {
  const alone = cycleSeconds(1);
  const results: BenchResult[] = [result('parallel.cycle_1_device', alone, 's', null, { cases: CASES, io_wait_per_device_s: (CASES * REQUESTS * ANSWER_DELAY_MS) / 1000 })];
  for (const slots of [4, 8]) {
    const seconds = cycleSeconds(slots);
    results.push(result(`parallel.cycle_${slots}_devices_over_1`, seconds, 's', alone, { devices: slots, target: 'ratio under 1.05', target_met: seconds / alone < 1.05, sequential_would_be_s: Number((alone * slots).toFixed(1)) }));
  }
  return results;
}
