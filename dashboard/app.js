// weft dashboard: reads the admin JSON API on this origin with the admin token held in this tab only
// (memory + sessionStorage). All text goes through textContent: variant texts and names are user input.

const REFRESH_MS = 10_000;
/** The API's largest page: the fewest round trips for the whole list. */
const EXPERIMENTS_PAGE_SIZE = 100;
const TOKEN_KEY = 'weft.adminToken';
const DASH = '—';
const PALETTE = ['#4338ca', '#0f8a7c', '#c2610c', '#be185d', '#0369a1', '#6d28d9', '#4d7c0f', '#b91c1c'];
const STATUS_LABELS = { running: 'Running', paused: 'Paused', finished: 'Finished' };
const METRIC_LABELS = { clicks: 'click rate', opens: 'open rate' };
const PHASE_LABELS = { burn_in: 'burn-in (equal shares)', learning: 'learning', settled: 'settled' };

/** Everything before `/dashboard` in the page's path, so the page also works behind a stage prefix. */
const BASE_PATH = location.pathname.replace(/\/dashboard\/?.*$/, '');

const state = {
  token: null,
  experiments: [],
  selectedId: null,
  report: null,
  /** Bumped whenever the selection changes, so a slow answer for the previous experiment is dropped. */
  generation: 0,
  timer: null,
  busy: false,
  charts: { rate: null, allocation: null, cumulative: null },
};

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------------------
// Formatting

const isNum = (value) => typeof value === 'number' && Number.isFinite(value);
const integer = new Intl.NumberFormat('en-US');

function percent(value, digits = 2) {
  return isNum(value) ? `${(value * 100).toFixed(digits)}%` : DASH;
}

function probability(value) {
  if (!isNum(value)) return DASH;
  if (value >= 0.9995) return '>99.9%';
  if (value > 0 && value < 0.0005) return '<0.1%';
  return `${(value * 100).toFixed(1)}%`;
}

function percentagePoints(value) {
  if (!isNum(value)) return DASH;
  const points = value * 100;
  if (points > 0 && points < 0.001) return '<0.001 pp';
  return `${points.toFixed(points < 0.1 ? 3 : 2)} pp`;
}

function signedPercent(value) {
  if (!isNum(value)) return DASH;
  const sign = value > 0 ? '+' : value < 0 ? '−' : '±';
  return `${sign}${Math.abs(value * 100).toFixed(1)}%`;
}

function count(value) {
  return isNum(value) ? integer.format(value) : DASH;
}

function interval(low, high) {
  return isNum(low) && isNum(high) ? `${percent(low)}–${percent(high)}` : null;
}

function truncate(text, max) {
  const value = String(text ?? '');
  return value.length > max ? `${value.slice(0, max - 1).trimEnd()}…` : value;
}

function clockTime(iso) {
  const date = iso ? new Date(iso) : new Date();
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function hourLabels(series) {
  const dates = series.map((point) => new Date(point.hour));
  const valid = dates.every((d) => !Number.isNaN(d.getTime()));
  if (!valid) return series.map((point) => String(point.hour ?? ''));
  const spansDays = dates.length > 0 && dates[0].toDateString() !== dates[dates.length - 1].toDateString();
  const format = spansDays
    ? { weekday: 'short', hour: '2-digit', minute: '2-digit' }
    : { hour: '2-digit', minute: '2-digit' };
  return dates.map((d) => d.toLocaleString(undefined, format));
}

const metricKey = (report) => (report?.metric === 'opens' ? 'opens' : 'clicks');
const metricLabel = (report) => METRIC_LABELS[metricKey(report)];
const statusLabel = (status) => STATUS_LABELS[status] ?? (status ? String(status) : 'Unknown');

/** The rate of the experiment's metric, from the report or, when it has none yet, from the counts. */
function rateOf(variant, report) {
  const reported = metricKey(report) === 'opens' ? variant.open_rate : variant.click_rate;
  if (isNum(reported)) return reported;
  const rewards = variant[metricKey(report)];
  return isNum(rewards) && isNum(variant.sends) && variant.sends > 0 ? rewards / variant.sends : null;
}

function variantName(variant) {
  return `${variant.id}`;
}

function colourFor(index) {
  return PALETTE[index % PALETTE.length];
}

function withAlpha(hex, alpha) {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

// ---------------------------------------------------------------------------------------------------------
// DOM helpers

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('aria-') || key.startsWith('data-') || key === 'role' || key === 'scope') {
      node.setAttribute(key, value === true ? '' : String(value));
    } else node[key] = value;
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function show(node, visible) {
  node.hidden = !visible;
}

let toastTimer = null;
function toast(message) {
  const node = $('toast');
  node.textContent = message;
  node.classList.add('visible');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => node.classList.remove('visible'), 3500);
}

function showBanner(message) {
  const banner = $('banner');
  banner.textContent = message;
  show(banner, Boolean(message));
}

// ---------------------------------------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Server text is shown to people: never echo the token, never dump JSON, keep it short. */
function scrub(text) {
  let value = String(text ?? '');
  if (state.token) value = value.split(state.token).join('•••');
  return truncate(value.replace(/\s+/g, ' ').trim(), 240);
}

function describeError(status, serverMessage) {
  if (status >= 500) return `The weft API had a problem (HTTP ${status}). The page will try again shortly.`;
  if (status === 401) return 'The admin token was not accepted. Check it and sign in again.';
  const [title, fallback] = {
    400: ['The request was rejected', 'check the values and try again.'],
    403: ['Not allowed', 'this token may not do that.'],
    404: ['Not found', 'this experiment does not exist for this tenant.'],
    405: ['Not allowed', 'the API does not offer that action.'],
    409: ['Conflict', 'the experiment changed meanwhile; refresh and try again.'],
    413: ['Too large', 'the request was too large.'],
    429: ['Busy', 'too many requests; the page will try again shortly.'],
  }[status] ?? [`The request failed (HTTP ${status})`, 'try again.'];
  const detail = serverMessage ? scrub(serverMessage) : '';
  return `${title}: ${detail || fallback}`;
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(`${BASE_PATH}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
  } catch {
    throw new ApiError(
      0,
      'network',
      'Could not reach the weft API. Check your connection; the page keeps trying.',
    );
  }
  const text = await response.text();
  let payload = null;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    payload = null;
  }
  if (!response.ok) {
    const error = payload && typeof payload.error === 'object' ? payload.error : {};
    throw new ApiError(response.status, error.code ?? '', describeError(response.status, error.message));
  }
  return payload;
}

const experimentPath = (id) => `/v1/experiments/${encodeURIComponent(id)}`;

// ---------------------------------------------------------------------------------------------------------
// Session: token from the fragment or the form; the fragment is rewritten at once so it is not left on screen.

function readFragment() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  return { token: params.get('token'), experiment: params.get('experiment') };
}

function writeFragment() {
  const hash = state.selectedId ? `#experiment=${encodeURIComponent(state.selectedId)}` : '';
  history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
}

function storeToken(token) {
  state.token = token;
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage can be disabled; the token then lives in memory only, which is fine.
  }
}

function savedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function showSignIn(message) {
  stopTimer();
  destroyCharts();
  state.report = null;
  show($('app-view'), false);
  show($('signout'), false);
  show($('signin-view'), true);
  const error = $('signin-error');
  error.textContent = message ?? '';
  show(error, Boolean(message));
  $('token-input').focus();
}

function signOut(message) {
  storeToken(null);
  state.experiments = [];
  showSignIn(message);
}

async function enterApp() {
  show($('signin-view'), false);
  show($('app-view'), true);
  show($('signout'), true);
  const ok = await loadExperiments();
  if (!state.token) return;
  startTimer();
  if (!ok) return;
  const wanted = state.selectedId;
  if (wanted && !state.experiments.some((e) => e.id === wanted)) {
    // A stale or mistyped link: say so rather than quietly showing another experiment.
    state.selectedId = null;
    writeFragment();
    renderExperimentList();
    showBanner(describeError(404, `there is no experiment “${wanted}”. Choose one from the list.`));
    show($('experiment-content'), false);
    show($('placeholder'), true);
    return;
  }
  const id = wanted ?? state.experiments[0]?.id ?? null;
  if (id) selectExperiment(id);
}

function handleApiError(error) {
  if (error instanceof ApiError && error.status === 401) {
    signOut(error.message);
    return;
  }
  showBanner(
    error instanceof ApiError ? error.message : 'Something went wrong in the page. Reload to try again.',
  );
}

// ---------------------------------------------------------------------------------------------------------
// Experiments list

/** Every experiment of the tenant: the list is paged, so follow `next_cursor` until the last page. */
async function fetchAllExperiments() {
  const all = [];
  const seen = new Set();
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: String(EXPERIMENTS_PAGE_SIZE) });
    if (cursor) query.set('cursor', cursor);
    const payload = await api(`/v1/experiments?${query}`);
    if (Array.isArray(payload?.experiments)) all.push(...payload.experiments);
    cursor = typeof payload?.next_cursor === 'string' ? payload.next_cursor : null;
    // A cursor seen before would loop for ever; stop with what we have.
    if (cursor && seen.has(cursor)) break;
    if (cursor) seen.add(cursor);
  } while (cursor);
  return all;
}

async function loadExperiments() {
  try {
    state.experiments = await fetchAllExperiments();
    renderExperimentList();
    return true;
  } catch (error) {
    handleApiError(error);
    return false;
  }
}

function renderExperimentList() {
  const list = $('experiment-list');
  list.replaceChildren(
    ...state.experiments.map((experiment) => {
      const selected = experiment.id === state.selectedId;
      const button = el(
        'button',
        { type: 'button', class: 'experiment-item', 'aria-current': selected ? 'true' : null },
        el('span', { class: 'experiment-name', text: experiment.name || experiment.id }),
        el(
          'span',
          { class: 'experiment-meta' },
          el('span', {
            class: `badge badge-${experiment.status ?? 'unknown'}`,
            text: statusLabel(experiment.status),
          }),
          el('span', { class: 'muted', text: METRIC_LABELS[experiment.metric] ?? '' }),
        ),
      );
      button.addEventListener('click', () => selectExperiment(experiment.id));
      return el('li', {}, button);
    }),
  );
  show($('experiments-empty'), state.experiments.length === 0);
}

function selectExperiment(id) {
  if (state.selectedId !== id) destroyCharts();
  state.selectedId = id;
  state.generation += 1;
  state.report = null;
  writeFragment();
  renderExperimentList();
  showBanner('');
  show($('experiment-content'), false);
  const placeholder = $('placeholder');
  placeholder.textContent = 'Loading…';
  show(placeholder, true);
  loadReport();
}

// ---------------------------------------------------------------------------------------------------------
// Report

async function loadReport() {
  const id = state.selectedId;
  if (!id) return;
  const generation = state.generation;
  $('experiment-view').setAttribute('aria-busy', 'true');
  try {
    const report = await api(`${experimentPath(id)}/report`);
    if (generation !== state.generation) return;
    state.report = report ?? {};
    showBanner('');
    renderReport();
  } catch (error) {
    if (generation !== state.generation) return;
    handleApiError(error);
    if (!state.report) {
      const placeholder = $('placeholder');
      placeholder.textContent = 'This experiment could not be loaded.';
    }
  } finally {
    $('experiment-view').removeAttribute('aria-busy');
  }
}

function renderReport() {
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

/** The report's leader, unless nothing has been sent yet: then every variant ties and naming one misleads. */
function leaderOf(report, variants) {
  if (sumOf(variants, 'sends') === 0) return null;
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
    leaderLine.textContent = 'Not enough data to name a leader.';
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
        el('td', { class: 'num', text: count(variant.opens) }),
        el('td', { class: 'num', text: count(variant.clicks) }),
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

// ---------------------------------------------------------------------------------------------------------
// Charts (Chart.js, vendored). Animation off: the page refreshes every 10 s and should not twitch.

function chartLib() {
  return typeof window.Chart === 'function' ? window.Chart : null;
}

function configureChartDefaults() {
  const Chart = chartLib();
  if (!Chart) return;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = '#475569';
  Chart.defaults.borderColor = '#e5e7eb';
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.tooltip.backgroundColor = '#0f172a';
  Chart.defaults.plugins.tooltip.padding = 10;
  Chart.defaults.plugins.tooltip.cornerRadius = 6;
  Chart.defaults.plugins.legend.labels.usePointStyle = true;
  Chart.defaults.plugins.legend.labels.boxWidth = 8;
  Chart.defaults.plugins.legend.labels.boxHeight = 8;
}

function destroyCharts() {
  for (const key of Object.keys(state.charts)) {
    state.charts[key]?.destroy();
    state.charts[key] = null;
  }
}

/** Creates the chart once, then swaps its data in place so refreshes keep tooltips and do not flicker. */
function upsertChart(key, canvasId, config) {
  const Chart = chartLib();
  if (!Chart) return;
  const existing = state.charts[key];
  if (existing && existing.config.type !== config.type) {
    existing.destroy();
    state.charts[key] = null;
  } else if (existing) {
    existing.data = config.data;
    existing.options = config.options;
    existing.update('none');
    return;
  }
  state.charts[key] = new Chart($(canvasId), config);
}

const percentTick = (value) => `${Number(value).toLocaleString(undefined, { maximumFractionDigits: 2 })}%`;
const toPercent = (value) => (isNum(value) ? value * 100 : null);

function renderCharts(report, variants) {
  const label = metricLabel(report);
  const series = Array.isArray(report.series) ? report.series : [];
  renderRateChart(report, variants, label);
  renderSeriesCharts(report, variants, series, label);
}

function renderRateChart(report, variants, label) {
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
    for (const key of ['allocation', 'cumulative']) {
      state.charts[key]?.destroy();
      state.charts[key] = null;
    }
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

// ---------------------------------------------------------------------------------------------------------
// Status controls

function renderControls(report, variants) {
  const status = report.status;
  const active = variants.filter((v) => v.state !== 'retired');
  const notes = {
    running: 'Running: weft assigns new recipients and shifts traffic towards the best variant.',
    paused:
      'Paused: recipients keep the variant they already have; new recipients get the control (or the first ' +
      'variant). Nothing new is counted.',
    finished:
      'Finished: recipients keep their variant; everyone else gets the winner. Resume to learn again.',
  };
  const winner = report.winner ?? null;
  const winnerVariant = variants.find((v) => v.id === winner);
  $('status-note').textContent =
    status === 'finished' && winnerVariant
      ? `${notes.finished} Winner: ${winnerVariant.id} (“${truncate(winnerVariant.text, 60)}”).`
      : (notes[status] ?? '');
  const finished = status === 'finished';
  $('pause-btn').disabled = state.busy || status !== 'running';
  $('resume-btn').disabled = state.busy || (status !== 'paused' && status !== 'finished');
  $('finish-btn').disabled = state.busy || finished || active.length === 0;

  const select = $('winner-select');
  const previous = select.value;
  select.replaceChildren(
    ...active.map((v) => el('option', { value: v.id, text: `${v.id} — ${truncate(v.text, 48)}` })),
  );
  const preferred = active.some((v) => v.id === previous)
    ? previous
    : (active.find((v) => v.id === report.leader)?.id ?? active[0]?.id);
  if (preferred) select.value = preferred;
  select.disabled = state.busy || finished || active.length === 0;
}

async function changeStatus(status, winner) {
  const id = state.selectedId;
  if (!id || state.busy) return;
  state.busy = true;
  if (state.report) renderControls(state.report, state.report.variants ?? []);
  try {
    await api(`${experimentPath(id)}/status`, {
      method: 'POST',
      body: winner ? { status, winner } : { status },
    });
    if (id === state.selectedId && state.report) state.report = { ...state.report, status, winner };
    const verbs = { running: 'resumed', paused: 'paused', finished: `finished with winner ${winner}` };
    toast(`Experiment ${verbs[status] ?? status}.`);
  } catch (error) {
    handleApiError(error);
  } finally {
    state.busy = false;
  }
  if (!state.token) return;
  if (state.report && id === state.selectedId) renderReport();
  // The clicked button is now disabled; keep keyboard users on the control that undoes it.
  const next = { paused: 'resume-btn', running: 'pause-btn' }[status];
  if (next && !$(next).disabled) $(next).focus();
  await Promise.all([loadExperiments(), loadReport()]);
}

function openFinishDialog() {
  const select = $('winner-select');
  const variant = (state.report?.variants ?? []).find((v) => v.id === select.value);
  if (!variant) return;
  $('confirm-body').textContent =
    `Finish “${$('exp-title').textContent}” with ${variant.id} (“${truncate(variant.text, 80)}”) as the winner? ` +
    'Recipients who already have a variant keep it; everyone else gets the winner. weft stops learning.';
  const dialog = $('confirm-dialog');
  dialog.dataset.winner = variant.id;
  dialog.showModal();
  $('confirm-cancel').focus();
}

// ---------------------------------------------------------------------------------------------------------
// Connected Content snippet: built here from this origin; the connect token is a placeholder, never a secret.

/** The snippet the API builds (the same text `npx weft snippet` prints); a fallback for older servers. */
function snippetText(id) {
  const meta = state.experiments.find((e) => e.id === id);
  if (meta?.snippet?.subject && meta.snippet.body) {
    return `# Subject line\n${meta.snippet.subject}\n\n# Body\n${meta.snippet.body}\n`;
  }
  const host = `${location.origin}${BASE_PATH}`;
  const experiment = encodeURIComponent(id);
  return [
    `{% connected_content ${host}/v1/content?experiment=${experiment}` +
      // biome-ignore lint/suspicious/noTemplateCurlyInString: `${braze_id}` is Braze Liquid, not a JS placeholder.
      '&recipient={{${braze_id} | sha2}}&campaign={{campaign.${api_id}}} ' +
      ':headers {"Authorization": "Bearer CONNECT_TOKEN"} :save weft :retry %}',
    'Subject: {{weft.text}}',
  ].join('\n');
}

function renderSnippet() {
  const code = $('snippet');
  const text = snippetText(state.selectedId);
  if (code.textContent !== text) code.textContent = text;
}

async function copySnippet() {
  const text = snippetText(state.selectedId);
  const status = $('copy-status');
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = 'Copied.';
  } catch {
    const range = document.createRange();
    range.selectNodeContents($('snippet'));
    const selection = getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    status.textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
  }
  setTimeout(() => {
    status.textContent = '';
  }, 4000);
}

// ---------------------------------------------------------------------------------------------------------
// Refresh loop

function startTimer() {
  stopTimer();
  state.timer = setInterval(refresh, REFRESH_MS);
}

function stopTimer() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

async function refresh() {
  if (!state.token || document.hidden || !$('auto-refresh').checked || state.busy) return;
  // Nothing shown yet (the API was unreachable, or the tenant had no experiments): start over.
  if (!state.selectedId && state.experiments.length === 0) return enterApp();
  await Promise.all([loadExperiments(), loadReport()]);
}

// ---------------------------------------------------------------------------------------------------------
// Wiring

function init() {
  configureChartDefaults();

  $('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('token-input');
    const token = input.value.trim();
    input.value = '';
    if (!token) {
      showSignIn('Enter the admin token.');
      return;
    }
    storeToken(token);
    enterApp();
  });
  $('signout').addEventListener('click', () => signOut());
  $('refresh-now').addEventListener('click', () => Promise.all([loadExperiments(), loadReport()]));
  $('auto-refresh').addEventListener('change', (event) => {
    if (event.target.checked) refresh();
  });
  $('pause-btn').addEventListener('click', () => changeStatus('paused'));
  $('resume-btn').addEventListener('click', () => changeStatus('running'));
  $('finish-btn').addEventListener('click', openFinishDialog);
  $('confirm-cancel').addEventListener('click', () => $('confirm-dialog').close());
  $('confirm-ok').addEventListener('click', () => {
    const dialog = $('confirm-dialog');
    const winner = dialog.dataset.winner;
    dialog.close();
    if (winner) changeStatus('finished', winner);
  });
  $('copy-snippet').addEventListener('click', copySnippet);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) refresh();
  });
  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (state.report) renderRateChart(state.report, state.report.variants ?? [], metricLabel(state.report));
    }, 200);
  });
  window.addEventListener('hashchange', () => {
    const fragment = readFragment();
    if (fragment.token) {
      storeToken(fragment.token);
      state.selectedId = fragment.experiment;
      writeFragment();
      enterApp();
    } else if (fragment.experiment && fragment.experiment !== state.selectedId && state.token) {
      selectExperiment(fragment.experiment);
    }
  });

  const fragment = readFragment();
  if (fragment.token) storeToken(fragment.token);
  else state.token = savedToken();
  state.selectedId = fragment.experiment;
  writeFragment();
  if (state.token) enterApp();
  else showSignIn();
}

init();
