import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { canFrame } from '../../src/can/frame.js';
import { createLogger } from '../../src/core/logging.js';
import { VirtualCanConnector, encodeFrame } from '../../src/connectors/virtual-can.js';

// Issue 17: the kernel drops datagrams when the receiving socket's buffer is full; kiso must say so, with the count.
const linux = process.platform === 'linux';

/** Another process floods the bus with `count` frames as fast as it can. */
function flood(port: number, count: number): Promise<void> {
  const datagram = Buffer.from(encodeFrame(canFrame({ id: 0x123, data: [1, 2, 3, 4, 5, 6, 7, 8] }), '239.74.163.2', 0)).toString('base64');
  const script = `const s=require('dgram').createSocket('udp4');const d=Buffer.from('${datagram}','base64');s.bind(0,'127.0.0.1',()=>{s.setMulticastInterface('127.0.0.1');s.setMulticastLoopback(true);let left=${count};const go=()=>{for(let i=0;i<500&&left>0;i++,left--)s.send(d,${port},'239.74.163.2');if(left>0)setImmediate(go);else s.close();};go();});`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`flooder exited ${code}`))));
  });
}

describe('virtual CAN: kernel drops on the receiving socket', { skip: !linux && 'reads /proc/net/udp (Linux only)' }, () => {
  it('are counted from the socket\'s drop counter and warned with the count; receive_buffer_bytes sets the buffer', async () => {
    const port = 45000 + Math.floor(Math.random() * 10000);
    const lines: string[] = [];
    const { logger } = createLogger({ level: 'info', capture: (line) => lines.push(line) });
    const connector = new VirtualCanConnector({ channel: '239.74.163.2', port, receive_buffer_bytes: 4096 } as never, { name: 'bus', log: logger, baseDir: process.cwd() });
    await connector.open();
    try {
      assert.equal(connector.kernelDropped, 0);
      let received = 0;
      connector.attach(() => received++);
      // This process does not read while the flood arrives: the small buffer overflows.
      const flooding = flood(port, 20_000);
      const blockedUntil = Date.now() + 1500;
      while (Date.now() < blockedUntil);
      await flooding;
      await new Promise((resolve) => setTimeout(resolve, 100));
      const dropped = connector.checkKernelDrops();
      assert.ok(dropped !== undefined && dropped > 0, `no drops counted (received ${received})`);
      assert.ok(received + dropped! <= 20_000);
      const warning = lines.find((line) => line.includes('the kernel dropped'));
      assert.ok(warning, lines.join('\n'));
      assert.match(warning!, new RegExp(`dropped ${dropped} frame\\(s\\)`));
      assert.match(warning!, /receive_buffer_bytes/);
      // Nothing new: no second warning.
      connector.checkKernelDrops();
      assert.equal(lines.filter((line) => line.includes('the kernel dropped')).length, 1);
    } finally {
      await connector.close();
    }
  });
});
