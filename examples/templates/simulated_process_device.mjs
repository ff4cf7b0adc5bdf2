// A stand-in device that is a local program: it prints a boot log, then answers
// one text command per line on stdin (version?, temp?, quit) on stdout, and
// complains on stderr about anything else. examples/templates/process_record.yaml
// runs it through CCProcess.
import { createInterface } from 'node:readline';

const FIRMWARE = process.env.DEVICE_FIRMWARE ?? '1.4.2';
for (const line of ['bootloader ok', `fw ${FIRMWARE}`, 'sensors: 3 found', 'boot complete']) console.log(line);

const commands = createInterface({ input: process.stdin });
commands.on('line', (line) => {
  const command = line.trim();
  if (command === 'version?') console.log(`version ${FIRMWARE}`);
  else if (command === 'temp?') console.log('temp=23');
  else if (command === 'quit') {
    console.log('bye');
    process.exit(0);
  } else console.error(`unknown command: ${command}`);
});
commands.on('close', () => process.exit(0));
