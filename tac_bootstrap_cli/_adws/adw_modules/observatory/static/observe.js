// The observatory's only script (served from /static, as the Content-Security-Policy demands).
//
// The server paints every page (it works without this script). This script keeps it live: it
// listens to /api/stream (server-sent events) and, when the database changed, fetches the JSON
// of what its page shows from the API (the events after the newest it shows, the run, the runs
// page, the sessions, the costs) and updates the page in place.
//
// Every recorded value is hostile. Values reach the page only through textContent, through
// setAttribute of class names, numbers and links this script builds from "/" paths, and through
// createElement / createElementNS: never as HTML. What it builds mirrors the templates
// (templates/_macros.html and the pages): keep the two alike.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var live = document.getElementById("live");
  var SVG_NS = "http://www.w3.org/2000/svg";
  var SVG_TAGS = { line: true, rect: true, text: true };
  var SVG_ATTRS = {
    "class": true, x: true, y: true, x1: true, y1: true, x2: true, y2: true,
    width: true, height: true, "text-anchor": true
  };
  var timer = null;
  var busy = false;
  var again = false;
  var streamAfter = 0;

  function say(text, state) {
    if (live) {
      live.textContent = text;
      live.className = state;
    }
  }

  // --- numbers and times, as the server's Jinja filters write them (views.py) ---

  function commas(digits) {
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  function num(value) {
    var n = Math.trunc(Number(value) || 0);
    return (n < 0 ? "-" : "") + commas(String(Math.abs(n)));
  }

  function money(value, digits) {
    var n = Number(value) || 0;
    var parts = Math.abs(n).toFixed(digits === undefined ? 4 : digits).split(".");
    return "$" + (n < 0 ? "-" : "") + commas(parts[0]) + (parts.length > 1 ? "." + parts[1] : "");
  }

  function when(text) {
    return String(text || "").slice(0, 19).replace("T", " ");
  }

  function pad2(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return ""; }
    var s = Number(seconds);
    if (s < 1) { return (s * 1000).toFixed(0) + " ms"; }
    if (s >= 3600) { return Math.floor(s / 3600) + "h " + pad2(Math.floor((s % 3600) / 60)) + "m"; }
    if (s >= 60) { return Math.floor(s / 60) + "m " + pad2(Math.floor(s % 60)) + "s"; }
    return s.toFixed(1) + " s";
  }

  function tokens(t) {
    return num(t.tokens_input) + " / " + num((t.tokens_cache_read || 0) + (t.tokens_cache_creation || 0)) +
      " / " + num(t.tokens_output);
  }

  // --- building elements (text only) ---

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function append(parent, children) {
    children.forEach(function (child) {
      parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return parent;
  }

  function link(href, text, rel) {
    var a = el("a", null, text);
    a.setAttribute("href", href);  // always a "/" path or "?" query built here
    if (rel) { a.setAttribute("rel", rel); }
    return a;
  }

  function code(text) {
    return el("code", null, text);
  }

  function status(value) {
    return el("span", "status " + value, value);
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function enc(value) {
    return encodeURIComponent(String(value));
  }

  // A chart of the server's scene (svg.py): the same geometry, drawn with createElementNS.
  function drawScene(scene, emptyText) {
    if (!scene) {
      return emptyText ? el("p", "empty", emptyText) : document.createDocumentFragment();
    }
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("class", String(scene["class"]));
    svg.setAttribute("width", String(Number(scene.width)));
    svg.setAttribute("height", String(Number(scene.height)));
    svg.setAttribute("viewBox", "0 0 " + Number(scene.width) + " " + Number(scene.height));
    svg.setAttribute("role", "img");
    if (scene.label) { svg.setAttribute("aria-label", String(scene.label)); }
    scene.items.forEach(function (item) {
      if (!SVG_TAGS[item.tag]) { return; }
      var node = document.createElementNS(SVG_NS, item.tag);
      Object.keys(item.attrs).forEach(function (name) {
        if (SVG_ATTRS[name]) { node.setAttribute(name, String(item.attrs[name])); }
      });
      if (item.text) { node.textContent = String(item.text); }
      if (item.title) {
        var title = document.createElementNS(SVG_NS, "title");
        title.textContent = String(item.title);
        node.appendChild(title);
      }
      svg.appendChild(node);
    });
    return svg;
  }

  function getJSON(url) {
    return fetch(url, { cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) { return Promise.reject(new Error(url.split("?")[0] + ": " + r.status)); }
        return r.json();
      });
  }

  // --- events of a phase or a session (the page's .events-block elements) ---

  function eventRow(e) {
    var row = el("tr", "ev " + e.log_type + (e.blocked ? " blocked" : ""));
    row.setAttribute("data-event-id", String(Number(e.id)));
    row.setAttribute("data-created", String(e.created_at || ""));
    var what = el("td");
    if (e.tool_name) { what.appendChild(code(e.tool_name)); } else { what.textContent = String(e.message); }
    var input = el("td", "input");
    if (e.tool_input) { input.appendChild(code(e.tool_input)); }
    var outcome = el("td", "outcome");
    if (e.blocked) {
      outcome.appendChild(el("strong", "reason", "blocked: " + (e.block_reason || "")));
    } else {
      outcome.textContent = String(e.outcome || "");
    }
    return append(row, [
      el("td", "num", String(Number(e.id))), el("td", "when", when(e.created_at)),
      el("td", null, e.hook_event || e.log_type), what, input, outcome
    ]);
  }

  function later(row, created, id) {
    var c = row.getAttribute("data-created") || "";
    return c > created || (c === created && Number(row.getAttribute("data-event-id")) > id);
  }

  // A block follows new events while it shows the newest ones (no page after it).
  function follows(block) {
    return block.getAttribute("data-has-after") === "0";
  }

  function addEvent(block, e) {
    var body = block.querySelector("table.events tbody");
    var id = Number(e.id);
    if (body.querySelector('tr[data-event-id="' + id + '"]')) { return; }
    var row = eventRow(e);
    var created = String(e.created_at || "");
    var next = null;
    for (var i = body.rows.length - 1; i >= 0 && later(body.rows[i], created, id); i--) {
      next = body.rows[i];  // in time order, as the server lists them (late commits included)
    }
    body.insertBefore(row, next);
    var limit = Number(block.getAttribute("data-limit")) || 200;
    while (body.rows.length > limit) {
      if (block.getAttribute("data-mode") === "latest") {
        body.removeChild(body.rows[0]);  // the window slides: the oldest leave it
        block.setAttribute("data-has-before", "1");
      } else {
        body.removeChild(body.rows[body.rows.length - 1]);  // the next page holds it
        block.setAttribute("data-has-after", "1");
      }
    }
  }

  function pager(block) {
    var p = block.querySelector("p.events-pager");
    var body = block.querySelector("table.events tbody");
    var before = block.getAttribute("data-has-before") === "1";
    var after = block.getAttribute("data-has-after") === "1";
    var total = num(block.getAttribute("data-total"));
    var rows = body.rows;
    block.querySelector("table.events").hidden = rows.length === 0;
    block.querySelector("p.events-empty").hidden = rows.length > 0;
    p.hidden = !(before || after);
    if (p.hidden) { p.replaceChildren(); return; }
    var first = rows.length ? rows[0].getAttribute("data-event-id") : "";
    var last = rows.length ? rows[rows.length - 1].getAttribute("data-event-id") : "";
    var base = block.getAttribute("data-base");
    var anchor = "#" + block.getAttribute("data-anchor");
    var limit = num(block.getAttribute("data-limit"));
    var parts = [rows.length ? num(rows.length) + " of " + total + " events (#" + first + " to #" + last + ")"
      : "no events on this page (" + total + " in all)"];
    if (before) {
      parts.push(" · ", link(base + anchor, "first", "first"), " · ",
        link(base + "&before=" + first + anchor, "previous " + limit, "prev"));
    }
    if (after) {
      parts.push(" · ", link(base + "&after=" + last + anchor, "next " + limit, "next"), " · ",
        link(base + "&latest=1" + anchor, "latest", "last"));
    }
    p.replaceChildren();
    append(p, parts);
  }

  function blocks() {
    var found = {};
    main.querySelectorAll("section.phase").forEach(function (section) {
      found[section.getAttribute("data-agent-id")] = section;
    });
    return found;
  }

  // The events after the newest the page was painted with (or has fetched since), for the
  // phases or the session that show the newest; each appended in time order.
  function fetchEvents(sections) {
    var following = Object.keys(sections).filter(function (id) {
      return follows(sections[id].querySelector(".events-block"));
    });
    var after = Number(main.getAttribute("data-after")) || 0;
    // Committed before the request is sent, so its answer holds every event up to this id (a
    // notice arriving meanwhile may name rows the answer does not have: they come next time).
    var known = Math.max(after, streamAfter);
    if (!following.length) {
      main.setAttribute("data-after", String(known));
      return Promise.resolve([]);
    }
    var url = "/api/events?after=" + after + following.map(function (id) { return "&agent=" + enc(id); }).join("");
    return getJSON(url).then(function (data) {
      if (data.events.length >= 500) {
        main.setAttribute("data-after", String(data.events[data.events.length - 1].id));
        again = true;  // more than one answer holds
      } else {
        var last = data.events.length ? Number(data.events[data.events.length - 1].id) : 0;
        main.setAttribute("data-after", String(Math.max(known, last)));
      }
      return data.events;
    });
  }

  function placeEvents(sections, events) {
    events.forEach(function (e) {
      if (e.log_type === "event" && e.message === "prompt metadata") { return; }  // not listed
      var section = sections[e.agent_id];
      var block = section && section.querySelector(".events-block");
      if (block && follows(block)) { addEvent(block, e); }
    });
  }

  function setTotal(section, total) {
    section.querySelector(".events-total").textContent = num(total);
    section.querySelector(".events-block").setAttribute("data-total", String(Number(total)));
  }

  // --- the run page ---

  function modelsCell(p) {
    var cell = el("td", "models", p.models_label || p.models || "");
    if (p.models_label && p.models_label.indexOf(" + ") >= 0) {
      if (p.per_model) {
        var list = el("ul", "per-model");
        p.per_model.forEach(function (m) {
          list.appendChild(el("li", null, m.model + ": " + num(m.tokens_input) + " / " + num(m.tokens_cached) +
            " / " + num(m.tokens_output) + ", " + money(m.cost_usd)));
        });
        cell.appendChild(list);
      } else {
        append(cell, [el("br"), el("small", "mixed", "one call of several models, not split: no per-model usage " +
          "was recorded, so its tokens and cost are the call's")]);
      }
    }
    return cell;
  }

  function promptRows(p) {
    var raw = el("td");
    if (p.raw_output) { raw.appendChild(link("/raw?path=" + enc(p.raw_output), "stream")); }
    var row = append(el("tr", "prompt"), [
      el("td", "when", when(p.created_at)), modelsCell(p), append(el("td"), [status(p.status)]),
      el("td", "num", tokens(p)), el("td", "num", String(Number(p.num_turns) || 0)),
      el("td", "num", duration((Number(p.duration_ms) || 0) / 1000)), el("td", "num cost", money(p.cost_usd)), raw
    ]);
    row.setAttribute("data-prompt-id", String(p.id));
    var texts = el("td");
    texts.setAttribute("colspan", "8");
    [["prompt-", "prompt", "content", p.content, false], ["result-", "result", "response", p.response, true]]
      .forEach(function (d) {
        var details = el("details");
        details.id = d[0] + p.id;
        details.open = d[4];
        append(details, [el("summary", null, d[1]), el("pre", d[2], d[3] || "")]);
        texts.appendChild(details);
      });
    return [row, append(el("tr", "texts"), [texts])];
  }

  function phaseSection(runId, ph, limit) {
    var section = el("section", "phase");
    section.id = "phase-" + ph.agent_id;
    section.setAttribute("data-agent-id", String(ph.agent_id));
    var table = el("table", "prompts");
    var head = el("tr");
    ["time", "model", "status", "tokens in / cached / out", "turns", "duration", "cost", "raw"].forEach(function (h, i) {
      head.appendChild(el("th", i >= 3 && i <= 6 ? "num" : null, h));
    });
    append(table, [append(el("thead"), [head]), el("tbody")]);
    var block = el("div", "events-block");
    block.setAttribute("data-base", "/runs/" + enc(runId) + "?phase=" + enc(ph.agent_id));
    block.setAttribute("data-anchor", "phase-" + ph.agent_id);
    block.setAttribute("data-mode", "first");
    block.setAttribute("data-limit", String(limit));
    block.setAttribute("data-has-before", "0");
    block.setAttribute("data-has-after", "0");
    block.setAttribute("data-total", "0");
    var events = el("table", "events");
    var eventsHead = el("tr");
    ["#", "time", "kind", "tool / message", "input", "outcome"].forEach(function (h) { eventsHead.appendChild(el("th", null, h)); });
    append(events, [append(el("thead"), [eventsHead]), el("tbody")]);
    var pagerLine = el("p", "pager events-pager");
    pagerLine.hidden = true;
    append(block, [pagerLine, events, el("p", "empty events-empty", "no events")]);
    return append(section, [
      el("h2"), el("p", "attempts"), el("h3", null, "Prompts"), table, el("p", "empty prompts-empty", "no prompts"),
      append(el("h3", null, "Events "), [el("small", "events-total", "0")]), block
    ]);
  }

  function applyPhase(section, ph) {
    var title = section.querySelector("h2");
    title.replaceChildren();
    append(title, [ph.phase + " ", el("small", null, ph.name + (ph.model ? " · " + ph.model : "")), " ", status(ph.status)]);
    var attempts = section.querySelector("p.attempts");
    attempts.replaceChildren();
    ph.attempts.forEach(function (a) {
      append(attempts, [el("span", "attempt " + (a.status || "running"), a.name + ": " + (a.status || "running")), " "]);
    });
    var shown = JSON.stringify(ph.prompts);
    if (section.promptsShown !== shown) {  // rebuilt only when they changed; open texts stay open
      var body = section.querySelector("table.prompts tbody");
      var open = {};
      body.querySelectorAll("details[id]").forEach(function (d) { open[d.id] = d.open; });
      body.replaceChildren();
      ph.prompts.forEach(function (p) { promptRows(p).forEach(function (r) { body.appendChild(r); }); });
      body.querySelectorAll("details[id]").forEach(function (d) {
        if (Object.prototype.hasOwnProperty.call(open, d.id)) { d.open = open[d.id]; }
      });
      section.querySelector("table.prompts").hidden = ph.prompts.length === 0;
      section.querySelector("p.prompts-empty").hidden = ph.prompts.length > 0;
      section.promptsShown = shown;
    }
    setTotal(section, ph.events_total);
  }

  function updateRun() {
    var runId = main.getAttribute("data-run");
    var limit = Number(main.getAttribute("data-limit")) || 200;
    var sections = blocks();
    return fetchEvents(sections).then(function (events) {
      return getJSON("/api/runs/" + enc(runId) + "?events=0").then(function (data) {
        var run = data.run;
        var state = byId("run-status");
        state.className = "status " + run.status;
        state.textContent = run.status;
        byId("run-workflow").textContent = run.workflow;
        byId("run-task").textContent = run.task;
        byId("run-branch").replaceChildren(code(run.branch));
        byId("run-branch").hidden = byId("run-branch-label").hidden = !run.branch;
        byId("run-started").textContent = when(run.started_at);
        byId("run-duration").textContent = duration(run.duration_s);
        byId("run-tokens").textContent = tokens(run.totals);
        byId("run-cost").textContent = money(run.totals.cost_usd);
        byId("gantt").replaceChildren(drawScene(data.gantt, ""));
        var holder = byId("phases");
        var fresh = [];
        data.phases.forEach(function (ph) {
          var section = sections[ph.agent_id];
          if (!section) {  // a phase that started while the page was open
            section = phaseSection(runId, ph, limit);
            holder.appendChild(section);
            sections[ph.agent_id] = section;
            fresh.push(ph.agent_id);
          }
          applyPhase(section, ph);
        });
        placeEvents(sections, events);
        return Promise.all(fresh.map(function (id) {
          return getJSON("/api/events?after=0&limit=" + (limit + 1) + "&agent=" + enc(id)).then(function (first) {
            placeEvents(sections, first.events);
          });
        }));
      }).then(function () {
        Object.keys(sections).forEach(function (id) { pager(sections[id].querySelector(".events-block")); });
      });
    });
  }

  // --- a session ---

  function updateSession() {
    var id = main.getAttribute("data-session");
    var sections = blocks();
    return fetchEvents(sections).then(function (events) {
      return getJSON("/api/sessions/" + enc(id) + "?events=0").then(function (data) {
        var state = byId("session-status");
        state.className = "status " + data.status;
        state.textContent = data.status;
        byId("session-ended-at").textContent = when(data.completed_at);
        byId("session-ended").hidden = !data.completed_at;
        setTotal(sections[id], data.events_total);
        placeEvents(sections, events);
        pager(sections[id].querySelector(".events-block"));
      });
    });
  }

  // --- the runs page ---

  function runRow(r) {
    var names = [];
    r.phases.forEach(function (p) { if (names.indexOf(p.phase) < 0) { names.push(p.phase); } });
    var row = append(el("tr", "run"), [
      append(el("td"), [append(link("/runs/" + enc(r.id), ""), [code(String(r.id).slice(0, 12))])]
        .concat(r.machine ? [document.createTextNode(" "), el("span", "machine", String(r.machine))] : [])),
      el("td", null, r.workflow), el("td", "task", String(r.task || "").slice(0, 120)),
      append(el("td"), [code(r.branch)]), append(el("td"), [status(r.status)]),
      el("td", "when", when(r.started_at)), el("td", "num", duration(r.duration_s)),
      el("td", null, names.join(", ")), el("td", "num", tokens(r.totals)), el("td", "num cost", money(r.totals.cost_usd))
    ]);
    row.setAttribute("data-run-id", String(r.id));
    return row;
  }

  function updateRuns() {
    var params = new URLSearchParams(location.search);
    var filters = { status: params.get("status") || "", workflow: params.get("workflow") || "", q: params.get("q") || "" };
    var query = new URLSearchParams(filters);
    query.set("page", params.get("page") || "1");
    return getJSON("/api/runs?" + query.toString()).then(function (data) {
      byId("runs-total").textContent = num(data.total);
      var body = byId("runs-body");
      body.replaceChildren();
      data.runs.forEach(function (r) { body.appendChild(runRow(r)); });
      byId("runs-table").hidden = data.runs.length === 0;
      byId("runs-empty").hidden = data.runs.length > 0;
      var select = byId("workflow-filter");
      var known = select ? Array.prototype.slice.call(select.options, 1).map(function (o) { return o.value; }) : [];
      if (select && JSON.stringify(known) !== JSON.stringify(data.workflows)) {
        var chosen = select.value;
        while (select.options.length > 1) { select.remove(1); }
        data.workflows.forEach(function (w) {
          var option = el("option", null, w);
          option.value = w;
          option.selected = w === chosen;
          select.appendChild(option);
        });
      }
      var p = byId("runs-pager");
      p.replaceChildren();
      p.hidden = data.runs.length === 0;
      var parts = ["page " + data.page + " of " + data.pages + " "];
      [[data.page - 1, "previous", "prev", data.page > 1], [data.page + 1, "next", "next", data.page < data.pages]]
        .forEach(function (d) {
          if (!d[3]) { return; }
          var target = new URLSearchParams(filters);
          target.set("page", String(d[0]));
          parts.push(link("?" + target.toString(), d[1], d[2]), " ");
        });
      append(p, parts);
    });
  }

  // --- the sessions page ---

  function updateSessions() {
    var page = Number(main.getAttribute("data-session-page")) || 1;
    return getJSON("/api/sessions?page=" + page).then(function (data) {
      var body = byId("sessions-body");
      body.replaceChildren();
      data.sessions.forEach(function (s) {
        var row = append(el("tr", "session"), [
          append(el("td"), [append(link("/sessions/" + enc(s.agent_id), ""), [code(String(s.session_id).slice(0, 18))])]),
          append(el("td"), [status(s.status)]), el("td", "when", when(s.created_at)),
          el("td", "when", when(s.last_event_at)), el("td", "num", num(s.events)), append(el("td"), [code(s.cwd)])
        ]);
        row.setAttribute("data-agent-id", String(s.agent_id));
        body.appendChild(row);
      });
      byId("sessions-table").hidden = data.sessions.length === 0;
      byId("sessions-empty").hidden = data.sessions.length > 0;
    });
  }

  // --- the costs page ---

  var NOTES = [
    ["models_split", " call(s) of several models are split by the per-model usage recorded with them: tokens as " +
      "counted per model, cost in proportion to each model's cost. Such a call counts once for each of its " +
      "models, so the prompts below add up to more than the total."],
    ["models_mixed", " call(s) of several models have no per-model usage recorded: they stay whole under " +
      "\"a + b\" (mixed), their tokens and cost attributed to no single model."]
  ];

  function updateCosts() {
    return getJSON("/api/costs").then(function (data) {
      byId("costs-computing").hidden = !data.computing;
      if (data.computing) {  // the first pass over every prompt: ask again soon
        setTimeout(schedule, 500);
        return;
      }
      main.setAttribute("data-computing", "0");
      var t = data.totals;
      byId("total-cost").textContent = money(t.cost_usd, 2);
      byId("total-prompts").textContent = num(t.prompts);
      byId("total-input").textContent = num(t.tokens_input);
      byId("total-cached").textContent = num(t.tokens_cached);
      byId("total-output").textContent = num(t.tokens_output);
      var sums = num(t.tokens_input) + " / " + num(t.tokens_cached) + " / " + num(t.tokens_output);
      ["day", "workflow", "phase", "model"].forEach(function (name) {
        var section = byId("costs-" + name);
        section.querySelector(".chart").replaceChildren(drawScene(data.charts[name], "nothing recorded"));
        var body = section.querySelector("tbody");
        body.replaceChildren();
        data[name].forEach(function (r) {
          var key = el("td", null, r.key);
          if (r.mixed) { append(key, [" ", el("small", "mixed", "(mixed: calls of these models together, not split)")]); }
          body.appendChild(append(el("tr", r.mixed ? "mixed" : null), [
            key, el("td", "num", num(r.prompts)),
            el("td", "num", num(r.tokens_input) + " / " + num(r.tokens_cached) + " / " + num(r.tokens_output)),
            el("td", "num cost", money(r.cost_usd))
          ]));
        });
        var foot = section.querySelectorAll("tfoot th");
        foot[1].textContent = num(t.prompts);
        foot[2].textContent = sums;
        foot[3].textContent = money(t.cost_usd, 2);
      });
      var note = byId("models-note");
      note.replaceChildren();
      NOTES.forEach(function (n) {
        if (data[n[0]]) { note.appendChild(el("li", null, num(data[n[0]]) + n[1])); }
      });
      note.hidden = !(data.models_split || data.models_mixed);
    });
  }

  // --- keeping up: one update at a time, coalesced ---

  var updaters = { runs: updateRuns, run: updateRun, sessions: updateSessions, session: updateSession, costs: updateCosts };
  var update = main && updaters[main.getAttribute("data-page")];

  function refresh() {
    timer = null;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    update()
      .then(function () {
        document.body.setAttribute("data-refreshed", String(Date.now()));
        if (live && live.className === "error") { say("live", "on"); }
      })
      .catch(function (err) { say("update failed: " + err.message, "error"); })
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          schedule();
        }
      });
  }

  function schedule() {
    if (timer === null) { timer = setTimeout(refresh, 20); }
  }

  if (!main || !update || !window.EventSource || !window.fetch) {
    say(main && !update ? "" : "live updates unavailable", "off");
    return;
  }
  var source = new EventSource("/api/stream");
  source.addEventListener("hello", function (msg) {
    streamAfter = Number(JSON.parse(msg.data).after) || 0;
    say("live", "on");
    schedule();  // what changed between the page's paint and the stream's start
  });
  source.addEventListener("change", function (msg) {
    var data = JSON.parse(msg.data);
    streamAfter = Number(data.after) || 0;
    document.body.setAttribute("data-last-event", String(streamAfter));
    say("live · event #" + streamAfter, "on");
    schedule();
  });
  source.onerror = function () { say("reconnecting…", "off"); };
})();
