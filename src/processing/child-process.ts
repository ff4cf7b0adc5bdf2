import { fork, type ChildProcess, type Serializable } from 'node:child_process';

/**
 * What every child kiso forks (auxiliary hosts, fixture slot workers) has in
 * common: it is killed if kiso exits before it, and its channel can never
 * take kiso down. A child that dies is told by its 'exit' (what it was doing
 * fails); a write to it in the moment between its death and that exit fails
 * with EPIPE, which Node raises as an 'error' event when nobody listens, and
 * an unhandled 'error' ends the main process (kiso serve) or is charged to an
 * innocent running case (kiso -c).
 */

/** Every child alive, so that nothing outlives kiso even when it exits abruptly. */
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** Registers a child process to be killed if kiso exits before it. */
function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/**
 * Forks a kiso child entry with an IPC channel (advanced serialization: typed
 * arrays cross as they are), tracked, its stdout and stderr kiso's own.
 * `onError` hears a failed write or kill: the exit that follows is what counts.
 */
export function forkChild(file: string, execArgv: string[], onError: (error: Error) => void): ChildProcess {
  const child = fork(file, [], { serialization: 'advanced', execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  trackChild(child);
  child.on('error', onError);
  return child;
}

/** Sends a message if the child's channel is open; one it can no longer take goes to `onUndelivered`, never to an 'error' event. */
export function sendToChild(child: ChildProcess, message: Serializable, onUndelivered: (error: Error) => void): void {
  if (!child.connected) return;
  child.send(message, (error) => {
    if (error) onUndelivered(error);
  });
}
