// statuscast's embeddable widget. On any site:
//   <div data-statuscast><a href="https://status.example.com/">System status</a></div>
//   <script src="https://status.example.com/embed.js" async></script>
// Each such element shows the live overall status (colour, words, the open incident, a link
// to the page), kept current over Server-Sent Events from the server the script came from.
// It draws in a shadow root, so the host page's CSS does not reach it and its own CSS does
// not leave it; text is set as text, never as markup. Without scripts the link stays.
(function () {
  var script = document.currentScript;
  if (!script) return;
  var origin = new URL(script.src).origin;
  var colours = {
    operational: '#1a7f37', degraded_performance: '#9a6700', partial_outage: '#bc4c00',
    major_outage: '#cf222e', under_maintenance: '#0969da'
  };
  var css = ':host{all:initial;display:inline-block}' +
    'a{display:inline-flex;align-items:center;gap:.5em;padding:.35em .7em;border:1px solid #d0d7de;' +
    'border-radius:6px;background:#fff;color:#1f2328;font:14px/1.4 system-ui,sans-serif;text-decoration:none}' +
    'a:hover{background:#f6f8fa}.dot{width:.7em;height:.7em;border-radius:50%;background:#8c959f;flex:none}' +
    '.incident{color:#59636e}.stale .dot{opacity:.4}';
  var widgets = [];

  function mount(el) {
    if (el.shadowRoot || !el.attachShadow) return;
    var root = el.attachShadow({ mode: 'open' });
    var style = document.createElement('style');
    style.textContent = css;
    var link = document.createElement('a');
    link.href = origin + '/';
    link.target = '_top';
    link.setAttribute('part', 'link');
    var dot = document.createElement('span');
    dot.className = 'dot';
    var words = document.createElement('span');
    words.className = 'words';
    words.textContent = (el.textContent || 'System status').trim();
    var incident = document.createElement('span');
    incident.className = 'incident';
    link.append(dot, words, incident);
    root.append(style, link);
    widgets.push({ link: link, dot: dot, words: words, incident: incident });
  }

  function render(s) {
    var open = (s.incidents || []).filter(function (i) { return i.status !== 'resolved'; })[0];
    widgets.forEach(function (w) {
      w.link.className = '';
      w.link.dataset.level = s.level;
      w.dot.style.background = colours[s.level] || '#8c959f';
      w.words.textContent = s.message;
      w.incident.textContent = open ? open.title : '';
    });
  }

  function stale() {
    widgets.forEach(function (w) { w.link.className = 'stale'; });
  }

  function start() {
    document.querySelectorAll('[data-statuscast]').forEach(mount);
    if (!widgets.length) return;
    var events = new EventSource(origin + '/connect_to_sse');
    events.addEventListener('status', function (e) { render(JSON.parse(e.data)); });
    events.onerror = stale; // the browser reconnects by itself
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
