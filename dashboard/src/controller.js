// What the page does: sign in and out, load experiments and reports, change status, refresh every 10 s.
import { ApiError, api, describeError, experimentPath, fetchAllExperiments } from './api.js';
import { destroyCharts } from './charts.js';
import { $, show, showBanner, toast } from './dom.js';
import { renderExperimentList } from './experiment-list.js';
import { renderReport } from './report-view.js';
import { storeToken, writeFragment } from './session.js';
import { state } from './state.js';
import { renderControls } from './status-controls.js';

const REFRESH_MS = 10_000;

const renderList = () => renderExperimentList(selectExperiment);

export function showSignIn(message) {
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

export function signOut(message) {
  storeToken(null);
  state.experiments = [];
  showSignIn(message);
}

export async function enterApp() {
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
    renderList();
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

export async function loadExperiments() {
  try {
    state.experiments = await fetchAllExperiments();
    renderList();
    return true;
  } catch (error) {
    handleApiError(error);
    return false;
  }
}

export function selectExperiment(id) {
  if (state.selectedId !== id) destroyCharts();
  state.selectedId = id;
  state.generation += 1;
  state.report = null;
  writeFragment();
  renderList();
  showBanner('');
  show($('experiment-content'), false);
  const placeholder = $('placeholder');
  placeholder.textContent = 'Loading…';
  show(placeholder, true);
  loadReport();
}

export async function loadReport() {
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

export async function changeStatus(status, winner) {
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

function startTimer() {
  stopTimer();
  state.timer = setInterval(refresh, REFRESH_MS);
}

function stopTimer() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

export async function refresh() {
  if (!state.token || document.hidden || !$('auto-refresh').checked || state.busy) return;
  // Nothing shown yet (the API was unreachable, or the tenant had no experiments): start over.
  if (!state.selectedId && state.experiments.length === 0) return enterApp();
  await Promise.all([loadExperiments(), loadReport()]);
}
