// csplatform front-end glue. CSP forbids inline scripts and handlers: every behaviour lives here,
// wired by data attributes. Charts read JSON from {{ value|json_script }} elements.
(function () {
  "use strict";

  function flash(message, kind) {
    var box = document.getElementById("flash");
    if (!box) return;
    var div = document.createElement("div");
    div.className = "alert alert-" + (kind || "error");
    div.setAttribute("role", kind === "error" ? "alert" : "status");
    div.textContent = message;
    box.replaceChildren(div);
  }

  // --- Errors from htmx requests are shown, never swallowed -----------------------------------
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var type = xhr.getResponseHeader("Content-Type") || "";
    var text = (xhr.responseText || "").trim();
    var message = "Something went wrong (" + xhr.status + "). Please try again.";
    if (type.indexOf("text/plain") === 0 && text && text.length < 500) {
      message = text; // the server's own sentence (409 conflicts, 400s) says what happened
    } else if (xhr.status === 403) {
      message = "You are not allowed to do that.";
    } else if (xhr.status === 404) {
      message = "That no longer exists, or you cannot see it.";
    } else if (xhr.status === 409) {
      message = "This changed meanwhile: reload the page to see the latest.";
    } else if (xhr.status === 503) {
      message = "The service is briefly unavailable; try again in a moment.";
    }
    flash(message, "error");
    // The answer also goes next to what the person acted on (a row far down a long page).
    var origin = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form, tr");
    if (origin) {
      var host = origin.tagName === "FORM" ? origin : origin.querySelector("td:last-child") || origin;
      var note = host.parentElement && host.parentElement.querySelector(":scope > .inline-error[data-for-request]");
      if (!note) {
        note = document.createElement("p");
        note.className = "inline-error";
        note.setAttribute("role", "alert");
        note.setAttribute("data-for-request", "");
        if (origin.tagName === "FORM") origin.insertAdjacentElement("afterend", note); else host.appendChild(note);
      }
      note.textContent = message;
    }
  });
  document.addEventListener("htmx:sendError", function () {
    flash("The server could not be reached. Check your connection and try again.", "error");
  });

  // --- Typed text survives an expired session ------------------------------------------------
  // When a request finds the session expired (401 with HX-Redirect to the sign-in page), what the
  // person typed in the page's forms is kept in sessionStorage under the page's address; after
  // signing in, the page opens again and the text is put back into the same (empty) fields.
  var DRAFTS = "csplatform-drafts:";

  function draftFields(root) {
    return (root || document).querySelectorAll(
      "main form textarea[name], main form input[name]:not([type=hidden]):not([type=password]):not([type=checkbox]):not([type=radio]):not([type=file]):not([type=search]), dialog form textarea[name], dialog form input[name]:not([type=hidden]):not([type=password]):not([type=checkbox]):not([type=radio]):not([type=search])"
    );
  }

  function fieldKey(field) {
    var form = field.form;
    var action = form ? (form.getAttribute("hx-post") || form.getAttribute("action") || "") : "";
    return action + "|" + field.name;
  }

  function keepDrafts() {
    var drafts = {};
    draftFields(document).forEach(function (field) {
      if (field.value && field.value !== field.defaultValue) drafts[fieldKey(field)] = field.value;
    });
    if (Object.keys(drafts).length) {
      try { window.sessionStorage.setItem(DRAFTS + window.location.pathname, JSON.stringify(drafts)); } catch (e) { /* storage full or off */ }
    }
  }

  function restoreDrafts(root) {
    var key = DRAFTS + window.location.pathname;
    var saved;
    try { saved = JSON.parse(window.sessionStorage.getItem(key) || "null"); } catch (e) { saved = null; }
    if (!saved) return;
    var restored = 0;
    draftFields(root).forEach(function (field) {
      var value = saved[fieldKey(field)];
      if (value && (!field.value || field.value === field.defaultValue)) { field.value = value; delete saved[fieldKey(field)]; restored += 1; }
    });
    if (restored) {
      flash("What you typed before signing in again was put back. Check it and save.", "info");
    }
    if (Object.keys(saved).length) {
      window.sessionStorage.setItem(key, JSON.stringify(saved));
    } else {
      window.sessionStorage.removeItem(key);
    }
  }

  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status === 401 && xhr.getResponseHeader("HX-Redirect")) keepDrafts();
  });
  document.addEventListener("DOMContentLoaded", function () { restoreDrafts(document); });
  // Forms that arrive later (a dialog, a section loaded as a fragment) get their text back too.
  document.addEventListener("htmx:afterSettle", function (event) { restoreDrafts(event.detail.elt); });

  // Server-sent notices (HX-Trigger: {"notice": "..."}) and dialog control.
  document.addEventListener("notice", function (event) {
    if (event.detail && event.detail.value) flash(event.detail.value, "success");
  });
  document.addEventListener("closeDialog", function () {
    var dialog = document.getElementById("app-dialog");
    if (dialog && dialog.open) dialog.close();
  });

  // --- Dialogs: buttons load a form into the shared <dialog>, which then opens ---------------
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "app-dialog-body") {
      var dialog = document.getElementById("app-dialog");
      if (dialog && !dialog.open) dialog.showModal();
      var first = target.querySelector("[autofocus], input:not([type=hidden]), select, textarea, button");
      if (first) first.focus();
    }
  });
  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-dialog-close]");
    if (closer) {
      var dialog = closer.closest("dialog");
      if (dialog) dialog.close();
      event.preventDefault();
      return;
    }
    var opener = event.target.closest("[data-dialog-open]");
    if (opener) {
      var target = document.getElementById(opener.getAttribute("data-dialog-open"));
      if (target && typeof target.showModal === "function") {
        target.showModal();
        event.preventDefault();
      }
    }
  });

  // Plain (non-htmx) forms that need a confirmation: <form data-confirm="...">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !form.hasAttribute("hx-post") && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // A plain form is submitted once: its buttons are disabled until the next page.
    if (!form.hasAttribute("hx-post") && !form.hasAttribute("hx-get")) {
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    }
  });

  // Filter forms submit themselves when a select changes (and on typing, via hx-trigger).
  document.addEventListener("change", function (event) {
    var el = event.target;
    var form = el.closest && el.closest("form[data-autosubmit]");
    if (form && el.tagName === "SELECT") {
      if (window.htmx && form.hasAttribute("hx-get")) {
        window.htmx.trigger(form, "submit");
      } else {
        form.requestSubmit();
      }
    }
  });

  // Bulk decisions: the header's tick box ticks (or clears) every row box of its bulk form.
  document.addEventListener("change", function (event) {
    var all = event.target.closest && event.target.closest("[data-tick-all]");
    if (!all) return;
    var selector = 'input[type=checkbox][name=ids][form="' + all.getAttribute("data-tick-all") + '"]';
    document.querySelectorAll(selector).forEach(function (box) { box.checked = all.checked; });
  });

  // Policy editor: typing in the rules' JSON makes the JSON, not the builder's rows, what is saved.
  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "id_rules") {
      var form = event.target.form;
      var source = form && form.querySelector("[data-rules-source]");
      if (source) source.value = "json";
    }
  });

  // Header navigation at tablet widths: the Menu button opens and closes it; Escape or a click
  // elsewhere closes it and gives the focus back to the button.
  function setNav(open, focusButton) {
    var button = document.querySelector("[data-nav-toggle]");
    if (!button) return;
    var bar = button.closest(".topbar");
    bar.classList.toggle("nav-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      var first = document.querySelector("#mainnav a");
      if (first) first.focus();
    } else if (focusButton) {
      button.focus();
    }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-nav-toggle]");
    if (button) { setNav(button.getAttribute("aria-expanded") !== "true", false); return; }
    var open = document.querySelector(".topbar.nav-open");
    if (open && !event.target.closest("#mainnav")) setNav(false, false);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.querySelector(".topbar.nav-open")) setNav(false, true);
  });

  // Header search: the matches under the box close on Escape or a click elsewhere.
  function closeSearch() {
    var box = document.getElementById("header-search-results");
    if (box) box.replaceChildren();
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeSearch();
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest(".header-search")) closeSearch();
  });

  // --- Charts --------------------------------------------------------------------------------
  // A spec (JSON from the server) says what to draw; the axes fit the data (bars start at zero,
  // lines and scatters span their values), each bar, slice or point with a link opens exactly the
  // accounts it counts (spec.links by label, or a point's own url), and a scatter may carry its
  // quadrant thresholds (spec.quadrants {x, y, xLabel, yLabel}), drawn as dashed lines.
  var palette = ["#1f3c88", "#3d6fd9", "#8fb0ef", "#f0a500", "#1b7f4b", "#b42318", "#6b4fbb", "#5b6575"];

  var quadrantLines = {
    id: "quadrantLines",
    afterDatasetsDraw: function (chart, args, lines) {
      if (!lines || (lines.x == null && lines.y == null)) return;
      var ctx = chart.ctx, area = chart.chartArea;
      ctx.save();
      ctx.strokeStyle = "#5b6575";
      ctx.fillStyle = "#39424e";
      ctx.lineWidth = 1;
      ctx.setLineDash([6, 4]);
      ctx.font = "12px system-ui, sans-serif";
      if (lines.x != null) {
        var px = chart.scales.x.getPixelForValue(lines.x);
        if (px >= area.left && px <= area.right) {
          ctx.beginPath(); ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom); ctx.stroke();
          // The x threshold is named at the bottom, the y threshold at the right: never on top of each other.
          if (lines.xLabel) { ctx.textAlign = px > area.right - 160 ? "right" : "left"; ctx.fillText(lines.xLabel, px + (ctx.textAlign === "left" ? 4 : -4), area.bottom - 6); }
        }
      }
      if (lines.y != null) {
        var py = chart.scales.y.getPixelForValue(lines.y);
        if (py >= area.top && py <= area.bottom) {
          ctx.beginPath(); ctx.moveTo(area.left, py); ctx.lineTo(area.right, py); ctx.stroke();
          if (lines.yLabel) { ctx.textAlign = "right"; ctx.fillText(lines.yLabel, area.right - 4, py - 4); }
        }
      }
      ctx.restore();
    }
  };

  function linkOf(spec, datasets, element) {
    var point = datasets[element.datasetIndex] && datasets[element.datasetIndex].data[element.index];
    if (point && typeof point === "object" && point.url) return point.url;
    return spec.links ? spec.links[element.index] : null;
  }

  function buildChart(canvas) {
    if (canvas.dataset.chartReady || typeof window.Chart === "undefined") return;
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    var type = spec.type || "bar";
    var datasets = (spec.datasets || []).map(function (ds, i) {
      var colour = ds.color || palette[i % palette.length];
      var out = { label: ds.label, data: ds.data, borderColor: colour, backgroundColor: ds.colors || colour };
      if (type === "line") { out.backgroundColor = colour; out.tension = 0.25; out.pointRadius = 2; }
      if (type === "scatter") { out.pointRadius = 4; out.pointHoverRadius = 6; }
      if (type === "bar") { out.maxBarThickness = 56; }
      if (ds.yAxisID) out.yAxisID = ds.yAxisID;
      return out;
    });
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: datasets.length > 1 || type === "doughnut", labels: { boxWidth: 12, boxHeight: 12 } } },
      scales: {}
    };
    if (type !== "doughnut") {
      var value = { beginAtZero: type === "bar", grace: type === "bar" ? 0 : "5%", title: { display: false, text: "" } };
      var category = { title: { display: false, text: "" } };
      // A horizontal bar chart has its values along x: the labels follow the axes, not the names.
      var x = spec.horizontal ? value : category, y = spec.horizontal ? category : value;
      // Revenue and cost are never negative: a scatter's axes start at zero (or the log scale's
      // own start) and end just past the data.
      if (type === "scatter") {
        x = spec.xLog ? { type: "logarithmic" } : { type: "linear", min: 0, grace: "5%" };
        y = { type: "linear", min: 0, grace: "5%" };
      }
      x.title = { display: !!spec.xLabel, text: spec.xLabel || "" };
      y.title = { display: !!spec.yLabel, text: spec.yLabel || "" };
      if (spec.quadrants) {
        // The thresholds belong to what the chart shows: the axes reach them, no further.
        if (spec.quadrants.x != null) { x.suggestedMax = spec.quadrants.x * 1.05; }
        if (spec.quadrants.y != null) { y.suggestedMax = spec.quadrants.y * 1.05; }
        options.plugins.quadrantLines = spec.quadrants;
      }
      if (type === "scatter") {
        options.plugins.tooltip = {
          callbacks: { label: function (ctx) { return (ctx.raw.name || "") + " (" + ctx.raw.x + ", " + ctx.raw.y + ")"; } }
        };
      }
      if (spec.stacked) { x.stacked = true; y.stacked = true; }
      if (spec.horizontal) options.indexAxis = "y";
      options.scales.x = x;
      options.scales.y = y;
    }
    var linked = !!spec.links || type === "scatter";
    if (linked) {
      options.onClick = function (event, elements) {
        var url = elements.length ? linkOf(spec, datasets, elements[0]) : null;
        if (url) window.location.assign(url);
      };
      options.onHover = function (event, elements) {
        var url = elements.length ? linkOf(spec, datasets, elements[0]) : null;
        canvas.style.cursor = url ? "pointer" : "default";
      };
    }
    canvas.dataset.chartReady = "1";
    // eslint-disable-next-line no-new
    new window.Chart(canvas, {
      type: type,
      data: { labels: spec.labels, datasets: datasets },
      options: options,
      plugins: spec.quadrants ? [quadrantLines] : []
    });
  }

  function buildCharts(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(buildChart);
  }

  document.addEventListener("DOMContentLoaded", function () { buildCharts(document); });
  document.addEventListener("htmx:afterSettle", function () { buildCharts(document); });
})();
