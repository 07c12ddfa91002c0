// The report view: title and meta, verdict and key figures, variants table, then charts, controls, snippet.
import { $, el, show } from './dom.js';
import {
  clockTime,
  colourFor,
  count,
  DASH,
  interval,
  isNum,
  metricKey,
  metricLabel,
  PHASE_LABELS,
  percent,
  percentagePoints,
  probability,
  rateOf,
  signedPercent,
  statusLabel,
  variantName,
} from './format.js';
import { renderCharts } from './report-charts.js';
import { renderSnippet } from './snippet.js';
import { state } from './state.js';
import { renderControls } from './status-controls.js';

export function renderReport() {
  const report = state.report;
  const variants = Array.isArray(report.variants) ? report.variants : [];
  const meta = state.experiments.find((e) => e.id === state.selectedId) ?? {};
  show($('placeholder'), false);
  show($('experiment-content'), true);

  $('exp-title').textContent = report.name || meta.name || report.experiment || state.selectedId;
  const phase = PHASE_LABELS[report.phase];
  $('exp-phase').textContent = phase ?? '';
  show($('exp-phase').parentElement, Boolean(phase));
  $('exp-id').textContent = state.selectedId;
  $('exp-metric').textContent = metricLabel(report);
  const status = report.status ?? meta.status;
  const badge = $('exp-status');
  badge.className = `badge badge-${status ?? 'unknown'}`;
  badge.textContent = statusLabel(status);
  $('updated-at').textContent = `Data as of ${clockTime(report.updated_at)}`;

  renderHeadline(report, variants);
  renderTable(report, variants);
  renderCharts(report, variants);
  renderControls(report, variants);
  renderSnippet();
}

function sumOf(variants, field) {
  return variants.reduce((sum, v) => sum + (isNum(v[field]) ? v[field] : 0), 0);
}

/**
 * The report's leader, unless no reward of the metric has been seen yet: then every variant's P(best) is about
 * 1/k and naming one misleads.
 */
function leaderOf(report, variants) {
  if (sumOf(variants, 'sends') === 0 || report.has_data === false) return null;
  return variants.find((v) => v.id === report.leader) ?? null;
}

function renderHeadline(report, variants) {
  const totalSends = sumOf(variants, 'sends');
  const leader = leaderOf(report, variants);
  const verdict = $('verdict');
  const leaderLine = $('leader-line');
  const explain = $('verdict-explain');
  const label = metricLabel(report);
  if (!leader) {
    verdict.className = 'verdict verdict-none';
    verdict.textContent = 'Confident: no — no leader yet';
    leaderLine.textContent =
      totalSends > 0
        ? `No data yet: not enough data to name a leader until the first ${metricKey(report).replace(/s$/, '')} comes back.`
        : 'Not enough data to name a leader.';
    explain.textContent =
      'weft shares traffic evenly until every variant has enough sends, then favours the best.';
  } else if (report.confident === true) {
    verdict.className = 'verdict verdict-yes';
    verdict.textContent = `Confident: yes — ${variantName(leader)} is the winner`;
    leaderLine.replaceChildren(
      el('span', { class: 'leader-label', text: `Leader ${variantName(leader)}` }),
      leader.text,
    );
    explain.textContent =
      `${variantName(leader)} has the highest ${label} with ${probability(leader.p_best)} probability, and ` +
      `picking it now risks giving up ${percentagePoints(leader.expected_loss)} at most on average. ` +
      'You can finish the experiment with it as the winner.';
  } else {
    verdict.className = 'verdict verdict-no';
    verdict.textContent = `Confident: not yet — ${variantName(leader)} is ahead`;
    leaderLine.replaceChildren(
      el('span', { class: 'leader-label', text: `Leader ${variantName(leader)}` }),
      leader.text,
    );
    explain.textContent =
      `${variantName(leader)} leads with ${probability(leader.p_best)} probability of being best. ` +
      'weft keeps moving traffic towards it; wait for 95% and a small expected loss before calling a winner.';
  }

  const totalRewards = sumOf(variants, metricKey(report));
  const kpis = [
    [
      'Sends',
      count(totalSends),
      totalSends > 0 ? `${percent(totalRewards / totalSends)} ${label} overall` : null,
    ],
    [
      `Leader’s ${label}`,
      leader ? percent(rateOf(leader, report)) : DASH,
      leader ? interval(leader.ci_low, leader.ci_high) : null,
    ],
    [
      'Leader’s P(best)',
      leader ? probability(leader.p_best) : DASH,
      leader ? 'probability it is best' : null,
    ],
    [
      'Leader vs control',
      leader && !leader.control ? signedPercent(leader.uplift_vs_control) : DASH,
      leader?.control ? 'the leader is the control' : leader ? `relative ${label} uplift` : null,
    ],
  ];
  $('kpis').replaceChildren(
    ...kpis.map(([term, value, note]) =>
      el(
        'div',
        { class: 'kpi' },
        el('dt', { text: term }),
        el('dd', {}, value, note ? el('span', { class: 'kpi-note', text: ` ${note}` }) : null),
      ),
    ),
  );
}

function renderTable(report, variants) {
  const label = metricLabel(report);
  $('rate-heading').textContent = `${label[0].toUpperCase()}${label.slice(1)}`;
  $('variants-caption').textContent = `Variants of ${state.selectedId}, optimising ${label}`;
  const body = $('variants-body');
  const leaderId = leaderOf(report, variants)?.id;
  if (variants.length === 0) {
    body.replaceChildren(
      el('tr', {}, el('td', { colSpan: 9, class: 'muted', text: 'This experiment has no variants yet.' })),
    );
    return;
  }
  body.replaceChildren(
    ...variants.map((variant, index) => {
      const retired = variant.state === 'retired';
      const leader = variant.id === leaderId;
      const tags = el(
        'span',
        { class: 'tags' },
        leader ? el('span', { class: 'tag tag-leader', text: 'leader' }) : null,
        variant.control ? el('span', { class: 'tag tag-control', text: 'control' }) : null,
        retired ? el('span', { class: 'tag tag-retired', text: 'retired' }) : null,
      );
      const share = isNum(variant.allocation) ? Math.max(0, Math.min(1, variant.allocation)) : null;
      const bar = el(
        'span',
        { class: 'share-bar', 'aria-hidden': 'true' },
        el('span', { class: 'share-fill' }),
      );
      bar.firstChild.style.width = `${share === null ? 0 : share * 100}%`;
      bar.firstChild.style.backgroundColor = colourFor(index);
      const ci = interval(variant.ci_low, variant.ci_high);
      return el(
        'tr',
        { class: [retired ? 'is-retired' : '', leader ? 'is-leader' : ''].join(' ').trim() },
        el(
          'th',
          { scope: 'row', class: 'variant-cell' },
          el(
            'span',
            { class: 'variant-head' },
            swatch(index),
            el('span', { class: 'variant-id', text: variant.id }),
            tags,
          ),
          el('span', { class: 'variant-text', text: variant.text ?? '' }),
        ),
        el('td', { class: 'num', text: count(variant.sends) }),
        el(
          'td',
          { class: 'num' },
          el('span', { text: count(variant.opens) }),
          isNum(variant.machine_opens) && variant.machine_opens > 0
            ? el('span', { class: 'ci', text: `+${count(variant.machine_opens)} machine` })
            : null,
        ),
        el(
          'td',
          { class: 'num' },
          el('span', { text: count(variant.clicks) }),
          isNum(variant.beacon_clicks) && variant.clicks > 0
            ? el('span', {
                class: 'ci',
                text: `${count(variant.beacon_clicks)} beacon · ${count(variant.currents_clicks)} Currents`,
              })
            : null,
          isNum(variant.conversions) && (variant.conversions > 0 || metricKey(report) === 'conversions')
            ? el('span', { class: 'ci', text: `${count(variant.conversions)} conversions` })
            : null,
        ),
        el(
          'td',
          { class: 'num' },
          el('span', { class: 'rate', text: percent(rateOf(variant, report)) }),
          ci ? el('span', { class: 'ci', text: ci }) : null,
        ),
        el('td', { class: 'num', text: probability(variant.p_best) }),
        el('td', { class: 'num', text: percentagePoints(variant.expected_loss) }),
        el('td', { class: 'share' }, bar, el('span', { class: 'share-value', text: percent(share, 0) })),
        el('td', {
          class: 'num',
          text: variant.control ? 'control' : signedPercent(variant.uplift_vs_control),
        }),
      );
    }),
  );
}

function swatch(index) {
  const node = el('span', { class: 'swatch', 'aria-hidden': 'true' });
  node.style.backgroundColor = colourFor(index);
  return node;
}
