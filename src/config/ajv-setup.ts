import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { Ajv, CodeOptions, KeywordCxt } from 'ajv';

/**
 * ajv set up for kiso: every error at once, defaults filled in, the custom
 * `address` format (IPv4, IPv6 or a host name) and the `kisoPath` keyword,
 * which resolves a relative path against the folder of the file it was
 * written in. The built-in schemas are compiled with this setup at build
 * time (scripts/compile-schemas.mjs); at run time ajv itself is loaded only
 * for a schema that was not precompiled (a user type's).
 */
export const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** An IP address, or a host name whose last label is not all digits (so 300.1.1.1 is rejected). */
export function isAddress(value: string): boolean {
  return isIP(value) !== 0 || (HOSTNAME.test(value) && !/(^|\.)\d+\.?$/.test(value));
}

/**
 * What a validation is called with (`validate.call(context, data)`): the
 * generated `kisoPath` code calls `this.resolvePath`, so precompiled code
 * needs no module state of kiso's.
 */
export interface ValidationContext {
  resolvePath?: (instancePath: string, value: string) => string;
}

const require = createRequire(import.meta.url);

export function createKisoAjv(code?: CodeOptions): Ajv {
  const { Ajv, _ } = require('ajv') as typeof import('ajv');
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, verbose: true, passContext: true, code });
  ajv.addFormat('address', isAddress);
  ajv.addKeyword({
    keyword: 'kisoPath',
    modifying: true,
    schemaType: 'boolean',
    code(cxt: KeywordCxt) {
      if (cxt.schema !== true) return;
      const { gen, data, it } = cxt;
      if (it.parentDataProperty === undefined) return; // the document root is never a path
      // `instancePath` is the parameter of every function ajv generates; errorPath leads from it to this value.
      const instancePath = _`instancePath + ${it.errorPath}`;
      gen.if(_`typeof ${data} == "string" && this && typeof this.resolvePath == "function"`, () => {
        gen.assign(_`${it.parentData}[${it.parentDataProperty}]`, _`this.resolvePath(${instancePath}, ${data})`);
      });
    },
  });
  return ajv;
}
