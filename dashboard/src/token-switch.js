// A link to this page with another admin token (`#token=…`) is asked about, never followed silently: any page
// that can navigate this tab (its opener, a link aimed at its window) could otherwise swap the tenant under a
// person mid-task. Switching reloads the page, so nothing of the previous tenant stays on screen or in memory.
import { el } from './dom.js';
import { storeToken } from './session.js';

let pending = null;

/** Asks whether to sign in with `token`; `experiment` is opened after the reload when the link named one. */
export function confirmTokenSwitch(token, experiment) {
  pending?.close('stay');
  const stay = el('button', { type: 'button', class: 'btn', text: 'Stay signed in' });
  const change = el('button', { type: 'button', class: 'btn btn-primary', text: 'Switch tenant' });
  const dialog = el(
    'dialog',
    {
      class: 'dialog',
      id: 'token-switch-dialog',
      'aria-labelledby': 'token-switch-title',
      'aria-describedby': 'token-switch-body',
    },
    el('h2', { id: 'token-switch-title', text: 'Sign in with a different admin token?' }),
    el('p', {
      id: 'token-switch-body',
      text:
        'The link you followed carries another admin token, which may belong to another tenant. Switch only ' +
        'if you meant to open it: the page reloads signed in with that token. Otherwise stay where you are.',
    }),
    el('div', { class: 'dialog-actions' }, stay, change),
  );
  stay.addEventListener('click', () => dialog.close('stay'));
  change.addEventListener('click', () => dialog.close('switch'));
  // Escape, a second link or "Stay" all end here: only an explicit "Switch tenant" changes anything.
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (pending === dialog) pending = null;
    if (dialog.returnValue !== 'switch') return;
    storeToken(token);
    const hash = experiment ? `#experiment=${encodeURIComponent(experiment)}` : '';
    history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
    location.reload();
  });
  document.body.append(dialog);
  pending = dialog;
  dialog.showModal();
  stay.focus();
}
