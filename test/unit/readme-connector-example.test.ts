import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { validateWith } from '../../src/config/schema.js';
import type { Connector, ConnectorClass } from '../../src/core/connector.js';
import { isKisoError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logging.js';
import type { Message } from '../../src/core/message.js';

// The README's worked example "Adding a connector type" is code readers copy: this runs it as the README writes it.
const readme = readFileSync(path.resolve('README.md'), 'utf8');
const start = readme.indexOf('\n## Adding a connector type\n');
const end = readme.indexOf('\n## ', start + 1);
const section = start === -1 ? '' : readme.slice(start, end === -1 ? undefined : end);
// Fenced blocks, also those indented under a list item (the README row is, so that the built-ins test does not count it).
const blocks = [...section.matchAll(/^( *)```(\w*)\n([\s\S]*?)^\1```$/gm)].map(([, indent, lang, body]) => ({
  lang: lang!,
  code: body!.split('\n').map((line) => (line.startsWith(indent!) ? line.slice(indent!.length) : line)).join('\n'),
}));
const ts = blocks.filter((block) => block.lang === 'ts').map((block) => block.code);
const connectorCode = ts[0] ?? '';
const entryCode = ts[1] ?? '';
const schema = JSON.parse(blocks.find((block) => block.lang === 'json')?.code ?? '{}') as { title?: string; properties?: Record<string, { default?: unknown }> };
const row = blocks.find((block) => block.lang === '' && block.code.startsWith('| `'))?.code ?? '';

const name = /^\s*(\w+): \{/.exec(entryCode)?.[1];
const schemaFile = /schema: '([^']+)'/.exec(entryCode)?.[1];
const [, moduleName, exportName] = /import\('\.\/connectors\/([\w-]+)\.js'\)\)\.(\w+)/.exec(entryCode) ?? [];

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kiso-readme-connector-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * The README's class as a file of its own: its `../core/` imports point at src/core, as they would from
 * src/connectors, and it loads as an ES module like the package's files (so KisoError is the same class).
 */
async function loadExample(): Promise<ConnectorClass> {
  writeFileSync(path.join(tmp, 'package.json'), '{ "type": "module" }\n');
  const file = path.join(tmp, `${moduleName}.ts`);
  writeFileSync(file, connectorCode.replaceAll("from '../core/", `from '${pathToFileURL(path.resolve('src/core')).href}/`));
  return (await import(pathToFileURL(file).href))[exportName!] as ConnectorClass;
}

function collect(connector: Connector<any>, count: number): Promise<Message[]> {
  return new Promise((resolve, reject) => {
    const got: Message[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} messages came back`)), 10_000);
    connector.attach((message) => {
      got.push(message);
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

describe('the README example "Adding a connector type"', () => {
  it('has the class, the schema, the built-ins entry and the row, naming each other', () => {
    assert.ok(section, 'README.md has no section "## Adding a connector type"');
    assert.ok(name && schemaFile && moduleName && exportName, `the BUILTIN_TYPES entry block is not recognised:\n${entryCode}`);
    assert.ok(section.includes(`src/connectors/${moduleName}.ts`), `the section does not name the class file src/connectors/${moduleName}.ts`);
    assert.ok(section.includes(`schemas/${schemaFile}`), `the section does not name the schema file schemas/${schemaFile}`);
    assert.match(connectorCode, new RegExp(`export class ${exportName} extends Connector<`));
    assert.equal(schema.title, `${name} config`);
    assert.ok(row.split('|')[1]?.includes(`\`${name}\``), `the README row does not name ${name}: ${row}`);
  });

  it('its schema checks a config and fills in the defaults', () => {
    const config: Record<string, unknown> = {};
    assert.deepEqual(validateWith(schema, config, []), []);
    for (const [key, property] of Object.entries(schema.properties ?? {})) {
      if ('default' in property) assert.deepEqual(config[key], property.default, `default of ${key}`);
    }
    assert.equal(validateWith(schema, { not_a_key: 1 }, []).length, 1);
  });

  it('its class echoes, in order, and loses what is in flight on close', async () => {
    const cls = await loadExample();
    const config: Record<string, unknown> = { delay_ms: 5 };
    assert.deepEqual(validateWith(schema, config, []), []);
    const connector = new cls(config, { name: 'slow', log: silentLogger(), baseDir: tmp });
    await connector.open();
    const echoes = collect(connector, 3);
    for (const text of ['one', 'two', 'three']) await connector.send(text);
    const got = await echoes;
    assert.deepEqual(got.map((message) => Buffer.from(message.data).toString()), ['one', 'two', 'three']);
    assert.ok(got.every((message) => typeof message.timestamp === 'number'));

    let late = 0;
    connector.attach(() => late++);
    await connector.send('lost');
    await connector.close();
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(late, 0, 'a message came back after close()');
    await assert.rejects(connector.send('closed'), (error: unknown) => isKisoError(error, 'KISO_CONNECTOR_CLOSED'));
  });
});
