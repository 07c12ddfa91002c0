// Status controls: pause, resume, and finish with an active variant as the winner after a confirmation.
import { $, el } from './dom.js';
import { truncate } from './format.js';
import { state } from './state.js';

export function renderControls(report, variants) {
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

export function openFinishDialog() {
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
