import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

let tsxRegistered = false;

/** Lets `import()` load TypeScript files (suites, user types) with no build step: tsx's ESM and CJS hooks. */
export async function enableTypeScript(): Promise<void> {
  if (tsxRegistered) return;
  tsxRegistered = true;
  // Once tsx's hooks are on, every module still to load goes through its loader thread, a round trip each.
  // Suites import 'kiso': load that public API (mostly loaded by a run already) before the hooks start.
  await import('kiso').catch(() => undefined);
  const [{ register: registerEsm }, { register: registerCjs }] = await Promise.all([
    import('tsx/esm/api'),
    import('tsx/cjs/api'),
  ]);
  registerEsm();
  registerCjs();
}

const TS_FILE = /\.[cm]?tsx?$/;

/** Imports a file by absolute path, TypeScript included. */
export async function importFile(file: string): Promise<Record<string, unknown>> {
  if (TS_FILE.test(file)) await enableTypeScript();
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

/** Imports a package as seen from `fromDir` (the YAML's folder), so a station's own node_modules wins. */
export async function importPackage(specifier: string, fromDir: string): Promise<Record<string, unknown>> {
  const require = createRequire(path.join(fromDir, 'noop.js'));
  let resolved: string;
  try {
    resolved = require.resolve(specifier);
  } catch {
    return (await import(specifier)) as Record<string, unknown>;
  }
  return importFile(resolved);
}
