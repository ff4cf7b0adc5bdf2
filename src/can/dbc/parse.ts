import { readFileSync } from 'node:fs';
import { bytesNeeded, signalSegments } from './codec.js';
import { DbcError, type DbcDatabase, type DbcMessage, type DbcSignal } from './types.js';

/**
 * A DBC (Vector CANdb) parser. It reads the parts a test needs (messages,
 * signals, multiplexing including SG_MUL_VAL_, value tables, float types,
 * comments, GenMsgCycleTime, GenSigStartValue, VFrameFormat) and skips the
 * other sections it knows. Anything it cannot read is an error naming the
 * file and line; references to messages or signals that do not exist are
 * collected as warnings, as real-world DBCs often carry a few.
 */

interface Token {
  kind: 'ident' | 'number' | 'string' | 'punct';
  text: string;
  line: number;
  column: number;
}

const PUNCT = new Set([':', ';', '|', '@', '(', ')', '[', ']', ',', '+', '-']);
const NUMBER = /[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  const length = text.length;
  while (i < length) {
    const ch = text[i]!;
    if (ch === '\n') {
      line++;
      i++;
      lineStart = i;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f' || ch === '\v' || ch === '\ufeff') {
      i++;
      continue;
    }
    const column = i - lineStart + 1;
    if (ch === '/' && text[i + 1] === '/') {
      while (i < length && text[i] !== '\n') i++;
      continue;
    }
    if (ch === '"') {
      const startLine = line;
      let value = '';
      i++;
      for (;;) {
        if (i >= length) throw new DbcError(file, startLine, column, 'text opened with " is never closed');
        const c = text[i]!;
        if (c === '\\' && i + 1 < length) {
          value += text[i + 1]!;
          if (text[i + 1] === '\n') {
            line++;
            lineStart = i + 2;
          }
          i += 2;
          continue;
        }
        if (c === '"') {
          i++;
          break;
        }
        if (c === '\n') {
          line++;
          lineStart = i + 1;
        }
        value += c;
        i++;
      }
      tokens.push({ kind: 'string', text: value, line: startLine, column });
      continue;
    }
    const startsNumber = (ch >= '0' && ch <= '9') || ((ch === '-' || ch === '+' || ch === '.') && /[\d.]/.test(text[i + 1] ?? ''));
    if (startsNumber) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (match) {
        tokens.push({ kind: 'number', text: match[0], line, column });
        i += match[0].length;
        continue;
      }
    }
    IDENT.lastIndex = i;
    const ident = IDENT.exec(text);
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0], line, column });
      i += ident[0].length;
      continue;
    }
    if (PUNCT.has(ch)) {
      tokens.push({ kind: 'punct', text: ch, line, column });
      i++;
      continue;
    }
    throw new DbcError(file, line, column, `unexpected character "${ch}"`);
  }
  return tokens;
}

/** Sections the parser knows and skips (each ends with ";"). */
const SKIPPED = new Set([
  'BO_TX_BU_', 'EV_', 'ENVVAR_DATA_', 'SGTYPE_', 'SGTYPE_VAL_', 'SIG_GROUP_', 'SIG_TYPE_REF_', 'SIGTYPE_VALTYPE_', 'BA_DEF_SGTYPE_', 'BA_SGTYPE_',
  'BA_DEF_REL_', 'BA_REL_', 'BA_DEF_DEF_REL_', 'BU_SG_REL_', 'BU_EV_REL_', 'BU_BO_REL_', 'CAT_DEF_', 'CAT_', 'FILTER', 'EV_DATA_',
]);
const NEW_SYMBOLS_END = new Set(['BS_', 'BU_', 'BO_', 'VAL_TABLE_', 'CM_', 'BA_DEF_', 'VAL_', 'SG_', 'EV_', 'SIG_VALTYPE_']);

interface AttributeDefinition {
  objectType: 'network' | 'BU_' | 'BO_' | 'SG_' | 'EV_';
  valueType: string;
  enumValues: string[];
  default?: string | number;
  defaultLine?: number;
}

interface PendingSignal {
  signal: DbcSignal;
  muxIndicator?: string;
}

interface PendingMessage {
  message: DbcMessage;
  signals: PendingSignal[];
  skipped: boolean;
}

const EXTENDED_FLAG = 0x80000000;
const INDEPENDENT_SIGNALS_MESSAGE = 'VECTOR__INDEPENDENT_SIG_MSG';

class Parser {
  private pos = 0;
  private readonly messages: PendingMessage[] = [];
  private readonly byRawId = new Map<number, PendingMessage>();
  private readonly valueTables = new Map<string, Map<number, string>>();
  private readonly attributeDefinitions = new Map<string, AttributeDefinition>();
  private readonly messageAttributes: Array<{ name: string; rawId: number; value: string | number; line: number }> = [];
  private readonly signalAttributes: Array<{ name: string; rawId: number; signal: string; value: string | number; line: number }> = [];
  private readonly valueDescriptions: Array<{ rawId: number; signal: string; table: Map<number, string>; line: number }> = [];
  private readonly valueTypes: Array<{ rawId: number; signal: string; type: number; line: number }> = [];
  private readonly muxValues: Array<{ rawId: number; signal: string; switchName: string; ranges: Array<[number, number]>; line: number }> = [];
  private readonly comments: Array<{ rawId: number; signal?: string; text: string; line: number }> = [];
  private readonly warnings: string[] = [];
  private version = '';
  private nodes: string[] = [];

  constructor(
    private readonly tokens: Token[],
    private readonly file: string,
    private readonly lastLine: number,
  ) {}

  parse(): DbcDatabase {
    while (this.pos < this.tokens.length) this.statement();
    return this.finish();
  }

  // ---- tokens ------------------------------------------------------------

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  private error(token: Token | undefined, reason: string): DbcError {
    return token ? new DbcError(this.file, token.line, token.column, reason) : new DbcError(this.file, this.lastLine, undefined, `${reason} (the file ends here)`);
  }

  private next(what: string): Token {
    const token = this.tokens[this.pos];
    if (!token) throw this.error(undefined, `expected ${what}`);
    this.pos++;
    return token;
  }

  private expectPunct(punct: string, context: string): Token {
    const token = this.next(`"${punct}" ${context}`);
    if (token.kind !== 'punct' || token.text !== punct) throw this.error(token, `expected "${punct}" ${context}, found ${describe(token)}`);
    return token;
  }

  private isPunct(punct: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token?.kind === 'punct' && token.text === punct;
  }

  private ident(what: string): Token {
    const token = this.next(what);
    if (token.kind !== 'ident') throw this.error(token, `expected ${what}, found ${describe(token)}`);
    return token;
  }

  private string(what: string): Token {
    const token = this.next(what);
    if (token.kind !== 'string') throw this.error(token, `expected ${what} in double quotes, found ${describe(token)}`);
    return token;
  }

  private number(what: string): number {
    const token = this.next(what);
    if (token.kind !== 'number') throw this.error(token, `expected ${what} (a number), found ${describe(token)}`);
    return Number(token.text);
  }

  private integer(what: string): number {
    const token = this.peek();
    const value = this.number(what);
    if (!Number.isInteger(value)) throw this.error(token, `expected ${what} (a whole number), found ${token!.text}`);
    return value;
  }

  private skipToSemicolon(start: Token): void {
    while (this.pos < this.tokens.length) {
      const token = this.tokens[this.pos++]!;
      if (token.kind === 'punct' && token.text === ';') return;
    }
    throw this.error(start, `${start.text} is not closed with ";"`);
  }

  // ---- statements --------------------------------------------------------

  private statement(): void {
    const keyword = this.next('a keyword');
    if (keyword.kind !== 'ident') throw this.error(keyword, `expected a keyword (BO_, SG_, VAL_, ...), found ${describe(keyword)}`);
    switch (keyword.text) {
      case 'VERSION':
        this.version = this.string('the version').text;
        return;
      case 'NS_':
        this.expectPunct(':', 'after NS_');
        // The new-symbols list: names on the following indented lines.
        while (this.peek()?.kind === 'ident' && !(this.peek()!.column === 1 && NEW_SYMBOLS_END.has(this.peek()!.text))) this.pos++;
        return;
      case 'BS_':
        this.expectPunct(':', 'after BS_');
        if (this.peek()?.kind === 'number' && this.peek()!.line === keyword.line) {
          this.number('the baud rate');
          this.expectPunct(':', 'after the baud rate');
          this.number('BTR1');
          this.expectPunct(',', 'between BTR1 and BTR2');
          this.number('BTR2');
        }
        return;
      case 'BU_':
        this.expectPunct(':', 'after BU_');
        // Nodes are listed on the BU_ line (a misspelt keyword on the next line must not become a node).
        while (this.peek()?.kind === 'ident' && this.peek()!.line === keyword.line && !isKeyword(this.peek()!.text)) this.nodes.push(this.next('a node').text);
        return;
      case 'VAL_TABLE_': {
        const name = this.ident('the value table name').text;
        this.valueTables.set(name, this.valueList(keyword));
        return;
      }
      case 'BO_':
        return this.message(keyword);
      case 'SG_':
        return this.signal(keyword);
      case 'CM_':
        return this.comment(keyword);
      case 'BA_DEF_':
        return this.attributeDefinition(keyword);
      case 'BA_DEF_DEF_':
        return this.attributeDefault(keyword);
      case 'BA_':
        return this.attribute(keyword);
      case 'VAL_':
        return this.valueDescription(keyword);
      case 'SIG_VALTYPE_': {
        const rawId = this.integer('the message id');
        const signal = this.ident('the signal name').text;
        if (this.isPunct(':')) this.pos++;
        const typeToken = this.peek();
        const type = this.integer('the value type (0 integer, 1 float, 2 double)');
        if (type < 0 || type > 2) throw this.error(typeToken, `SIG_VALTYPE_ must be 0 (integer), 1 (32-bit float) or 2 (64-bit double), got ${type}`);
        this.expectPunct(';', 'at the end of SIG_VALTYPE_');
        this.valueTypes.push({ rawId, signal, type, line: keyword.line });
        return;
      }
      case 'SG_MUL_VAL_':
        return this.muxValue(keyword);
      default:
        if (SKIPPED.has(keyword.text)) return this.skipToSemicolon(keyword);
        throw this.error(keyword, `unknown keyword "${keyword.text}"${this.hint(keyword.text)}`);
    }
  }

  private hint(word: string): string {
    const known = ['VERSION', 'NS_', 'BS_', 'BU_', 'BO_', 'SG_', 'CM_', 'BA_DEF_', 'BA_DEF_DEF_', 'BA_', 'VAL_', 'VAL_TABLE_', 'SIG_VALTYPE_', 'SG_MUL_VAL_', ...SKIPPED];
    const close = known.find((candidate) => candidate.replace(/0/g, 'O') === word.replace(/0/g, 'O') || candidate.toLowerCase() === word.toLowerCase());
    return close ? ` (did you mean "${close}"?)` : '';
  }

  private valueList(start: Token): Map<number, string> {
    const table = new Map<number, string>();
    while (!this.isPunct(';')) {
      const token = this.peek();
      if (!token) throw this.error(start, `${start.text} is not closed with ";"`);
      const value = this.number('a value');
      const label = this.string('the label of the value').text;
      if (table.has(value)) this.warnings.push(`${this.file}:${token.line}: value ${value} is described twice; the last label wins`);
      table.set(value, label);
    }
    this.pos++;
    return table;
  }

  private message(keyword: Token): void {
    const idToken = this.peek();
    const rawId = this.integer('the message id');
    const nameToken = this.ident('the message name');
    this.expectPunct(':', `after the name of message ${nameToken.text}`);
    const lengthToken = this.peek();
    const length = this.integer(`the length of message ${nameToken.text}`);
    const transmitter = this.peek()?.kind === 'ident' && this.peek()!.line === keyword.line ? this.next('the transmitter').text : '';
    const skipped = nameToken.text === INDEPENDENT_SIGNALS_MESSAGE;
    const extended = rawId >= EXTENDED_FLAG;
    const id = extended ? rawId - EXTENDED_FLAG : rawId;
    if (!skipped) {
      if (rawId < 0 || id > 0x1fffffff || (!extended && id > 0x7ff)) {
        throw this.error(idToken, `message ${nameToken.text}: id ${rawId} is not a CAN id (standard ids are 0..2047; an extended id is written as 2147483648 + id)`);
      }
      if (length < 0 || length > 64) throw this.error(lengthToken, `message ${nameToken.text}: length ${length} is not 0..64 bytes`);
    }
    const previous = this.byRawId.get(rawId);
    if (previous && !skipped) throw this.error(idToken, `message ${nameToken.text} has the same id as message ${previous.message.name} (line ${previous.message.line})`);
    const sameName = this.messages.find((pending) => pending.message.name === nameToken.text && !skipped);
    if (sameName) throw this.error(nameToken, `message name ${nameToken.text} is already used at line ${sameName.message.line}`);
    const message: DbcMessage = {
      name: nameToken.text,
      id,
      extended,
      length,
      fd: length > 8,
      brs: false,
      transmitter,
      signals: [],
      signalsByName: new Map(),
      line: keyword.line,
      decodeOrder: [],
    };
    const pending: PendingMessage = { message, signals: [], skipped };
    this.messages.push(pending);
    this.byRawId.set(rawId, pending);
  }

  private signal(keyword: Token): void {
    const owner = this.messages[this.messages.length - 1];
    if (!owner) throw this.error(keyword, 'SG_ before any BO_: a signal must follow the message it belongs to');
    const nameToken = this.ident('the signal name');
    let muxIndicator: string | undefined;
    if (this.peek()?.kind === 'ident') {
      const token = this.next('the multiplexer indicator');
      if (!/^(M|m\d+M?)$/.test(token.text)) throw this.error(token, `signal ${nameToken.text}: "${token.text}" is not a multiplexer indicator (M, m<value> or m<value>M)`);
      muxIndicator = token.text;
    }
    this.expectPunct(':', `after signal ${nameToken.text}`);
    const startToken = this.peek();
    const startBit = this.integer('the start bit');
    this.expectPunct('|', 'between start bit and length');
    const lengthToken = this.peek();
    const length = this.integer('the signal length');
    this.expectPunct('@', 'before the byte order');
    const orderToken = this.peek();
    const order = this.integer('the byte order (0 Motorola, 1 Intel)');
    if (order !== 0 && order !== 1) throw this.error(orderToken, `byte order must be 0 (Motorola, big endian) or 1 (Intel, little endian), got ${order}`);
    const signToken = this.next('+ (unsigned) or - (signed)');
    if (signToken.kind !== 'punct' || (signToken.text !== '+' && signToken.text !== '-')) throw this.error(signToken, `expected + (unsigned) or - (signed) after the byte order, found ${describe(signToken)}`);
    this.expectPunct('(', 'before the factor');
    const factorToken = this.peek();
    const factor = this.number('the factor');
    if (factor === 0) throw this.error(factorToken, `signal ${nameToken.text}: the factor must not be 0`);
    this.expectPunct(',', 'between factor and offset');
    const offset = this.number('the offset');
    this.expectPunct(')', 'after the offset');
    this.expectPunct('[', 'before the minimum');
    const minimum = this.number('the minimum');
    this.expectPunct('|', 'between minimum and maximum');
    const maximum = this.number('the maximum');
    this.expectPunct(']', 'after the maximum');
    const unit = this.string('the unit').text;
    const receivers: string[] = [];
    while (this.peek()?.kind === 'ident' && this.peek()!.line === keyword.line) {
      receivers.push(this.next('a receiver').text);
      if (this.isPunct(',')) this.pos++;
    }
    if (length < 1 || length > 64) throw this.error(lengthToken, `signal ${nameToken.text}: length ${length} is not 1..64 bits`);
    if (startBit < 0 || startBit > 511) throw this.error(startToken, `signal ${nameToken.text}: start bit ${startBit} is not 0..511`);
    const byteOrder = order === 1 ? 'little_endian' : 'big_endian';
    const segments = signalSegments(startBit, length, byteOrder);
    if (!owner.skipped && bytesNeeded(segments) > owner.message.length) {
      throw this.error(startToken, `signal ${nameToken.text} (start bit ${startBit}, ${length} bits, ${byteOrder === 'big_endian' ? 'Motorola' : 'Intel'}) needs ${bytesNeeded(segments)} bytes, but message ${owner.message.name} has ${owner.message.length}`);
    }
    if (owner.message.signalsByName.has(nameToken.text)) throw this.error(nameToken, `message ${owner.message.name} already has a signal ${nameToken.text} (line ${owner.message.signalsByName.get(nameToken.text)!.line})`);
    const signal: DbcSignal = {
      name: nameToken.text,
      messageName: owner.message.name,
      startBit,
      length,
      byteOrder,
      signed: signToken.text === '-',
      valueType: 'integer',
      factor,
      offset,
      minimum,
      maximum,
      unit,
      receivers,
      isMultiplexer: muxIndicator === 'M' || (muxIndicator?.endsWith('M') ?? false),
      initialRaw: 0,
      line: keyword.line,
      segments,
    };
    owner.message.signals.push(signal);
    owner.message.signalsByName.set(signal.name, signal);
    owner.signals.push({ signal, muxIndicator });
  }

  private comment(keyword: Token): void {
    const kind = this.peek();
    if (kind?.kind === 'string') {
      this.pos++;
      this.expectPunct(';', 'at the end of CM_');
      return;
    }
    const target = this.ident('BU_, BO_, SG_ or EV_ after CM_');
    if (target.text === 'BO_') {
      const rawId = this.integer('the message id');
      this.comments.push({ rawId, text: this.string('the comment').text, line: keyword.line });
    } else if (target.text === 'SG_') {
      const rawId = this.integer('the message id');
      const signal = this.ident('the signal name').text;
      this.comments.push({ rawId, signal, text: this.string('the comment').text, line: keyword.line });
    } else if (target.text === 'BU_' || target.text === 'EV_') {
      this.ident('the name');
      this.string('the comment');
    } else {
      throw this.error(target, `CM_ must be followed by BU_, BO_, SG_, EV_ or a text, found ${describe(target)}`);
    }
    this.expectPunct(';', 'at the end of CM_');
  }

  private attributeDefinition(keyword: Token): void {
    let objectType: AttributeDefinition['objectType'] = 'network';
    if (this.peek()?.kind === 'ident') {
      const object = this.next('the object type');
      if (!['BU_', 'BO_', 'SG_', 'EV_'].includes(object.text)) throw this.error(object, `BA_DEF_ object type must be BU_, BO_, SG_ or EV_, found ${describe(object)}`);
      objectType = object.text as AttributeDefinition['objectType'];
    }
    const name = this.string('the attribute name').text;
    const valueType = this.ident('the attribute type (INT, HEX, FLOAT, STRING, ENUM)').text;
    const enumValues: string[] = [];
    if (valueType === 'ENUM') {
      while (this.peek()?.kind === 'string') {
        enumValues.push(this.next('an enum value').text);
        if (this.isPunct(',')) this.pos++;
      }
    }
    this.skipToSemicolon(keyword);
    this.attributeDefinitions.set(name, { objectType, valueType, enumValues });
  }

  private attributeValueToken(what: string): string | number {
    const token = this.next(what);
    if (token.kind === 'number') return Number(token.text);
    if (token.kind === 'string') return token.text;
    throw this.error(token, `expected ${what}, found ${describe(token)}`);
  }

  private attributeDefault(keyword: Token): void {
    const name = this.string('the attribute name').text;
    const value = this.attributeValueToken('the default value');
    this.expectPunct(';', 'at the end of BA_DEF_DEF_');
    const definition = this.attributeDefinitions.get(name);
    if (definition) {
      definition.default = value;
      definition.defaultLine = keyword.line;
    }
    else this.warnings.push(`${this.file}:${keyword.line}: default for attribute "${name}", which no BA_DEF_ defines`);
  }

  private attribute(keyword: Token): void {
    const name = this.string('the attribute name').text;
    const target = this.peek();
    if (target?.kind === 'ident') {
      this.pos++;
      if (target.text === 'BO_') {
        const rawId = this.integer('the message id');
        this.messageAttributes.push({ name, rawId, value: this.attributeValueToken('the attribute value'), line: keyword.line });
      } else if (target.text === 'SG_') {
        const rawId = this.integer('the message id');
        const signal = this.ident('the signal name').text;
        this.signalAttributes.push({ name, rawId, signal, value: this.attributeValueToken('the attribute value'), line: keyword.line });
      } else if (target.text === 'BU_' || target.text === 'EV_') {
        this.ident('the name');
        this.attributeValueToken('the attribute value');
      } else {
        throw this.error(target, `BA_ target must be BU_, BO_, SG_ or EV_, found ${describe(target)}`);
      }
    } else {
      this.attributeValueToken('the attribute value');
    }
    this.expectPunct(';', 'at the end of BA_');
  }

  private valueDescription(keyword: Token): void {
    if (this.peek()?.kind !== 'number') {
      // Value descriptions of an environment variable: not for signals.
      this.ident('the environment variable');
      this.valueList(keyword);
      return;
    }
    const rawId = this.integer('the message id');
    const signal = this.ident('the signal name').text;
    this.valueDescriptions.push({ rawId, signal, table: this.valueList(keyword), line: keyword.line });
  }

  private muxValue(keyword: Token): void {
    const rawId = this.integer('the message id');
    const signal = this.ident('the multiplexed signal').text;
    const switchName = this.ident('the multiplexer switch').text;
    const ranges: Array<[number, number]> = [];
    while (!this.isPunct(';')) {
      const lowToken = this.peek();
      const low = this.integer('the low end of a range');
      // "3-5" reads as 3 then -5 (a number), or 3 - 5 with spaces.
      let high: number;
      const after = this.peek();
      if (after?.kind === 'number' && after.text.startsWith('-')) {
        this.pos++;
        high = Number(after.text.slice(1));
      } else {
        this.expectPunct('-', 'in a range low-high');
        high = this.integer('the high end of a range');
      }
      if (high < low) throw this.error(lowToken, `range ${low}-${high} runs backwards`);
      ranges.push([low, high]);
      if (this.isPunct(',')) this.pos++;
    }
    this.pos++;
    this.muxValues.push({ rawId, signal, switchName, ranges, line: keyword.line });
  }

  // ---- resolution --------------------------------------------------------

  private lookupSignal(rawId: number, name: string, line: number, what: string): DbcSignal | undefined {
    const pending = this.byRawId.get(rawId);
    if (!pending) {
      this.warnings.push(`${this.file}:${line}: ${what} for message id ${rawId}, which no BO_ defines`);
      return undefined;
    }
    if (pending.skipped) return undefined;
    const signal = pending.message.signalsByName.get(name);
    if (!signal) this.warnings.push(`${this.file}:${line}: ${what} for signal ${name}, which message ${pending.message.name} does not have`);
    return signal;
  }

  private attributeNumber(name: string, value: string | number, line: number): number | undefined {
    const definition = this.attributeDefinitions.get(name);
    if (definition?.valueType === 'ENUM') {
      // Enum attribute values are indexes; defaults are usually written as the label.
      if (typeof value === 'number') return value;
      const index = definition.enumValues.indexOf(value);
      if (index >= 0) return index;
    }
    const number = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(number)) {
      this.warnings.push(`${this.file}:${line}: attribute ${name} should be a number, got "${value}"`);
      return undefined;
    }
    return number;
  }

  private finish(): DbcDatabase {
    for (const { rawId, signal: name, type, line } of this.valueTypes) {
      const signal = this.lookupSignal(rawId, name, line, 'SIG_VALTYPE_');
      if (!signal || type === 0) continue;
      const bits = type === 1 ? 32 : 64;
      if (signal.length !== bits) throw new DbcError(this.file, line, undefined, `signal ${name} is declared ${type === 1 ? 'a 32-bit float' : 'a 64-bit double'} but has ${signal.length} bits`);
      signal.valueType = type === 1 ? 'float32' : 'float64';
    }
    for (const { rawId, signal: name, table, line } of this.valueDescriptions) {
      const signal = this.lookupSignal(rawId, name, line, 'VAL_');
      if (signal) signal.valueTable = table;
    }
    for (const { rawId, signal: name, text, line } of this.comments) {
      if (name === undefined) {
        const pending = this.byRawId.get(rawId);
        if (pending) pending.message.comment = text;
        else this.warnings.push(`${this.file}:${line}: comment for message id ${rawId}, which no BO_ defines`);
        continue;
      }
      const signal = this.lookupSignal(rawId, name, line, 'comment');
      if (signal) signal.comment = text;
    }

    const messageDefault = (name: string): number | undefined => {
      const definition = this.attributeDefinitions.get(name);
      return definition?.default === undefined ? undefined : this.attributeNumber(name, definition.default, definition.defaultLine ?? 0);
    };
    const cycleDefault = messageDefault('GenMsgCycleTime');
    const frameFormatDefault = messageDefault('VFrameFormat');
    const brsDefault = messageDefault('CANFD_BRS');
    const startDefault = messageDefault('GenSigStartValue');
    const frameFormats = this.attributeDefinitions.get('VFrameFormat')?.enumValues ?? [];
    const isFdFormat = (index: number): boolean => (frameFormats[index] ?? (index === 14 || index === 15 ? '_FD' : '')).includes('_FD');
    const cycle = new Map<DbcMessage, number>();
    const format = new Map<DbcMessage, number>();
    const brs = new Map<DbcMessage, number>();
    for (const { name, rawId, value, line } of this.messageAttributes) {
      if (name !== 'GenMsgCycleTime' && name !== 'VFrameFormat' && name !== 'CANFD_BRS') continue;
      const pending = this.byRawId.get(rawId);
      if (!pending) {
        this.warnings.push(`${this.file}:${line}: attribute ${name} for message id ${rawId}, which no BO_ defines`);
        continue;
      }
      const number = this.attributeNumber(name, value, line);
      if (number === undefined) continue;
      (name === 'GenMsgCycleTime' ? cycle : name === 'VFrameFormat' ? format : brs).set(pending.message, number);
    }
    const starts = new Map<DbcSignal, number>();
    for (const { name, rawId, signal: signalName, value, line } of this.signalAttributes) {
      if (name !== 'GenSigStartValue') continue;
      const signal = this.lookupSignal(rawId, signalName, line, `attribute ${name}`);
      const number = signal ? this.attributeNumber(name, value, line) : undefined;
      if (signal && number !== undefined) starts.set(signal, number);
    }

    for (const { message } of this.messages) {
      const cycleTime = cycle.get(message) ?? cycleDefault;
      if (cycleTime !== undefined && cycleTime > 0) message.cycleTimeMs = cycleTime;
      const frameFormat = format.get(message) ?? frameFormatDefault;
      if (frameFormat !== undefined && isFdFormat(frameFormat)) message.fd = true;
      message.brs = message.fd && (brs.get(message) ?? brsDefault ?? 0) === 1;
      for (const signal of message.signals) {
        const start = starts.get(signal) ?? startDefault;
        if (start !== undefined) signal.initialRaw = signal.valueType === 'integer' ? Math.round(start) : start;
      }
    }

    this.resolveMultiplexing();
    const messages = this.messages.filter((pending) => !pending.skipped).map((pending) => pending.message);
    return { file: this.file, version: this.version, nodes: this.nodes, messages, valueTables: this.valueTables, warnings: this.warnings };
  }

  private resolveMultiplexing(): void {
    const extended = new Map<DbcSignal, { switchName: string; ranges: Array<[number, number]>; line: number }>();
    for (const entry of this.muxValues) {
      const signal = this.lookupSignal(entry.rawId, entry.signal, entry.line, 'SG_MUL_VAL_');
      if (!signal) continue;
      const pending = this.byRawId.get(entry.rawId)!;
      const selector = pending.message.signalsByName.get(entry.switchName);
      if (!selector) throw new DbcError(this.file, entry.line, undefined, `SG_MUL_VAL_: message ${pending.message.name} has no switch signal ${entry.switchName}`);
      if (!selector.isMultiplexer) throw new DbcError(this.file, entry.line, undefined, `SG_MUL_VAL_: ${entry.switchName} is not a multiplexer (its SG_ needs M or m<value>M)`);
      extended.set(signal, entry);
    }
    for (const { message, signals, skipped } of this.messages) {
      if (skipped) continue;
      const plainSwitches = signals.filter((pending) => pending.muxIndicator === 'M');
      for (const { signal, muxIndicator } of signals) {
        if (muxIndicator === undefined || muxIndicator === 'M') continue;
        const value = Number(/^m(\d+)/.exec(muxIndicator)![1]);
        const explicit = extended.get(signal);
        if (explicit) {
          signal.multiplexerName = explicit.switchName;
          signal.multiplexRanges = explicit.ranges;
          continue;
        }
        if (plainSwitches.length !== 1) {
          throw new DbcError(
            this.file,
            signal.line,
            undefined,
            plainSwitches.length === 0
              ? `signal ${signal.name} is multiplexed (${muxIndicator}) but message ${message.name} has no multiplexer signal (M)`
              : `signal ${signal.name} is multiplexed (${muxIndicator}) but message ${message.name} has ${plainSwitches.length} multiplexer signals (${plainSwitches.map((p) => p.signal.name).join(', ')}); say which one with SG_MUL_VAL_`,
          );
        }
        signal.multiplexerName = plainSwitches[0]!.signal.name;
        signal.multiplexRanges = [[value, value]];
      }
      // Extended multiplexing may also apply to a plain M switch or to signals without mN.
      for (const { signal } of signals) {
        const explicit = extended.get(signal);
        if (explicit && signal.multiplexerName === undefined) {
          signal.multiplexerName = explicit.switchName;
          signal.multiplexRanges = explicit.ranges;
        }
      }
      message.decodeOrder = decodeOrder(message, this.file);
    }
  }
}

/** Every switch before the signals it selects; a cycle is an error. */
function decodeOrder(message: DbcMessage, file: string): DbcSignal[] {
  const ordered: DbcSignal[] = [];
  const placed = new Set<string>();
  let remaining = [...message.signals];
  while (remaining.length) {
    const ready = remaining.filter((signal) => signal.multiplexerName === undefined || placed.has(signal.multiplexerName));
    if (ready.length === 0) {
      const stuck = remaining[0]!;
      throw new DbcError(file, stuck.line, undefined, `message ${message.name}: multiplexers select each other in a cycle (${remaining.map((s) => s.name).join(', ')})`);
    }
    for (const signal of ready) {
      ordered.push(signal);
      placed.add(signal.name);
    }
    remaining = remaining.filter((signal) => !placed.has(signal.name));
  }
  return ordered;
}

const TOP_KEYWORDS = new Set(['VERSION', 'NS_', 'BS_', 'BU_', 'BO_', 'SG_', 'CM_', 'BA_DEF_', 'BA_DEF_DEF_', 'BA_', 'VAL_', 'VAL_TABLE_', 'SIG_VALTYPE_', 'SG_MUL_VAL_', ...SKIPPED]);

function isKeyword(word: string): boolean {
  return TOP_KEYWORDS.has(word);
}

function describe(token: Token): string {
  if (token.kind === 'string') return `"${token.text.length > 30 ? `${token.text.slice(0, 27)}...` : token.text}" (a text)`;
  return `"${token.text}"`;
}

/** Parses DBC text; `file` names it in errors. */
export function parseDbc(text: string, file = '<dbc>'): DbcDatabase {
  const tokens = tokenize(text, file);
  const lastLine = text.split('\n').length;
  return new Parser(tokens, file, lastLine).parse();
}

/** Reads and parses a DBC file (UTF-8, or Windows-1252 as CANdb++ writes it). */
export function loadDbc(path: string, displayName = path): DbcDatabase {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new DbcError(displayName, 0, undefined, `cannot read the DBC file: ${reason}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = new TextDecoder('windows-1252').decode(bytes);
  }
  return parseDbc(text, displayName);
}
