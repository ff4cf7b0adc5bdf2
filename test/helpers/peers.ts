import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';

/** Debian's Python: python-can and friends belong to it, not to another python3 earlier on PATH. */
export const PYTHON = '/usr/bin/python3';

/** Why python-can cannot be a peer here (to print and skip with), or undefined when it can. */
export function pythonCanMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import can, msgpack'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} cannot run (${probe.error.message})`;
  if (probe.status !== 0) return `${PYTHON} cannot import python-can and msgpack (apt-get install python3-can python3-msgpack): ${probe.stderr.trim().split('\n').pop() ?? ''}`;
  return undefined;
}

/** A UDP port nobody uses now, so parallel test files never share a bus or a socket. */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
