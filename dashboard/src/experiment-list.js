// The experiment list in the sidebar: one button per experiment, the selected one marked aria-current.
import { $, el, show } from './dom.js';
import { METRIC_LABELS, statusLabel } from './format.js';
import { state } from './state.js';

/** `onSelect(id)` runs when a person picks an experiment. */
export function renderExperimentList(onSelect) {
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
      button.addEventListener('click', () => onSelect(experiment.id));
      return el('li', {}, button);
    }),
  );
  show($('experiments-empty'), state.experiments.length === 0);
}
