import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The kiso package folder (holds package.json and schemas/), whether running from src/ or dist/. */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'kiso') {
      cached = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the kiso package root');
    dir = parent;
  }
}

export function kisoVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Which schema file an object was read from, and its text: lets precompiled validators be matched to it. */
const schemaSources = new WeakMap<object, { file: string; text: string }>();

/** A schema file under schemas/, or a part of one (`kiso.schema.json#/properties/duts`). */
export function readSchema(reference: string): object {
  const [relativePath, pointer = ''] = reference.split('#');
  const text = readFileSync(path.join(packageRoot(), 'schemas', relativePath!), 'utf8');
  let schema = JSON.parse(text) as Record<string, unknown>;
  for (const key of pointer.split('/').filter(Boolean)) schema = schema[key] as Record<string, unknown>;
  schemaSources.set(schema, { file: reference, text });
  return schema;
}

export function schemaSourceOf(schema: object): { file: string; text: string } | undefined {
  return schemaSources.get(schema);
}
