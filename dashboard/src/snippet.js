// Braze Connected Content snippet, built from this origin; the connect token is a placeholder, never a secret.
import { BASE_PATH } from './api.js';
import { $ } from './dom.js';
import { state } from './state.js';

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

export function renderSnippet() {
  const code = $('snippet');
  const text = snippetText(state.selectedId);
  if (code.textContent !== text) code.textContent = text;
}

export async function copySnippet() {
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
