/**
 * Baseline child for the proxy benchmark: builds the same frames as the
 * FrameSourceConnector and sends them packed in the same batches, with
 * nothing of kiso in between, as fast as process.send allows.
 */
import { packMessages } from '../src/processing/frame-pack.js';
import type { Message } from '../src/core/message.js';

process.on('message', async (request: { frames: number; batch: number }) => {
  let batch: Message[] = [];
  for (let i = 0; i < request.frames; i++) {
    const data = new Uint8Array(8);
    data[0] = i & 0xff;
    data[1] = (i >> 8) & 0xff;
    data[2] = (i >> 16) & 0xff;
    batch.push({ data, timestamp: 1_700_000_000 + i / 1e6, can: { id: 0x100, extended: false, remote: false, fd: false, brs: false, esi: false } });
    if (batch.length === request.batch || i === request.frames - 1) {
      process.send!({ batch: packMessages(batch) });
      batch = [];
    }
    if ((i & 2047) === 2047) await new Promise((resolve) => setImmediate(resolve));
  }
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
