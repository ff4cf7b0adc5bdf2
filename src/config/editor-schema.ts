import { builtinTypes } from '../core/registry.js';
import { readSchema } from '../core/package-root.js';

/**
 * The station schema with every built-in type's config schema attached
 * (if type is X then config follows X's schema), for yaml-language-server
 * and other editors: `kiso schema > kiso.schema.json`, then
 * `# yaml-language-server: $schema=./kiso.schema.json` atop a station YAML.
 */
export function editorSchema(): object {
  const station = structuredClone(readSchema('kiso.schema.json')) as Record<string, any>;
  const definitions = station.definitions as Record<string, any>;
  for (const kind of ['connector', 'auxiliary'] as const) {
    const branches: object[] = [];
    const names: string[] = [];
    for (const [name, entry] of Object.entries(builtinTypes())) {
      if (entry.kind !== kind) continue;
      const allNames = [name, ...entry.aliases];
      names.push(...allNames);
      const { $schema: _s, $id: _i, ...configSchema } = readSchema(entry.schema) as Record<string, unknown>;
      branches.push({ if: { properties: { type: { enum: allNames } }, required: ['type'] }, then: { properties: { config: { anyOf: [configSchema, { type: 'null' }] } } } });
    }
    const definition = definitions[kind] as Record<string, any>;
    definition.allOf = branches;
    // Offer the built-in names for completion while still allowing ./file.ts:Export.
    definition.properties.type.anyOf = [{ enum: names }, { type: 'string', pattern: ':' }];
  }
  delete (station as { $id?: string }).$id;
  return station;
}
