import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Auxiliary, type AuxiliaryContext } from '../core/auxiliary.js';
import { describeError, KisoError } from '../core/errors.js';
import { nowSeconds, type Message } from '../core/message.js';

export interface RecordAuxiliaryConfig {
  /** pykiso: poll the connector in a thread of its own. kiso's connectors push what they receive, so recording needs no polling: accepted, no effect. */
  is_active?: boolean;
  /** pykiso: the poll's receive timeout in seconds. Accepted, no effect (nothing polls). */
  timeout?: number;
  /** Folder of dump_to_file and search_regex_in_file / _in_folder (the schema resolves it against the YAML's folder; default: the YAML's folder). */
  log_folder_path?: string;
  /** Most characters kept in the log; past it the oldest messages are dropped (and counted). pykiso: 5e7, and it only logs an error. */
  max_file_size?: number;
  /** kiso's addition: most messages kept; past it the oldest are dropped (and counted). */
  max_entries?: number;
  /** pykiso: deprecated, not taken into account. The same here (`processing: true` runs an auxiliary in its own process). */
  multiprocess?: boolean;
  /** Do not start recording when the auxiliary starts; `startRecording()` does. */
  manual_start_record?: boolean;
  /** kiso's addition: the file `dumpToFile()` writes when it is given no name. */
  log_file_name?: string;
}

/** The first line of a recording, as pykiso writes it. */
export const LOG_HEADER = 'Received data :';
export const DEFAULT_MAX_FILE_SIZE = 50_000_000;
export const DEFAULT_MAX_ENTRIES = 1_000_000;
export const DEFAULT_WAIT_TIMEOUT_MS = 10_000;

/** One recorded message. */
export interface RecordEntry {
  /** Position in the recording: 0 for the first message after a start or clear, counting on (dropped ones included). */
  seq: number;
  /** When it was received, seconds since the Unix epoch (the connector's timestamp, else the time it was recorded). */
  timestamp: number;
  /** The message as a line of the log: the CAN id first (pykiso's remote_id) for CAN frames, then the data decoded as UTF-8, or in hex when it is not UTF-8. */
  line: string;
  /** The connector's channel (CCProcess: stdout, stderr, exit). */
  channel?: string;
  /** The CAN id of a CAN frame. */
  source?: number;
}

export interface LogQueryOptions {
  /** Only what came after the cursor (default true), or the whole log. */
  fromCursor?: boolean;
  /** Move the cursor to the end of the log (default true). */
  setCursor?: boolean;
  /** Log what was read at info level (default false). */
  displayLog?: boolean;
}

export interface WaitForMessageOptions extends LogQueryOptions {
  /** How long to wait, in milliseconds (default 10000; pykiso's timeout is 10 s). */
  timeoutMs?: number;
  /** Throw when the message did not come (default true); else warn and resolve false. */
  exceptionOnFailure?: boolean;
}

export interface DumpOptions {
  /** 'w' / 'w+' (default) replace the file, 'a' / 'a+' append to it. */
  mode?: 'w' | 'w+' | 'a' | 'a+';
  /** Write this text instead of the log. */
  data?: string;
  /** kiso's addition: each message's line begins with its receive time, `(1700000000.123456) `. */
  timestamps?: boolean;
}

/** What re.findall returns: whole matches, or the group of a one-group pattern, or every group's text for several. */
export type RegexMatches = string[] | string[][];

interface Chunk {
  seq: number;
  timestamp: number;
  /** What it adds to the log text: "\n" and its line, or setData()'s text as given. */
  text: string;
  line: string;
  channel?: string;
  source?: number;
}

interface Waiter {
  check(): void;
}

/**
 * pykiso's RecordAuxiliary: records everything its `com` connector
 * receives, as text, and lets a test look into it: `isMessageInLog`,
 * `waitForMessageInLog`, `searchRegexCurrentString`, `newLog` (what came
 * since the cursor), `dumpToFile`, and searches in log files
 * (`searchRegexInFile`, `searchRegexInFolder`).
 *
 * The log is pykiso's text: "Received data :", then each message on a line
 * of its own (one trailing newline of the message is not doubled). Every
 * message is also kept with its receive time (`entries()`).
 *
 * Bounded: past `max_file_size` characters or `max_entries` messages, the
 * oldest messages are dropped (a ring: the newest are always kept), counted
 * in `droppedCount` and logged on the first drop and every 1000th; the
 * cursor never points at dropped text.
 *
 * Recording starts with the auxiliary (unless `manual_start_record`) and
 * stops with it; the log stays readable after a stop, and `startRecording()`
 * begins a fresh one (as pykiso, it clears the log).
 */
export class RecordAuxiliary extends Auxiliary<RecordAuxiliaryConfig> {
  static override connectorRoles = ['com'] as const;

  private chunks: Chunk[] = [];
  private head = 0;
  private nextSeq = 0;
  private size = 0;
  private hasHeader = false;
  private cursor = { pastHeader: false, seq: 0 };
  private recording = false;
  private waiters = new Set<Waiter>();
  private checkScheduled = false;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  /** Messages dropped because the log was full. */
  droppedCount = 0;

  constructor(config: RecordAuxiliaryConfig, context: AuxiliaryContext) {
    super(config, context);
    if (config.multiprocess) {
      this.log.info({ auxiliary: this.name }, `auxiliary ${this.name}: multiprocess is deprecated in pykiso and not taken into account; processing: true beside config runs an auxiliary in its own process`);
    }
  }

  private get maxFileSize(): number {
    return this.config.max_file_size ?? DEFAULT_MAX_FILE_SIZE;
  }

  private get maxEntries(): number {
    return this.config.max_entries ?? DEFAULT_MAX_ENTRIES;
  }

  /** The folder of dumps and file searches. */
  get logFolderPath(): string {
    return path.resolve(this.baseDir, this.config.log_folder_path ?? '');
  }

  get isRecording(): boolean {
    return this.recording;
  }

  // ---- recording --------------------------------------------------------

  /** Clears the log and starts recording (nothing happens when already recording). */
  startRecording(): void {
    if (this.recording) return;
    this.clearBuffer();
    this.hasHeader = true;
    this.recording = true;
    this.log.debug({ auxiliary: this.name }, 'recording started');
  }

  /** Stops recording; the log stays as it is. */
  stopRecording(): void {
    if (!this.recording) return;
    this.recording = false;
    this.log.debug({ auxiliary: this.name, messages: this.chunks.length - this.head, dropped: this.droppedCount }, 'recording stopped');
  }

  /** Empties the log (header included, as pykiso) and puts the cursor at its start. */
  clearBuffer(): void {
    this.chunks = [];
    this.head = 0;
    this.size = 0;
    this.hasHeader = false;
    this.cursor = { pastHeader: false, seq: this.nextSeq };
  }

  // ---- reading ----------------------------------------------------------

  /** The whole log as text. */
  getData(): string {
    return this.textFrom(false, this.firstSeq);
  }

  /** Appends text to the log as it is (pykiso's set_data). */
  setData(data: string): void {
    if (typeof data !== 'string') throw new KisoError('KISO_AUX_COMMAND', `auxiliary "${this.name}": setData takes text, got ${typeof data}`);
    if (data !== '') this.add({ text: data, line: data, timestamp: nowSeconds() });
  }

  /** True when the log holds nothing but its header. */
  isLogEmpty(): boolean {
    return this.size === 0;
  }

  /** What came after the cursor, and the cursor moves to the end. */
  newLog(): string {
    return this.logQuery({ fromCursor: true, setCursor: true });
  }

  /** What came after the cursor; the cursor stays. */
  previousLog(): string {
    return this.logQuery({ fromCursor: true, setCursor: false });
  }

  /** Whether `message` (text, or a RegExp: kiso's addition) is in the log after the cursor (or in all of it); moves the cursor by default. */
  isMessageInLog(message: string | RegExp, options: LogQueryOptions = {}): boolean {
    return contains(this.logQuery(options), message);
  }

  /** Whether `message` is anywhere in the log; the cursor stays. */
  isMessageInFullLog(message: string | RegExp): boolean {
    return contains(this.getData(), message);
  }

  /**
   * Resolves true once `message` is in the log after the cursor (or in all
   * of it with fromCursor: false), looking again at every message that
   * arrives; after `timeoutMs` (default 10000) throws KISO_AUX_COMMAND, or
   * resolves false with exceptionOnFailure: false. The cursor moves to the
   * end when found (setCursor, default true).
   */
  async waitForMessageInLog(message: string | RegExp, options: WaitForMessageOptions = {}): Promise<boolean> {
    this.ensureRunning('waitForMessageInLog');
    if (typeof message !== 'string' && !(message instanceof RegExp)) {
      throw new KisoError('KISO_AUX_COMMAND', `auxiliary "${this.name}": waitForMessageInLog takes text or a RegExp, got ${typeof message}`);
    }
    const { fromCursor = true, setCursor = true, displayLog = false, exceptionOnFailure = true } = options;
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    const start = fromCursor ? { ...this.cursor } : { pastHeader: false, seq: this.firstSeq };
    const found = (): boolean => contains(this.textFrom(start.pastHeader, start.seq), message);
    const finish = (): true => {
      const text = this.textFrom(start.pastHeader, start.seq);
      if (displayLog && text) this.log.info({ auxiliary: this.name }, text);
      if (setCursor) this.cursor = { pastHeader: true, seq: this.nextSeq };
      return true;
    };
    if (found()) return finish();
    const started = Date.now();
    const outcome = await new Promise<'found' | 'timeout' | 'stopped'>((resolve) => {
      const waiter: Waiter = {
        check: () => {
          if (!this.isRunning) done('stopped');
          else if (found()) done('found');
        },
      };
      const timer = setTimeout(() => done('timeout'), timeoutMs);
      const done = (result: 'found' | 'timeout' | 'stopped'): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(result);
      };
      this.waiters.add(waiter);
    });
    if (outcome === 'found') return finish();
    const what = typeof message === 'string' ? JSON.stringify(message) : String(message);
    const why = outcome === 'stopped'
      ? `auxiliary "${this.name}" stopped while waiting for ${what} in its log`
      : `${what} did not show up in the log of "${this.name}" within ${timeoutMs} ms (waited ${((Date.now() - started) / 1000).toFixed(1)} s)`;
    if (exceptionOnFailure) throw new KisoError('KISO_AUX_COMMAND', why);
    this.log.warn({ auxiliary: this.name }, why);
    return false;
  }

  /** Every match of `regex` in the log, as Python's re.findall with re.MULTILINE. */
  searchRegexCurrentString(regex: string | RegExp): RegexMatches {
    return findAll(this.pattern(regex), this.getData());
  }

  /** Every match of `regex` in a file of log_folder_path; undefined when there is no such file (pykiso's None). */
  async searchRegexInFile(regex: string | RegExp, filename: string): Promise<RegexMatches | undefined> {
    const pattern = this.pattern(regex);
    const file = path.resolve(this.logFolderPath, requireName(this.name, filename, 'searchRegexInFile'));
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      this.log.error({ auxiliary: this.name }, `no such file ${file} (${describeError(error)})`);
      return undefined;
    }
    return findAll(pattern, text);
  }

  /** The matches of `regex` in every file of log_folder_path, by file name; throws when the folder does not exist. */
  async searchRegexInFolder(regex: string | RegExp): Promise<Record<string, RegexMatches>> {
    const pattern = this.pattern(regex);
    const folder = this.logFolderPath;
    let names: Array<{ name: string; isFile(): boolean }>;
    try {
      names = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      throw new KisoError('KISO_AUX_COMMAND', `auxiliary "${this.name}": log folder ${folder} cannot be read: ${describeError(error)}`, { cause: error });
    }
    const found: Record<string, RegexMatches> = {};
    for (const entry of names.filter((entry) => entry.isFile()).sort((a, b) => a.name.localeCompare(b.name))) {
      found[entry.name] = findAll(pattern, await readFile(path.join(folder, entry.name), 'utf8'));
    }
    return found;
  }

  /**
   * Writes the log (or `data`) to `filename` in log_folder_path (default:
   * log_file_name), creating folders; false, with a warning, when there is
   * nothing to write.
   */
  async dumpToFile(filename?: string, options: DumpOptions = {}): Promise<boolean> {
    const name = requireName(this.name, filename ?? this.config.log_file_name, 'dumpToFile', 'give a file name, or set log_file_name');
    const mode = options.mode ?? 'w+';
    if (!['w', 'w+', 'a', 'a+'].includes(mode)) {
      throw new KisoError('KISO_AUX_COMMAND', `auxiliary "${this.name}": dumpToFile mode must be w, w+, a or a+, got ${JSON.stringify(mode)}`);
    }
    const { data } = options;
    if (data !== undefined && typeof data !== 'string') throw new KisoError('KISO_AUX_COMMAND', `auxiliary "${this.name}": dumpToFile data must be text, got ${typeof data}`);
    if ((data === undefined && this.isLogEmpty()) || data === '') {
      this.log.warn({ auxiliary: this.name }, `auxiliary ${this.name}: the log is empty, nothing dumped to ${name}`);
      return false;
    }
    const file = path.resolve(this.logFolderPath, name);
    const text = data ?? (options.timestamps ? this.timestampedText() : this.getData());
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await (mode.startsWith('a') ? appendFile(file, text) : writeFile(file, text));
    } catch (error) {
      throw new KisoError('KISO_AUX_COMMAND', `auxiliary "${this.name}" cannot write ${file}: ${describeError(error)}`, { cause: error });
    }
    this.log.info({ auxiliary: this.name }, `log written in ${file}`);
    return true;
  }

  /** The position of the next message: `entries(mark)` later gives what came after it. */
  mark(): number {
    return this.nextSeq;
  }

  /** The recorded messages with their receive times, all of them or those from `since` (a `mark()`) on. */
  entries(since = 0): RecordEntry[] {
    const out: RecordEntry[] = [];
    for (let i = this.indexOf(since); i < this.chunks.length; i++) {
      const { seq, timestamp, line, channel, source } = this.chunks[i]!;
      out.push({ seq, timestamp, line, ...(channel !== undefined ? { channel } : {}), ...(source !== undefined ? { source } : {}) });
    }
    return out;
  }

  // ---- auxiliary contract ------------------------------------------------

  protected override async onCreate(): Promise<void> {
    if (!this.config.manual_start_record) this.startRecording();
  }

  protected override async onDelete(): Promise<void> {
    this.stopRecording();
    this.wakeWaiters();
  }

  protected override onConnectorFault(): void {
    this.wakeWaiters();
  }

  protected override onMessage(message: Message): void {
    if (!this.recording) return;
    const data = message.data;
    if (!(data instanceof Uint8Array) || data.length === 0) return; // pykiso records only messages with data
    const source = message.can?.id;
    const line = (source !== undefined ? `${source}    ` : '') + this.decode(data).replace(/\r?\n$/, '');
    this.add({
      text: `\n${line}`,
      line,
      timestamp: typeof message.timestamp === 'number' ? message.timestamp : nowSeconds(),
      ...(typeof message.channel === 'string' ? { channel: message.channel } : {}),
      ...(source !== undefined ? { source } : {}),
    });
  }

  // ---- inside -------------------------------------------------------------

  private get firstSeq(): number {
    return this.head < this.chunks.length ? this.chunks[this.head]!.seq : this.nextSeq;
  }

  private indexOf(seq: number): number {
    return this.head + Math.max(0, Math.min(seq - this.firstSeq, this.chunks.length - this.head));
  }

  private textFrom(pastHeader: boolean, seq: number): string {
    let text = this.hasHeader && !pastHeader ? LOG_HEADER : '';
    for (let i = this.indexOf(seq); i < this.chunks.length; i++) text += this.chunks[i]!.text;
    return text;
  }

  private timestampedText(): string {
    let text = this.hasHeader ? LOG_HEADER : '';
    for (let i = this.head; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      text += chunk.text.startsWith('\n') ? `\n(${chunk.timestamp.toFixed(6)}) ${chunk.line}` : chunk.text;
    }
    return text;
  }

  private logQuery({ fromCursor = true, setCursor = true, displayLog = false }: LogQueryOptions): string {
    const output = fromCursor ? this.textFrom(this.cursor.pastHeader, this.cursor.seq) : this.getData();
    if (setCursor) this.cursor = { pastHeader: true, seq: this.nextSeq };
    if (displayLog && output) this.log.info({ auxiliary: this.name }, output);
    return output;
  }

  private decode(data: Uint8Array): string {
    try {
      return this.decoder.decode(data);
    } catch {
      return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex');
    }
  }

  private add(chunk: Omit<Chunk, 'seq'>): void {
    let text = chunk.text;
    if (text.length > this.maxFileSize) text = text.slice(text.length - this.maxFileSize); // one message bigger than the whole log: its end is kept
    this.chunks.push({ ...chunk, text, seq: this.nextSeq++ });
    this.size += text.length;
    while (this.chunks.length - this.head > 1 && (this.size > this.maxFileSize || this.chunks.length - this.head > this.maxEntries)) {
      const dropped = this.chunks[this.head]!;
      this.chunks[this.head] = undefined as unknown as Chunk;
      this.head++;
      this.size -= dropped.text.length;
      this.droppedCount++;
      if (this.droppedCount === 1 || this.droppedCount % 1000 === 0) {
        this.log.warn({ auxiliary: this.name, dropped: this.droppedCount, max_file_size: this.maxFileSize, max_entries: this.maxEntries }, `log of "${this.name}" is full: dropping the oldest messages`);
      }
    }
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    this.scheduleCheck();
  }

  private scheduleCheck(): void {
    if (this.waiters.size === 0 || this.checkScheduled) return;
    // Once per burst of messages, not once per message: a chatty device cannot make a wait quadratic.
    this.checkScheduled = true;
    setImmediate(() => {
      this.checkScheduled = false;
      for (const waiter of [...this.waiters]) waiter.check();
    });
  }

  private wakeWaiters(): void {
    for (const waiter of [...this.waiters]) waiter.check();
  }

  private pattern(regex: string | RegExp): RegExp {
    try {
      return toRegExp(regex);
    } catch (error) {
      throw new KisoError('KISO_AUX_COMMAND', `auxiliary "${this.name}": ${describeError(error)}`, { cause: error });
    }
  }
}

function requireName(auxiliary: string, name: unknown, verb: string, hint = 'give a file name'): string {
  if (typeof name !== 'string' || name === '') throw new KisoError('KISO_AUX_COMMAND', `auxiliary "${auxiliary}": ${verb} needs a file name (${hint})`);
  return name;
}

function contains(text: string, message: string | RegExp): boolean {
  if (typeof message === 'string') return text.includes(message);
  const probe = new RegExp(message.source, message.flags.replace(/[gy]/g, ''));
  return probe.test(text);
}

/**
 * A pattern as pykiso's `re` reads it, in JavaScript: a string gets
 * re.MULTILINE, (?P<name>...) and (?P=name) become JavaScript's named
 * groups, and leading inline flags (?i), (?s), (?m) become flags; a RegExp
 * keeps its flags, plus 'g'.
 */
export function toRegExp(regex: string | RegExp): RegExp {
  if (regex instanceof RegExp) return new RegExp(regex.source, regex.flags.includes('g') ? regex.flags : `${regex.flags}g`);
  if (typeof regex !== 'string') throw new TypeError(`a regular expression must be text or a RegExp, got ${typeof regex}`);
  let source = regex;
  const flags = new Set(['g', 'm']);
  const inline = /^\(\?([aiLmsux]+)\)/.exec(source);
  if (inline) {
    for (const flag of inline[1]!) {
      if (flag === 'i' || flag === 's' || flag === 'm') flags.add(flag);
      else if (flag !== 'a' && flag !== 'u') throw new SyntaxError(`invalid regular expression ${JSON.stringify(regex)}: inline flag (?${flag}) has no JavaScript equivalent`);
    }
    source = source.slice(inline[0].length);
  }
  source = source.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  try {
    return new RegExp(source, [...flags].join(''));
  } catch (error) {
    throw new SyntaxError(`invalid regular expression ${JSON.stringify(regex)}: ${describeError(error)}`);
  }
}

/** Python's re.findall: whole matches without groups, the group with one, every group (unmatched ones as '') with several. */
export function findAll(pattern: RegExp, text: string): RegexMatches {
  const matches = [...text.matchAll(pattern)];
  if (matches.length === 0) return [];
  const groups = matches[0]!.length - 1;
  if (groups === 0) return matches.map((match) => match[0]);
  if (groups === 1) return matches.map((match) => match[1] ?? '');
  return matches.map((match) => match.slice(1).map((group) => group ?? ''));
}
