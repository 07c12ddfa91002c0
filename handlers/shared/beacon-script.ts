// The landing-page beacon (`GET /v1/weft.js`), served as is. On a page opened from an email link with
// `weft=<token>` it keeps the token for the visit (sessionStorage), takes `weft=` out of the address bar at
// once (history.replaceState: analytics and referrers never see it), and reports the click once per visit,
// only from a page a person sees: visible (Page Visibility API) for a short dwell, or at a first interaction.
// Later pages of the visit call `weft('conversion')`. Link scanners that run pages rarely show them or stay;
// the server's machine classifier filters the rest.
const DWELL_MS = 1000;

export const BEACON_SCRIPT = `/*! weft beacon */
(function () {
  'use strict';
  var KEY = 'weft.token', REPORTED = 'weft.reported';
  var script = document.currentScript;
  var endpoint = (script && script.src ? new URL(script.src).origin : '') + '/v1/events';
  var store = null;
  try { store = window.sessionStorage; } catch (e) {}
  function get(k) { try { return store ? store.getItem(k) : null; } catch (e) { return null; } }
  function set(k, v) { try { if (store) store.setItem(k, v); } catch (e) {} }
  var fresh = new URLSearchParams(window.location.search).get('weft');
  if (fresh !== null) {
    // Only the weft parts go: the page's other parameters stay exactly as written.
    var kept = window.location.search.slice(1).split('&').filter(function (part) {
      return part.split('=')[0] !== 'weft';
    }).join('&');
    window.history.replaceState(window.history.state, '', window.location.pathname + (kept ? '?' + kept : '') + window.location.hash);
    if (fresh && fresh !== get(KEY)) { set(KEY, fresh); set(REPORTED, ''); }
  }
  function send(type) {
    var token = get(KEY);
    if (!token) return;
    var body = JSON.stringify({ token: token, type: type });
    if (navigator.sendBeacon && navigator.sendBeacon(endpoint, body)) return;
    fetch(endpoint, { method: 'POST', body: body, keepalive: true, mode: 'cors', credentials: 'omit' }).catch(function () {});
  }
  var timer = null;
  function click() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (!get(KEY) || get(REPORTED)) return;
    set(REPORTED, '1');
    send('click');
  }
  function arm() {
    if (document.visibilityState === 'visible' && !timer && get(KEY) && !get(REPORTED)) timer = setTimeout(click, ${DWELL_MS});
  }
  if (fresh) {
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible') arm();
      else if (timer) { clearTimeout(timer); timer = null; }
    });
    ['pointerdown', 'keydown', 'touchstart'].forEach(function (name) {
      window.addEventListener(name, function () { if (document.visibilityState === 'visible') click(); }, { capture: true, passive: true });
    });
    arm();
  }
  var queued = (window.weft && window.weft.q) || [];
  window.weft = function (type) { if (type === 'conversion') send('conversion'); };
  for (var i = 0; i < queued.length; i++) window.weft.apply(null, queued[i]);
})();
`;
