import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from './package-root.js';

type ExtensionHandler = (module: unknown, filename: string) => void;
const extensions = (Module as unknown as { _extensions: Record<string, ExtensionHandler> })._extensions;
const requireHere = createRequire(import.meta.url);

let requireHookRegistered = false;
let importHookRegistered = false;

/** tsx's CommonJS hook, once; kiso's own built files (dist/) keep Node's loader, so they stay the ES modules the run has. */
function registerRequireHook(): void {
  if (requireHookRegistered) return;
  requireHookRegistered = true;
  const kisoDist = path.join(packageRoot(), 'dist') + path.sep;
  const nodeJs = extensions['.js']!;
  // require(), not import(): Node's ESM loader would scan tsx's CommonJS bundle for export names first (~30 ms).
  (requireHere('tsx/cjs/api') as typeof import('tsx/cjs/api')).register();
  const tsxJs = extensions['.js']!;
  extensions['.js'] = (module, filename) => (filename.startsWith(kisoDist) ? nodeJs : tsxJs)(module, filename);
}

/**
 * TypeScript through `require()`: tsx's CommonJS hook runs in this thread,
 * where its ESM hook starts a loader thread (~150 ms) and sends every later
 * import through it. Needs Node's require(esm) (20.19+), so that a suite's
 * `import … from 'kiso'` gets the instance the run already has: kiso's files
 * keep Node's own loader instead of tsx recompiling them to CommonJS.
 */
function enableRequireHook(): boolean {
  if (!process.features.require_module) return false;
  registerRequireHook();
  return true;
}

/** TypeScript through `import()`: tsx's ESM and CJS hooks, for what `require()` cannot load (top-level await). */
async function enableImportHook(): Promise<void> {
  if (importHookRegistered) return;
  importHookRegistered = true;
  // Once tsx's ESM hook is on, every module still to load goes through its loader thread, a round trip each.
  // Suites import 'kiso': load that public API (mostly loaded by a run already) before the hook starts.
  await import('kiso').catch(() => undefined);
  registerRequireHook();
  const { register } = await import('tsx/esm/api');
  register();
}

/** What only an ES module load can do: Node or tsx refused the file through `require()`. */
function needsImport(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_REQUIRE_ASYNC_MODULE' || code === 'ERR_REQUIRE_ESM';
}

/** `require()`'s exports in the shape `import()` gives a CommonJS module: the whole object is also `default`. */
function asImported(exports: unknown): Record<string, unknown> {
  if (exports !== null && typeof exports === 'object' && (exports as { __esModule?: unknown }).__esModule) return exports as Record<string, unknown>;
  return { ...(exports as Record<string, unknown>), default: exports };
}

const TS_FILE = /\.[cm]?tsx?$/;

/**
 * Imports a file by absolute path, TypeScript included. A `.ts` file loads
 * through `require()` when it can (the fast path) and through `import()` when
 * it must (top-level await); a module both reach loads once per way.
 */
export async function importFile(file: string): Promise<Record<string, unknown>> {
  if (!TS_FILE.test(file)) return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  if (enableRequireHook()) {
    try {
      return asImported(requireHere(file));
    } catch (error) {
      if (!needsImport(error)) throw error;
    }
  }
  await enableImportHook();
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
