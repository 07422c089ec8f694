// radlite review page: links results and evidence spans, and the keyboard of the review.
// a accept focused result · A / Enter accept all open ones · c correct · r reject
// j / k (or arrows) move · n next report. Decisions go to the server at once; when the
// last result of a report is decided the server signs it off and the page moves on.
"use strict";
(function () {
  const main = document.querySelector("main[data-report]");
  if (!main) return;
  const prefix = main.dataset.prefix;
  const report = main.dataset.report;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const items = Array.from(document.querySelectorAll("li.item"));
  const marks = Array.from(document.querySelectorAll("mark[data-items]"));
  const byItem = new Map();
  for (const mark of marks) {
    for (const key of mark.dataset.items.split(" ")) {
      const base = key.split(".f")[0];
      for (const k of new Set([key, base])) {
        if (!byItem.has(k)) byItem.set(k, []);
        byItem.get(k).push(mark);
      }
    }
  }
  let focus = 0;
  let busy = false;

  function open(i) { return !items[i].dataset.state; }
  function setFocus(i, scroll) {
    if (!items.length) return;
    focus = Math.max(0, Math.min(items.length - 1, i));
    items.forEach((el, n) => el.classList.toggle("focus", n === focus));
    highlight(items[focus].dataset.key, true);
    if (scroll !== false) items[focus].scrollIntoView({ block: "nearest" });
  }
  function highlight(key, on) {
    for (const m of document.querySelectorAll("mark.hl")) m.classList.remove("hl");
    for (const el of document.querySelectorAll("li.item.hl")) el.classList.remove("hl");
    if (!on) return;
    for (const m of byItem.get(key) || []) m.classList.add("hl");
    const first = (byItem.get(key) || [])[0];
    if (first) first.scrollIntoView({ block: "nearest" });
  }
  function nextOpen() {
    for (let n = 1; n <= items.length; n++) {
      const i = (focus + n) % items.length;
      if (open(i)) return i;
    }
    return -1;
  }
  async function decide(keys, action, value) {
    if (busy || main.dataset.signed === "1") return;
    busy = true;
    try {
      const answer = await fetch(prefix + "/api/decide", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ report: report, items: keys, action: action, value: value }),
      });
      const data = await answer.json();
      if (!answer.ok) { document.getElementById("state").textContent = data.error; return; }
      for (const el of items) {
        const d = data.decided[el.dataset.key];
        if (d) {
          el.dataset.state = d;
          el.classList.remove("correcting");
          const shown = { accept: "accepted", correct: "corrected", reject: "rejected" }[d];
          const value = d === "correct" && keys.includes(el.dataset.key) ? " → " + value : "";
          if (!el.querySelector(".decision").textContent.includes("→") || value) {
            el.querySelector(".decision").textContent = shown + value;
          }
        }
      }
      const done = Object.keys(data.decided).length;
      document.getElementById("state").textContent = data.signed_off
        ? "signed off: " + data.signed_off.bundle
        : done + " of " + items.length + " decided";
      if (data.signed_off) {
        main.dataset.signed = "1";
        document.body.dataset.signedOff = data.signed_off.bundle;
        if (data.next) window.location.assign(data.next);
        return;
      }
      const i = nextOpen();
      if (i >= 0) setFocus(i);
    } finally { busy = false; }
  }
  function current() { return items[focus]; }
  function startCorrect() {
    const el = current();
    const editor = el.querySelector(".correct select, .correct textarea");
    if (!editor) return;
    el.classList.add("correcting");
    editor.focus();
  }
  function finishCorrect(el, save) {
    const editor = el.querySelector(".correct select, .correct textarea");
    el.classList.remove("correcting");
    el.focus();
    if (save) decide([el.dataset.key], "correct", editor.value);
  }

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target.closest && target.closest(".correct")) {
      const el = target.closest("li.item");
      if (event.key === "Escape") { event.preventDefault(); finishCorrect(el, false); }
      else if (event.key === "Enter" && (target.tagName === "SELECT" || event.ctrlKey)) {
        event.preventDefault(); finishCorrect(el, true);
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || !items.length) return;
    const key = event.key;
    let handled = true;
    if (key === "a") decide([current().dataset.key], "accept", null);
    else if (key === "A" || key === "Enter") {
      decide(items.filter((el) => !el.dataset.state).map((el) => el.dataset.key), "accept", null);
    } else if (key === "r") decide([current().dataset.key], "reject", null);
    else if (key === "c") startCorrect();
    else if (key === "j" || key === "ArrowDown") setFocus(focus + 1);
    else if (key === "k" || key === "ArrowUp") setFocus(focus - 1);
    else if (key === "n") window.location.assign(prefix + "/next?after=" + report);
    else handled = false;
    if (handled) event.preventDefault();
  });
  items.forEach((el, n) => {
    el.addEventListener("mouseenter", () => highlight(el.dataset.key, true));
    el.addEventListener("mouseleave", () => highlight(items[focus].dataset.key, true));
    el.addEventListener("click", (event) => {
      if (!event.target.closest(".correct")) setFocus(n, false);
    });
    for (const f of el.querySelectorAll("li[data-feature]")) {
      f.addEventListener("mouseenter", () => highlight(f.dataset.feature, true));
    }
  });
  for (const mark of marks) {
    const keys = mark.dataset.items.split(" ").map((k) => k.split(".f")[0]);
    mark.addEventListener("mouseenter", () => {
      for (const el of items) el.classList.toggle("hl", keys.includes(el.dataset.key));
    });
    mark.addEventListener("click", () => {
      const i = items.findIndex((el) => el.dataset.key === keys[0]);
      if (i >= 0) setFocus(i);
    });
  }
  const first = items.findIndex((el) => !el.dataset.state);
  setFocus(first >= 0 ? first : 0, false);
})();
