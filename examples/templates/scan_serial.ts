import type { SerialHookContext } from 'kiso';

/**
 * The station's serial hook: a real one reads a barcode scanner (a USB HID
 * keyboard or a serial port). This stand-in takes $KISO_SCANNED_SERIAL, so
 * the example runs anywhere; `--serial SN-...` on the command line wins over it.
 */
export async function readSerial(ctx: SerialHookContext): Promise<string> {
  const serial = process.env.KISO_SCANNED_SERIAL ?? 'SN-0001';
  ctx.log.info({ serial }, `scanned the unit at ${ctx.station}`);
  return serial;
}
