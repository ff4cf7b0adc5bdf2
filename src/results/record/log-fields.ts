/** A log line's fields as text, the way the console shows them: `version=1.3.9 rail={"v":5}`. */
export function logFieldsText(fields: Record<string, unknown> | undefined): string {
  if (!fields) return '';
  return Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}
