import assert from 'node:assert/strict';
import { defineSuite, processOutput, type CommunicationAuxiliary, type ProcessOutput, type RecordAuxiliary } from 'kiso';

/** The device's next message, as pykiso's dict: {stdout: line}, {stderr: line} or {exit: code}. */
async function next(device: CommunicationAuxiliary): Promise<ProcessOutput | undefined> {
  const message = await device.receive({ timeoutMs: 5000 });
  assert.ok(message, 'the device said nothing within 5 s');
  return processOutput(message);
}

export default defineSuite({
  name: 'a local program as the device',
  auxiliaries: ['device', 'record_aux'],
  cases: [
    {
      id: 1,
      name: 'the boot log is recorded',
      async run(ctx) {
        const record = ctx.aux<RecordAuxiliary>('record_aux');
        await record.waitForMessageInLog('boot complete', { timeoutMs: 5000 });
        assert.deepEqual(await record.searchRegexCurrentString('^fw (\\S+)$'), ['1.4.2']);
      },
    },
    {
      id: 2,
      name: 'it answers on stdin, and complains on stderr',
      async run(ctx) {
        const device = ctx.aux<CommunicationAuxiliary>('device');
        device.clearBuffer(); // the boot log, which case 1 read from the record
        await device.send('temp?\n');
        assert.deepEqual(await next(device), { stdout: 'temp=23\n' });
        await device.send('reboot\n');
        assert.deepEqual(await next(device), { stderr: 'unknown command: reboot\n' });
        const record = ctx.aux<RecordAuxiliary>('record_aux');
        await record.waitForMessageInLog('unknown command: reboot', { timeoutMs: 5000 });
      },
    },
    {
      id: 3,
      name: 'it exits with code 0 on quit, and the log is dumped',
      async run(ctx) {
        const device = ctx.aux<CommunicationAuxiliary>('device');
        await device.send('quit\n');
        assert.deepEqual(await next(device), { stdout: 'bye\n' });
        assert.deepEqual(await next(device), { exit: 0 });
        const record = ctx.aux<RecordAuxiliary>('record_aux');
        await record.waitForMessageInLog('bye', { fromCursor: false, timeoutMs: 5000 });
        assert.equal(await record.dumpToFile(), true);
      },
    },
  ],
});
