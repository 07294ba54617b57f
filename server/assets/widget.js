/*!
 * Luukku chat widget: the loader. Plain JavaScript, no build step, no dependencies.
 *
 *   <script src="https://HOST/widget.js" data-service="health-chat"></script>
 *
 *   data-service  preselected service id
 *   data-lang     fi | sv | en (else the page's <html lang>, else en)
 *   data-server   base URL of the Luukku server (default: the origin of this script's src)
 *
 * This stays a classic script, so any page can include it with one tag. It reads its
 * attributes and loads the widget's ES modules from the Luukku server (served with CORS *):
 * ui/widget/main.js and what it imports, among them the protocol client shared with the
 * console (ui/shared/). The widget lives in an open shadow root on <div id="luukku-widget-host">.
 */
(function () {
  'use strict';
  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script || window.LuukkuWidget) return;
  var root = (script.dataset.server
    ? new URL(script.dataset.server, location.href).href
    : new URL(script.src, location.href).origin).replace(/\/+$/, '');
  var config = {
    root: root,
    service: script.dataset.service || null,
    lang: script.dataset.lang || document.documentElement.lang || 'en',
  };
  // Calls made before the modules have loaded are played back once they have.
  var api = null;
  var early = [];
  window.LuukkuWidget = {
    open: function () { if (api) api.open(); else early.push('open'); },
    close: function () { if (api) api.close(); else early.push('close'); },
  };
  var base = root + '/ui/widget/';
  import(base + 'config.js')
    .then(function (c) { c.configure(config); return import(base + 'main.js'); })
    .then(function (m) {
      api = m.mount();
      early.forEach(function (k) { api[k](); });
    })
    .catch(function (e) { console.warn('Luukku chat widget could not be loaded:', e && e.message); });
})();
