import type { KeyPath } from './yaml-source.js';

/**
 * pykiso's keys that every auxiliary takes inside `config:` (its
 * AuxiliaryInterface arguments), taken out before the type's own schema
 * sees the config: `auto_start` (the same as kiso's entry-level key) and
 * `activate_log` (loggers pykiso raises from WARNING to the chosen level).
 */
export interface BaseAuxiliaryKeys {
  autoStart?: boolean;
  activateLog?: string[];
}

export function takeBaseAuxiliaryKeys(config: Record<string, unknown>, at: KeyPath, report: (at: KeyPath, message: string) => void): { own: Record<string, unknown>; base: BaseAuxiliaryKeys } {
  const { auto_start: autoStart, activate_log: activateLog, ...own } = config;
  const base: BaseAuxiliaryKeys = {};
  if (autoStart !== undefined) {
    if (typeof autoStart === 'boolean') base.autoStart = autoStart;
    else report([...at, 'auto_start'], `must be true or false, got ${JSON.stringify(autoStart)}`);
  }
  if (activateLog !== undefined && activateLog !== null) {
    if (Array.isArray(activateLog) && activateLog.every((name) => typeof name === 'string')) base.activateLog = activateLog as string[];
    else report([...at, 'activate_log'], 'must be a list of logger names, e.g. [pykiso.lib.auxiliaries.mp_proxy_auxiliary]');
  }
  return { own, base };
}

/**
 * What kiso does with `activate_log`, said once per auxiliary: pykiso keeps
 * every logger but its own at WARNING unless listed here; kiso logs every
 * auxiliary, connector and itself at --log-level already, so the list
 * selects nothing more. The note names what the entries stand for.
 */
export function activateLogNote(auxiliary: string, names: readonly string[], moduleToType: (module: string) => string | undefined): string {
  const described = names.map((name) => {
    if (name === 'pykiso' || name === 'kiso') return `${name} (kiso itself)`;
    const type = moduleToType(name);
    return type ? `${name} (kiso's ${type})` : `${name} (no kiso logger: a Python library's)`;
  });
  return `auxiliary ${auxiliary}: activate_log ${described.join(', ')}: kiso logs every auxiliary, connector and itself at --log-level already (-v or --log-level debug for more)`;
}
