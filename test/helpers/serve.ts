import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, ROOT } from './cli.js';

export interface Served {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Ctrl-C, then the exit code. */
  stop(): Promise<number | null>;
}

/** `kiso serve` on a free port, as an operator would start it; resolves once it listens. */
export function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let listening = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kiso serve did not start:\n${stdout}\n${stderr}`)), 30_000);
    void exited.then((code) => {
      clearTimeout(timer);
      if (!listening) reject(new Error(`kiso serve exited with ${code}:\n${stdout}\n${stderr}`));
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /kiso serve: (http:\/\/\S+\/)/.exec(stdout);
      if (!match || listening) return;
      listening = true;
      clearTimeout(timer);
      resolve({
        url: match[1]!,
        child,
        output: () => stdout + stderr,
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
          return exited;
        },
      });
    });
  });
}
