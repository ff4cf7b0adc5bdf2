/** Values across the Python channel: JSON, with bytes as `{ "$bytes": base64 }` both ways. */

export function toPython(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (Array.isArray(value)) return value.map(toPython);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toPython(v)]));
  if (value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v !== 'function').map(([k, v]) => [k, toPython(v)]));
  return value;
}

export function fromPython(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromPython);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]![0] === '$bytes' && typeof entries[0]![1] === 'string') return Buffer.from(entries[0]![1], 'base64');
    return Object.fromEntries(entries.map(([k, v]) => [k, fromPython(v)]));
  }
  return value;
}
