// The report's three charts: rate by variant with its interval, traffic share per hour, cumulative rate.
import { destroyChart, upsertChart } from './charts.js';
import { $, show } from './dom.js';
import {
  colourFor,
  DASH,
  hourLabels,
  interval,
  isNum,
  metricKey,
  metricLabel,
  percent,
  rateOf,
  truncate,
  withAlpha,
} from './format.js';

const percentTick = (value) => `${Number(value).toLocaleString(undefined, { maximumFractionDigits: 2 })}%`;
const toPercent = (value) => (isNum(value) ? value * 100 : null);

export function renderCharts(report, variants) {
  const label = metricLabel(report);
  const series = Array.isArray(report.series) ? report.series : [];
  renderRateChart(report, variants, label);
  renderSeriesCharts(report, variants, series, label);
}

export function renderRateChart(report, variants, label) {
  const narrow = $('rate-chart').parentElement.clientWidth < 520;
  const labels = variants.map((v) => {
    const suffix = v.state === 'retired' ? ' (retired)' : v.control ? ' (control)' : '';
    return narrow ? `${v.id}${suffix}` : `${v.id}${suffix} · ${truncate(v.text, 34)}`;
  });
  $('rate-chart').parentElement.style.height = `${Math.max(160, 56 * variants.length + 60)}px`;
  const summary = variants
    .map(
      (v) => `${v.id} ${percent(rateOf(v, report))} (${interval(v.ci_low, v.ci_high) ?? 'no interval yet'})`,
    )
    .join('; ');
  $('rate-chart').setAttribute('aria-label', `${label} by variant with 95% credible interval: ${summary}`);
  const colours = variants.map((_, i) => colourFor(i));
  upsertChart('rate', 'rate-chart', {
    type: 'bar',
    data: {
      labels,
      datasets: [
        {
          type: 'bar',
          label: '95% credible interval',
          data: variants.map((v) =>
            isNum(v.ci_low) && isNum(v.ci_high) ? [v.ci_low * 100, v.ci_high * 100] : null,
          ),
          backgroundColor: colours.map((c, i) => withAlpha(c, variants[i].state === 'retired' ? 0.12 : 0.22)),
          borderColor: colours.map((c, i) => withAlpha(c, variants[i].state === 'retired' ? 0.45 : 0.9)),
          borderWidth: 1.5,
          borderSkipped: false,
          borderRadius: 6,
          barPercentage: 0.62,
          categoryPercentage: 0.9,
          grouped: false,
          order: 2,
        },
        {
          type: 'line',
          label: `Observed ${label}`,
          data: variants.map((v) => toPercent(rateOf(v, report))),
          showLine: false,
          pointStyle: 'circle',
          pointRadius: 6,
          pointHoverRadius: 8,
          pointBackgroundColor: colours,
          pointBorderColor: '#ffffff',
          pointBorderWidth: 2,
          order: 1,
        },
      ],
    },
    options: {
      indexAxis: 'y',
      layout: { padding: { right: 8 } },
      scales: {
        x: {
          beginAtZero: true,
          grace: '5%',
          ticks: { callback: percentTick, maxTicksLimit: 8 },
          title: { display: true, text: label[0].toUpperCase() + label.slice(1) },
        },
        y: { grid: { display: false }, ticks: { color: '#0f172a', font: { weight: 600 } } },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => {
              const v = variants[items[0]?.dataIndex ?? 0];
              return v ? `${v.id}: ${truncate(v.text, 60)}` : '';
            },
            label: (item) => {
              const v = variants[item.dataIndex];
              if (!v) return '';
              return item.dataset.type === 'line'
                ? `Observed ${label}: ${percent(rateOf(v, report))}`
                : `95% interval: ${interval(v.ci_low, v.ci_high) ?? DASH}`;
            },
          },
        },
      },
    },
  });
}

function seriesFor(series, variants, report) {
  const key = metricKey(report);
  const totals = variants.map(() => ({ sends: 0, rewards: 0 }));
  const allocation = variants.map(() => []);
  const cumulative = variants.map(() => []);
  for (const point of series) {
    const perVariant = point && typeof point.variants === 'object' && point.variants ? point.variants : {};
    variants.forEach((variant, i) => {
      const entry = perVariant[variant.id];
      allocation[i].push(entry && isNum(entry.allocation) ? entry.allocation * 100 : 0);
      if (entry) {
        totals[i].sends += isNum(entry.sends) ? entry.sends : 0;
        totals[i].rewards += isNum(entry[key]) ? entry[key] : 0;
      }
      cumulative[i].push(totals[i].sends > 0 ? (totals[i].rewards / totals[i].sends) * 100 : null);
    });
  }
  return { allocation, cumulative };
}

function renderSeriesCharts(report, variants, series, label) {
  const hasSeries = series.length > 0 && variants.length > 0;
  for (const id of ['allocation', 'cumulative']) {
    show($(`${id}-chart`).parentElement, hasSeries);
    show($(`${id}-empty`), !hasSeries);
  }
  if (!hasSeries) {
    for (const key of ['allocation', 'cumulative']) destroyChart(key);
    return;
  }
  const labels = hourLabels(series);
  const { allocation, cumulative } = seriesFor(series, variants, report);
  const legendLabel = (v) =>
    `${v.id}${v.control ? ' (control)' : ''}${v.state === 'retired' ? ' (retired)' : ''}`;
  const lastShares = variants.map((v, i) => `${v.id} ${Math.round(allocation[i].at(-1) ?? 0)}%`).join(', ');
  $('allocation-chart').setAttribute(
    'aria-label',
    `Traffic share per hour over ${series.length} hours, stacked to 100%. Latest hour: ${lastShares}.`,
  );
  const lastRates = variants
    .map((v, i) => `${v.id} ${isNum(cumulative[i].at(-1)) ? `${cumulative[i].at(-1).toFixed(2)}%` : DASH}`)
    .join(', ');
  $('cumulative-chart').setAttribute(
    'aria-label',
    `Cumulative ${label} per variant over time. Latest: ${lastRates}.`,
  );
  $('cumulative-chart-caption').textContent =
    `${metricKey(report) === 'opens' ? 'Opens' : 'Clicks'} so far divided by sends so far, per variant.`;

  const common = {
    interaction: { mode: 'index', intersect: false },
    scales: {
      x: {
        grid: { display: false },
        // A lone hour sits in the middle rather than on the axis.
        offset: series.length === 1,
        ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 12 },
      },
    },
    plugins: { legend: { position: 'bottom' } },
  };

  // One hour of data cannot make an area: show that hour as a single stacked bar instead.
  const singleHour = series.length === 1;
  upsertChart('allocation', 'allocation-chart', {
    type: singleHour ? 'bar' : 'line',
    data: {
      labels,
      datasets: variants.map((v, i) => ({
        label: legendLabel(v),
        data: allocation[i],
        borderColor: colourFor(i),
        backgroundColor: withAlpha(colourFor(i), singleHour ? 0.75 : 0.3),
        borderWidth: singleHour ? 0 : 1.5,
        pointRadius: 0,
        pointHoverRadius: 4,
        tension: 0.25,
        fill: i === 0 ? 'origin' : '-1',
        maxBarThickness: 96,
      })),
    },
    options: {
      ...common,
      scales: {
        x: { ...common.scales.x, stacked: true },
        y: { stacked: true, min: 0, max: 100, ticks: { callback: percentTick, stepSize: 25 } },
      },
      plugins: {
        ...common.plugins,
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${Math.round(item.parsed.y)}%` } },
      },
    },
  });

  upsertChart('cumulative', 'cumulative-chart', {
    type: 'line',
    data: {
      labels,
      datasets: variants.map((v, i) => ({
        label: legendLabel(v),
        data: cumulative[i],
        borderColor: colourFor(i),
        backgroundColor: colourFor(i),
        borderWidth: 2,
        borderDash: v.state === 'retired' ? [4, 4] : [],
        pointRadius: 2.5,
        pointHoverRadius: 5,
        tension: 0.25,
        spanGaps: true,
      })),
    },
    options: {
      ...common,
      scales: {
        ...common.scales,
        y: { beginAtZero: true, grace: '10%', ticks: { callback: percentTick, maxTicksLimit: 7 } },
      },
      plugins: {
        ...common.plugins,
        tooltip: {
          callbacks: {
            label: (item) =>
              `${item.dataset.label}: ${isNum(item.parsed.y) ? `${item.parsed.y.toFixed(2)}%` : DASH}`,
          },
        },
      },
    },
  });
}
