import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { RunRecordBuilder, type RunMetadata } from '../../src/results/record/builder.js';
import type { RunRecord } from '../../src/results/record/types.js';
import { countOutcomes, type CaseResult } from '../../src/results/outcomes.js';
import { ROOT } from './cli.js';
import { StationStore } from '../../src/store/sqlite-store.js';

let validator: ValidateFunction | undefined;

/** ajv against schemas/run-record.schema.json, formats (date-time) included; returns the errors as text. */
export function recordSchemaErrors(record: unknown): string[] {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    // ajv-formats is CommonJS: its default export arrives wrapped once more under ESM.
    const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => void;
    addFormats(ajv);
    const { $id: _id, ...schema } = JSON.parse(readFileSync(path.join(ROOT, 'schemas/run-record.schema.json'), 'utf8')) as Record<string, unknown>;
    validator = ajv.compile(schema);
  }
  return validator(record) ? [] : (validator.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

export function caseResult(overrides: Partial<CaseResult> = {}): CaseResult {
  return {
    suiteId: 1,
    suiteName: 'power board',
    caseId: 1,
    name: 'supply rail',
    file: '/station/suites/test_power.ts',
    outcome: 'passed',
    startedAt: Date.parse('2025-11-23T10:00:00.000Z'),
    durationMs: 120,
    attempts: 1,
    tags: {},
    requirements: [],
    output: [],
    ...overrides,
  };
}

export const META: RunMetadata = {
  stationName: 'bench-3',
  configFile: '/station/station.yaml',
  procedureId: 'FVT1',
  procedureName: 'Power board functional test',
  procedureVersion: '1.4.0',
  serialNumber: 'SN-0001',
  partNumber: 'PB-100',
  revision: 'C',
  batchNumber: 'W47',
};

/** A finished record of these cases, as the record reporter builds it. */
export function recordOf(cases: CaseResult[], meta: Partial<RunMetadata> = {}, startedAt = Date.parse('2025-11-23T10:00:00.000Z')): RunRecord {
  const builder = new RunRecordBuilder({ ...META, ...meta }, undefined);
  builder.start(startedAt);
  for (const result of cases) builder.addCase(result);
  const counts = countOutcomes(cases);
  const outcome = counts.error ? 'error' : counts.failed ? 'failed' : 'passed';
  return builder.finish({ configFile: META.configFile, startedAt, durationMs: 1500, suites: [], outcome, counts });
}

/** Every committed run record of a station store folder, oldest first. */
export function storedRecords(root: string): RunRecord[] {
  const store = StationStore.open(root);
  try {
    return store.list().reverse().map((entry) => store.read(entry.id));
  } finally {
    store.close();
  }
}

/** The record of the run whose `Run record: ID in ...` line is in this output. */
export function recordFromOutput(stdout: string, root: string): RunRecord {
  const id = /^Run record: (\S+) in /m.exec(stdout)?.[1];
  if (!id) throw new Error(`no "Run record:" line in:\n${stdout}`);
  const store = StationStore.open(root);
  try {
    return store.read(id);
  } finally {
    store.close();
  }
}

/** Where a station store keeps an attachment's bytes. */
export function storedAttachmentFile(root: string, sha1: string): string {
  const store = StationStore.open(root);
  try {
    return store.attachmentFile(sha1);
  } finally {
    store.close();
  }
}
