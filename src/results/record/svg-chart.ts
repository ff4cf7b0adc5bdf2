import type { Limits } from '../limits.js';
import type { Dimension, Row } from '../measurements.js';

/**
 * Inline SVG line charts of a multi-dimensional measurement, drawn when the
 * report is built: no script, no library, nothing fetched. The first
 * dimension is the x axis; every other numeric dimension gets a chart of its
 * own (a voltage and a current do not share a y axis). The numeric limits,
 * which apply to the last dimension, are drawn as dashed lines on its chart.
 */

const WIDTH = 640;
const HEIGHT = 220;
const PAD = { left: 64, right: 16, top: 14, bottom: 40 };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About five round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const rough = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => s >= rough) ?? rough;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function format(value: number): string {
  const abs = Math.abs(value);
  return abs !== 0 && (abs >= 1e5 || abs < 1e-3) ? value.toExponential(1) : String(Number(value.toPrecision(4)));
}

function label(dimension: Dimension | undefined, fallback: string): string {
  if (!dimension) return fallback;
  return dimension.units ? `${dimension.name} (${dimension.units})` : dimension.name;
}

interface Series {
  column: number;
  points: Array<[number, number]>;
}

function chart(title: string, xLabel: string, yLabel: string, series: Series, limits: Limits | undefined): string {
  const xs = series.points.map((p) => p[0]);
  const ys = series.points.map((p) => p[1]);
  const limitValues = [limits?.lower, limits?.upper].filter((v): v is number => typeof v === 'number');
  let [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  let [yMin, yMax] = [Math.min(...ys, ...limitValues), Math.max(...ys, ...limitValues)];
  if (xMin === xMax) [xMin, xMax] = [xMin - 1, xMax + 1];
  if (yMin === yMax) [yMin, yMax] = [yMin - 1, yMax + 1];
  const yPad = (yMax - yMin) * 0.05;
  [yMin, yMax] = [yMin - yPad, yMax + yPad];
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const sx = (x: number): number => PAD.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const sy = (y: number): number => PAD.top + plotH - ((y - yMin) / (yMax - yMin)) * plotH;
  const parts: string[] = [];
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" class="plot"/>`);
  for (const t of niceTicks(xMin, xMax)) {
    parts.push(`<line x1="${sx(t).toFixed(1)}" y1="${PAD.top}" x2="${sx(t).toFixed(1)}" y2="${PAD.top + plotH}" class="grid"/>`);
    parts.push(`<text x="${sx(t).toFixed(1)}" y="${PAD.top + plotH + 14}" text-anchor="middle" class="tick">${format(t)}</text>`);
  }
  for (const t of niceTicks(yMin, yMax)) {
    parts.push(`<line x1="${PAD.left}" y1="${sy(t).toFixed(1)}" x2="${PAD.left + plotW}" y2="${sy(t).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" class="tick">${format(t)}</text>`);
  }
  for (const [name, value] of [['lower', limits?.lower], ['upper', limits?.upper]] as const) {
    if (typeof value !== 'number') continue;
    parts.push(`<line x1="${PAD.left}" y1="${sy(value).toFixed(1)}" x2="${PAD.left + plotW}" y2="${sy(value).toFixed(1)}" class="limit"><title>${name} limit ${value}</title></line>`);
    parts.push(`<text x="${PAD.left + plotW - 4}" y="${(sy(value) - 4).toFixed(1)}" text-anchor="end" class="limit-label">${name} ${format(value)}</text>`);
  }
  const path = series.points.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)} ${sy(y).toFixed(1)}`).join(' ');
  parts.push(`<path d="${path}" class="series"/>`);
  if (series.points.length <= 60) for (const [x, y] of series.points) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" class="point"/>`);
  parts.push(`<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 6}" text-anchor="middle" class="axis-label">${escapeXml(xLabel)}</text>`);
  parts.push(`<text x="14" y="${PAD.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 14 ${PAD.top + plotH / 2})" class="axis-label">${escapeXml(yLabel)}</text>`);
  return `<svg class="chart" role="img" aria-label="${escapeXml(title)}" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" xmlns="http://www.w3.org/2000/svg"><title>${escapeXml(title)}</title>${parts.join('')}</svg>`;
}

/** One SVG per y dimension of the rows; none when there is nothing numeric to draw. */
export function measurementCharts(name: string, rows: readonly Row[], dimensions: readonly Dimension[], limits: Limits | undefined): Array<{ title: string; svg: string }> {
  if (rows.length === 0 || dimensions.length === 0) return [];
  const width = dimensions.length;
  const numericX = rows.every((row) => typeof row[0] === 'number' && Number.isFinite(row[0]));
  const xOf = (row: Row, index: number): number => (numericX && width > 1 ? (row[0] as number) : index);
  const xLabel = numericX && width > 1 ? label(dimensions[0], 'x') : 'sample';
  const charts: Array<{ title: string; svg: string }> = [];
  for (let column = width > 1 ? 1 : 0; column < width; column++) {
    if (!rows.every((row) => typeof row[column] === 'number' && Number.isFinite(row[column]))) continue;
    const series: Series = { column, points: rows.map((row, i) => [xOf(row, i), row[column] as number]) };
    const yLabel = label(dimensions[column], 'value');
    const title = `${name}: ${yLabel} against ${xLabel}`;
    charts.push({ title, svg: chart(title, xLabel, yLabel, series, column === width - 1 ? limits : undefined) });
  }
  return charts;
}
