/**
 * The messages between kiso and its Python process (python/kiso_runner.py):
 * one JSON object per line on file descriptor 3. kiso sends commands with
 * an `id` and waits for the reply with that id; Python sends events (log
 * lines, output, assert rows) and auxiliary calls as they happen, and kiso
 * answers each call with a `reply`. Bytes travel as `{ "$bytes": base64 }`.
 */

export type Seconds = number;

/** A Python exception as kiso reports it. */
export interface PythonError {
  type: string;
  message: string;
  traceback?: string;
  /** The suite line it came from. */
  file?: string;
  line?: number;
}

export interface PythonClassRef {
  file: string;
  /** The class name in the module (pykiso's decorator renames it `Name-suite-case`). */
  class: string;
  /** The name the author wrote. */
  name: string;
  line: number | null;
}

/** A suite setup or teardown class (pykiso's BasicTestSuiteSetup / ...Teardown, or the Remote ones). */
export interface PythonSuiteClass extends PythonClassRef {
  /** Its define_test_parameters suite id (0: none). */
  suite_id: number;
  /** A RemoteTestSuiteSetup / RemoteTestSuiteTeardown: its step runs on the device's test app. */
  remote: boolean;
  timeouts: { setup?: Seconds; run?: Seconds; teardown?: Seconds };
  auxiliaries: string[];
}

export interface PythonCase extends PythonClassRef {
  method: string;
  case_id: number;
  /** Its define_test_parameters suite id (0: none). */
  suite_id: number;
  /** A RemoteTest: its steps run on the device's test app. */
  remote: boolean;
  auxiliaries: string[];
  tags: Record<string, string[]>;
  requirements: string[];
  timeouts: { setup?: Seconds; run?: Seconds; teardown?: Seconds };
  skip: string | null;
  doc: string | null;
}

// kiso → Python
export type PythonCommand =
  /** `claimed`: the suite ids other entries of the station give the same folder. */
  | { type: 'discover'; id: number; suite_id: number; suite_dir: string; files: string[]; claimed: number[] }
  | { type: 'suite-step'; id: number; step: 'setup' | 'teardown'; suite_dir: string; file: string; class: string }
  | { type: 'case-step'; id: number; step: 'setup' | 'run' | 'teardown'; suite_dir: string; file: string; class: string; method: string }
  | { type: 'exit'; id: number };

/** A command before the channel gives it its id. */
export type CommandBody = PythonCommand extends infer C ? (C extends { type: 'exit' } ? never : C extends unknown ? Omit<C, 'id'> : never) : never;

export type CallReply = { type: 'reply'; id: number; ok: true; value?: unknown } | { type: 'reply'; id: number; ok: false; error: string };

export type StepOutcome =
  | { outcome: 'passed' }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'failed' | 'error'; error: PythonError };

// Python → kiso
export type Discovered = {
  type: 'discovered';
  id: number;
  cases: PythonCase[];
  setups: PythonSuiteClass[];
  teardowns: PythonSuiteClass[];
  errors: Array<PythonError & { file: string }>;
  /** Classes of a suite id another entry of the station gives the same folder: that entry runs them. */
  ignored: Array<{ class: string; suite_id: number }>;
};

export type StepDone = { type: 'step-done'; id: number } & StepOutcome;

export type PythonEvent =
  | { type: 'ready'; python: string; pid: number }
  | Discovered
  | StepDone
  | { type: 'call'; id: number; aux: string; method: string; args: unknown[]; kwargs: Record<string, unknown> }
  /** Python's `logging`, level as Python's numbers (10 debug ... 50 critical). */
  | { type: 'log'; level: number; logger: string; message: string; file: string; line: number }
  /** print() of a suite, one line. */
  | { type: 'output'; stream: 'stdout' | 'stderr'; text: string }
  /** One assert* call of a test: a step-report row. */
  | { type: 'check'; description: string; operator: string; actual: string | null; expected: string | null; passed: boolean; file: string; line: number; table?: string };

export type PythonReply = Discovered | StepDone;
