// Formatting for people: percentages, counts, times and labels; every function copes with missing numbers.

export const DASH = '—';
const PALETTE = ['#4338ca', '#0f8a7c', '#c2610c', '#be185d', '#0369a1', '#6d28d9', '#4d7c0f', '#b91c1c'];
const STATUS_LABELS = { running: 'Running', paused: 'Paused', finished: 'Finished' };
export const METRIC_LABELS = { clicks: 'click rate', opens: 'open rate', conversions: 'conversion rate' };
export const PHASE_LABELS = { burn_in: 'burn-in (equal shares)', learning: 'learning', settled: 'settled' };

export const isNum = (value) => typeof value === 'number' && Number.isFinite(value);
const integer = new Intl.NumberFormat('en-US');

export function percent(value, digits = 2) {
  return isNum(value) ? `${(value * 100).toFixed(digits)}%` : DASH;
}

export function probability(value) {
  if (!isNum(value)) return DASH;
  if (value >= 0.9995) return '>99.9%';
  if (value > 0 && value < 0.0005) return '<0.1%';
  return `${(value * 100).toFixed(1)}%`;
}

export function percentagePoints(value) {
  if (!isNum(value)) return DASH;
  const points = value * 100;
  if (points > 0 && points < 0.001) return '<0.001 pp';
  return `${points.toFixed(points < 0.1 ? 3 : 2)} pp`;
}

export function signedPercent(value) {
  if (!isNum(value)) return DASH;
  const sign = value > 0 ? '+' : value < 0 ? '−' : '±';
  return `${sign}${Math.abs(value * 100).toFixed(1)}%`;
}

export function count(value) {
  return isNum(value) ? integer.format(value) : DASH;
}

export function interval(low, high) {
  return isNum(low) && isNum(high) ? `${percent(low)}–${percent(high)}` : null;
}

export function truncate(text, max) {
  const value = String(text ?? '');
  return value.length > max ? `${value.slice(0, max - 1).trimEnd()}…` : value;
}

export function clockTime(iso) {
  const date = iso ? new Date(iso) : new Date();
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function hourLabels(series) {
  const dates = series.map((point) => new Date(point.hour));
  const valid = dates.every((d) => !Number.isNaN(d.getTime()));
  if (!valid) return series.map((point) => String(point.hour ?? ''));
  const spansDays = dates.length > 0 && dates[0].toDateString() !== dates[dates.length - 1].toDateString();
  const format = spansDays
    ? { weekday: 'short', hour: '2-digit', minute: '2-digit' }
    : { hour: '2-digit', minute: '2-digit' };
  return dates.map((d) => d.toLocaleString(undefined, format));
}

export const metricKey = (report) =>
  report?.metric === 'opens' || report?.metric === 'conversions' ? report.metric : 'clicks';
export const metricLabel = (report) => METRIC_LABELS[metricKey(report)];
export const statusLabel = (status) => STATUS_LABELS[status] ?? (status ? String(status) : 'Unknown');

/** The rate of the experiment's metric, from the report or, when it has none yet, from the counts. */
export function rateOf(variant, report) {
  // Opens are rated over the sends whose opens could be seen (machine-only recipients left out).
  const key = metricKey(report);
  const reported =
    key === 'opens'
      ? (variant.observable_open_rate ?? variant.open_rate)
      : key === 'conversions'
        ? variant.conversion_rate
        : variant.click_rate;
  if (isNum(reported)) return reported;
  const rewards = variant[metricKey(report)];
  return isNum(rewards) && isNum(variant.sends) && variant.sends > 0 ? rewards / variant.sends : null;
}

export function variantName(variant) {
  return `${variant.id}`;
}

export function colourFor(index) {
  return PALETTE[index % PALETTE.length];
}

export function withAlpha(hex, alpha) {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}
