// Chart.js, tree-shaken: only the pieces the report's charts use, a shared look, and one chart per canvas.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { $ } from './dom.js';
import { state } from './state.js';

Chart.register(
  BarController,
  LineController,
  BarElement,
  LineElement,
  PointElement,
  CategoryScale,
  LinearScale,
  Filler,
  Legend,
  Tooltip,
);

// As the UMD build did: `Chart.getChart(canvas)` in the console (and the browser test) finds a canvas's chart.
window.Chart = Chart;

/** Animation off: the page refreshes every 10 s and should not twitch. */
export function configureChartDefaults() {
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

export function destroyCharts() {
  for (const key of Object.keys(state.charts)) destroyChart(key);
}

export function destroyChart(key) {
  state.charts[key]?.destroy();
  state.charts[key] = null;
}

/** Creates the chart once, then swaps its data in place so refreshes keep tooltips and do not flicker. */
export function upsertChart(key, canvasId, config) {
  const existing = state.charts[key];
  if (existing && existing.config.type !== config.type) {
    destroyChart(key);
  } else if (existing) {
    existing.data = config.data;
    existing.options = config.options;
    existing.update('none');
    return;
  }
  state.charts[key] = new Chart($(canvasId), config);
}
