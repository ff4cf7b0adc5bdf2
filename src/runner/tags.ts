/** Tags on suites and cases, and how tag filters of the command line select by them (pykiso's rules). */

/** pykiso's rule: `-` and `_` are the same in tag names. */
export function tagKey(name: string): string {
  return name.replace(/-/g, '_');
}

type Tags = Readonly<Record<string, string | readonly string[]>>;

export function tagValues(...sources: Array<Tags | undefined>): Map<string, string[]> {
  const tags = new Map<string, string[]>();
  for (const source of sources) {
    for (const [name, value] of Object.entries(source ?? {})) tags.set(tagKey(name), typeof value === 'string' ? [value] : [...value]);
  }
  return tags;
}

/**
 * Whether a case with these tags runs under the filters (pykiso's rule): a
 * case that does not declare a filter's tag is not filtered by it; one that
 * does runs only if one of its values is wanted.
 */
export function selectedByTags(tags: ReadonlyMap<string, readonly string[]> | Readonly<Record<string, readonly string[]>>, filters: Readonly<Record<string, readonly string[]>> | undefined): { selected: true } | { selected: false; reason: string } {
  const lookup = (name: string): readonly string[] | undefined =>
    tags instanceof Map ? tags.get(name) : Object.entries(tags).find(([key]) => tagKey(key) === name)?.[1];
  for (const [name, wanted] of Object.entries(filters ?? {})) {
    const values = lookup(tagKey(name));
    if (values && !values.some((value) => wanted.includes(value))) return { selected: false, reason: `not selected by --${name} ${wanted.join(',')}` };
  }
  return { selected: true };
}

