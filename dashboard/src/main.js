// Bundle entry: wires the page's controls and starts from the URL fragment or this tab's saved token.
import { configureChartDefaults } from './charts.js';
import {
  changeStatus,
  enterApp,
  loadExperiments,
  loadReport,
  refresh,
  selectExperiment,
  showSignIn,
  signOut,
} from './controller.js';
import { $ } from './dom.js';
import { metricLabel } from './format.js';
import { renderRateChart } from './report-charts.js';
import { readFragment, savedToken, storeToken, writeFragment } from './session.js';
import { copySnippet } from './snippet.js';
import { state } from './state.js';
import { openFinishDialog } from './status-controls.js';
import { confirmTokenSwitch } from './token-switch.js';

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
      // Out of the address bar (and this history entry) at once, whatever happens next.
      writeFragment();
      if (!state.token) {
        storeToken(fragment.token);
        state.selectedId = fragment.experiment;
        writeFragment();
        enterApp();
      } else if (fragment.token !== state.token) {
        confirmTokenSwitch(fragment.token, fragment.experiment);
      } else if (fragment.experiment && fragment.experiment !== state.selectedId) {
        selectExperiment(fragment.experiment);
      }
    } else if (fragment.experiment && fragment.experiment !== state.selectedId && state.token) {
      selectExperiment(fragment.experiment);
    }
  });

  const fragment = readFragment();
  const saved = savedToken();
  if (fragment.token && saved && fragment.token !== saved) {
    // This tab was signed in with another token (a reload or a link into it): asked, as for a later link.
    state.token = saved;
    state.selectedId = null;
    writeFragment();
    enterApp();
    confirmTokenSwitch(fragment.token, fragment.experiment);
    return;
  }
  if (fragment.token) storeToken(fragment.token);
  else state.token = saved;
  state.selectedId = fragment.experiment;
  writeFragment();
  if (state.token) enterApp();
  else showSignIn();
}

init();
