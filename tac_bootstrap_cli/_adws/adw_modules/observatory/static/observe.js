// The observatory's only script (served from /static, as the Content-Security-Policy demands).
// It listens to /api/stream (server-sent events) and, when the database changed, fetches the
// current page again with X-Partial: 1 and swaps the new content into <main>. The server
// escapes every recorded value; this script writes text only through textContent.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var main = document.getElementById("main");
  var timer = null;
  var busy = false;
  var again = false;

  function say(text, state) {
    if (live) {
      live.textContent = text;
      live.className = state;
    }
  }

  function refresh() {
    timer = null;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    var open = {};
    main.querySelectorAll("details[id]").forEach(function (d) { open[d.id] = d.open; });
    fetch(location.href, { headers: { "X-Partial": "1" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(new Error(String(r.status))); })
      .then(function (html) {
        // DOMParser documents are inert: nothing in them runs, and the CSP forbids inline code.
        var doc = new DOMParser().parseFromString(html, "text/html");
        main.replaceChildren.apply(main, Array.prototype.slice.call(doc.body.childNodes));
        main.querySelectorAll("details[id]").forEach(function (d) {
          if (Object.prototype.hasOwnProperty.call(open, d.id)) { d.open = open[d.id]; }
        });
        document.body.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function (err) { say("refresh failed: " + err.message, "error"); })
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  if (!main || !window.EventSource) {
    say("live updates unavailable", "off");
    return;
  }
  var source = new EventSource("/api/stream");
  source.addEventListener("hello", function () { say("live", "on"); });
  source.addEventListener("change", function (msg) {
    var data = JSON.parse(msg.data);
    document.body.setAttribute("data-last-event", String(data.after));
    say("live · event #" + data.after, "on");
    if (timer === null) { timer = setTimeout(refresh, 50); }
  });
  source.onerror = function () { say("reconnecting…", "off"); };
})();
