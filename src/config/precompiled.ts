import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';

/**
 * The built-in schemas compiled at build time (scripts/compile-schemas.mjs),
 * one module per schema in `validators/` next to this file, so a run loads
 * the validators of the station file and of the types it uses, not every one.
 */

/** What each generated module exports: the validator, and the schema text it was compiled from. */
export interface PrecompiledModule {
  validate: ValidateFunction;
  source: string;
}

/** The folder, beside this file, that `npm run build` fills. */
export const PRECOMPILED_FOLDER = 'validators';

/** `connectors/udp.schema.json` → `connectors-udp.cjs`; `kiso.schema.json#/properties/duts` → `kiso-properties-duts.cjs`. */
export function precompiledFileName(reference: string): string {
  return `${reference.replace(/\.schema\.json/, '').replace(/[/#]+/g, '-')}.cjs`;
}

const requireHere = createRequire(import.meta.url);

/** The validator `npm run build` compiled from exactly this text, if any (none when running from src/ under tsx). */
export function precompiledValidator(reference: string, text: string): ValidateFunction | undefined {
  let built: PrecompiledModule;
  try {
    built = requireHere(`./${PRECOMPILED_FOLDER}/${precompiledFileName(reference)}`) as PrecompiledModule;
  } catch {
    return undefined;
  }
  return built.source === text ? built.validate : undefined;
}
