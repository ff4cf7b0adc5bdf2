import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CLI, ROOT, runCli } from '../helpers/cli.js';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'kiso-proc-'));
const canPort = (): string => String(44000 + Math.floor(Math.random() * 10000));

/** Host pids the suites logged (`hostPid=`), from the console lines. */
function hostPids(output: string): number[] {
  return [...output.matchAll(/hostPid=(\d+)/g)].map((match) => Number(match[1]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('processing: true', () => {
  it('runs the same suite with the proxy in this process and in its own process', async () => {
    for (const yaml of ['examples/templates/proxy_aux.yaml', 'examples/templates/mp_proxy_aux.yaml']) {
      const result = await runCli(['-c', yaml], { env: { KISO_CAN_PORT: canPort() } });
      assert.equal(result.code, 0, `${yaml}\n${result.stdout}${result.stderr}`);
      assert.match(result.stdout, /PASSED: 3 passed, 0 failed/);
    }
  });

  it('runs the UDP example with both connectors in host processes, unchanged suite', async () => {
    const result = await runCli(['-c', 'test/fixtures/valid/udp_processing.yaml'], { env: { KISO_UDP_PORT: String(41000 + Math.floor(Math.random() * 9000)) } });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /PASSED: 2 passed/);
  });

  it('a killed host errors the case using it (naming the auxiliary and the signal), the run goes on, logs reach the case, no host outlives kiso', async () => {
    const junit = path.join(tmp(), 'junit.xml');
    const result = await runCli(['-c', 'test/fixtures/valid/processing.yaml', '--junit', junit]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /ERROR +\[1\.1\] the host process is killed mid-case[^\n]*\n +KisoError: the process of auxiliary "victim" \(pid \d+\) was killed by SIGKILL/);
    assert.match(result.stdout, /PASS +\[1\.2\] a local auxiliary still works/);
    assert.match(result.stdout, /PASS +\[1\.3\] the killed auxiliary restarts/);
    assert.match(result.stdout, /PASS +\[1\.1\] the host's log lines land in this case/);
    const xml = readFileSync(junit, 'utf8');
    assert.match(xml, /name="\[1\.1\] the host&apos;s log lines land in this case"|name="\[1\.1\] the host's log lines land in this case"/);
    const chattyCase = xml.slice(xml.indexOf('log lines land in this case'));
    assert.match(chattyCase.slice(0, chattyCase.indexOf('</testcase>')), /<system-out>[^<]*hello from the host process/);
    const pids = hostPids(result.stderr);
    assert.ok(pids.length >= 3, `expected host pids in the log, got ${pids.join(',')}`);
    for (const pid of pids) assert.equal(alive(pid), false, `host process ${pid} outlived kiso`);
  });

  it('the MP proxy process killed: the waiting case errors naming it, the other suites go on', async () => {
    const result = await runCli(['-c', 'test/fixtures/valid/mp_crash.yaml']);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /ERROR +\[1\.2\] the proxy process dies while aux1 waits[^\n]*\n[^\n]*auxiliary "aux1": connector "proxy_com1" failed: the process of auxiliary "proxy_aux" \(pid \d+\) was killed by SIGKILL/);
    assert.match(result.stdout, /PASS +\[1\.1\] a local auxiliary works/);
    for (const pid of hostPids(result.stderr)) assert.equal(alive(pid), false);
  });
});

/** Starts kiso on hang.yaml and resolves once its case waits; `detached` puts it in its own process group, as a terminal would. */
function startHanging(junit: string) {
  const child = spawn(process.execPath, [CLI, '-c', 'test/fixtures/valid/hang.yaml', '--junit', junit], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const waiting = new Promise<void>((resolve) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('WAITING-FOR-SIGNAL')) resolve();
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return { child, waiting, exited: exited.finally(() => clearTimeout(guard)), output: () => ({ stdout, stderr }) };
}

describe('stopping kiso', () => {
  for (const [signal, how] of [['SIGTERM', 'to kiso'], ['SIGINT', 'to the whole process group, as Ctrl-C does'], ['SIGHUP', 'to the whole process group, as a closed terminal or SSH session does']] as const) {
    it(`${signal} ${how}: the running case errors, the rest is skipped, reports are written, no host survives`, async () => {
      const junit = path.join(tmp(), 'junit.xml');
      const run = startHanging(junit);
      await run.waiting;
      if (signal === 'SIGINT' || signal === 'SIGHUP') process.kill(-run.child.pid!, signal);
      else run.child.kill('SIGTERM');
      const code = await run.exited;
      const { stdout, stderr } = run.output();
      assert.equal(code, 1, stdout + stderr);
      assert.match(stdout, /PASS +\[1\.1\] passes first/);
      assert.match(stdout, /ERROR +\[1\.2\] waits for a signal[^\n]*\n[^\n]*was interrupted/);
      assert.match(stdout, /SKIP +\[1\.3\] never runs/);
      assert.match(stdout, /INTERRUPTED: 1 passed, 0 failed, 1 errors, 1 skipped/);
      assert.match(readFileSync(junit, 'utf8'), /tests="3" failures="0" errors="1" skipped="1"/);
      assert.match(stdout, /Run record: [^\n]*\(kiso runs show /);
      const pids = hostPids(stderr);
      assert.equal(pids.length, 1);
      assert.equal(alive(pids[0]!), false, 'the host process outlived kiso');
    });
  }
});
