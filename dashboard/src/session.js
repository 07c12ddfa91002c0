// Token and fragment: `#token=…&experiment=…` or the form; the token is kept in this tab only (sessionStorage).
import { state } from './state.js';

const TOKEN_KEY = 'weft.adminToken';

export function readFragment() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  return { token: params.get('token'), experiment: params.get('experiment') };
}

/** Rewritten at once, so a token in the fragment is not left on screen or in the history. */
export function writeFragment() {
  const hash = state.selectedId ? `#experiment=${encodeURIComponent(state.selectedId)}` : '';
  history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
}

export function storeToken(token) {
  state.token = token;
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage can be disabled; the token then lives in memory only, which is fine.
  }
}

export function savedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}
