// The report as a terminal table, in the words a marketer would use.
import type { Report } from '../domain/report';

const percent = (value: number | null, digits = 2) =>
  value === null ? '–' : `${(value * 100).toFixed(digits)}%`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!)))
        .join('  '),
    )
    .join('\n');
}

export function formatReport(report: Report): string {
  const rateOf = (v: Report['variants'][number]) =>
    report.metric === 'clicks'
      ? v.click_rate
      : report.metric === 'opens'
        ? v.observable_open_rate
        : v.conversion_rate;
  const rateName = { clicks: 'click rate', opens: 'open rate (observable)', conversions: 'conversion rate' }[
    report.metric
  ];
  const rows = [
    [
      'variant',
      'sends',
      'opens',
      'machine opens',
      'clicks (beacon)',
      'conversions',
      rateName,
      '95% interval',
      'P(best)',
      'traffic',
      'vs control',
    ],
    ...report.variants.map((v) => [
      `${v.id}${v.control ? ' (control)' : ''}${v.state === 'retired' ? ' (retired)' : ''}`,
      String(v.sends),
      String(v.opens),
      String(v.machine_opens),
      `${v.clicks} (${v.beacon_clicks})`,
      String(v.conversions),
      percent(rateOf(v)),
      `${percent(v.ci_low)}–${percent(v.ci_high)}`,
      percent(v.p_best, 1),
      percent(v.allocation, 1),
      v.uplift_vs_control === null
        ? '–'
        : `${v.uplift_vs_control >= 0 ? '+' : ''}${percent(v.uplift_vs_control, 1)}`,
    ]),
  ];
  const leader = report.variants.find((v) => v.id === report.leader);
  const verdict = leader
    ? report.confident
      ? `Winner: ${leader.id} — confidently best ("${leader.text}").`
      : `Leading: ${leader.id} ("${leader.text}"), not yet confident.`
    : 'No data yet.';
  return [
    `${report.name} (${report.experiment}) — ${report.status}, optimising ${report.metric}`,
    '',
    table(rows),
    '',
    verdict,
  ].join('\n');
}
