// The drafting desk's script: the live preview, saving, lists, verification.
// No library; no inline script anywhere (the pages' policy forbids it).
"use strict";

(function () {
  let csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const DEBOUNCE_MS = 250;

  // After signing in again (in another tab) the session, and its CSRF token,
  // are new: take the new token, so this page's unsaved edits carry on.
  async function renewCsrf() {
    const response = await fetch("/desk/api/session", { credentials: "same-origin" });
    if (!response.ok) return false;
    csrf = (await response.json()).csrf;
    for (const input of document.querySelectorAll('input[name="csrf"]')) input.value = csrf;
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) meta.content = csrf;
    return true;
  }

  async function post(url, body, type, signal) {
    const send = () => fetch(url, {
      method: "POST", credentials: "same-origin", signal: signal,
      headers: { "Content-Type": type || "application/json", "X-CSRF-Token": csrf },
      body: body,
    });
    const response = await send();
    if (response.status !== 403) return response;
    const answer = await response.clone().json().catch(() => ({}));
    if (answer.reason === "csrf" && await renewCsrf()) return send();
    return response;
  }

  const SESSION_ENDED = "Your session has ended. Sign in again in another tab (your edits " +
    "stay here, unsaved), then go on: the desk carries on with the new session.";

  function el(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // ---- The case page -------------------------------------------------------

  const form = document.getElementById("case-form");
  if (form) casePage(form);

  function casePage(form) {
    const rel = form.dataset.rel;
    let versions = JSON.parse(form.dataset.versions || "{}");
    const earlierKey = form.dataset.earlierKey;
    const frame = document.getElementById("preview");
    const problemList = document.getElementById("problems");
    const previewStatus = document.getElementById("preview-status");
    const saveStatus = document.getElementById("save-status");
    const reloadButton = document.getElementById("reload");
    const langSelect = document.getElementById("lang");
    const typeSelect = document.getElementById("note-type");
    const translationSelect = document.getElementById("translation");
    const translationBox = document.getElementById("show-translation");
    const translationFrame = document.getElementById("preview-translation");

    // Fields are named "<file>::<field>"; split at the last "::".
    function splitKey(key) {
      const at = key.lastIndexOf("::");
      return { file: key.slice(0, at), field: key.slice(at + 2) };
    }

    function controls() {
      return Array.from(form.querySelectorAll("[name*='::']")).filter(
        (c) => !c.disabled && !c.closest("template"));
    }

    function valueOf(control) {
      const kind = control.dataset.kind || "string";
      if (control.type === "checkbox") return control.checked;
      const text = control.value;
      if (kind === "list") {
        return text.split(",").map((part) => part.trim()).filter((part) => part !== "");
      }
      if (kind === "integer" || kind === "number") {
        if (text.trim() === "") return null;
        const number = Number(text);
        return Number.isFinite(number) ? number : text;
      }
      return text;
    }

    function isEmpty(value) {
      return value === null || value === "" || (Array.isArray(value) && value.length === 0);
    }

    let initial = new Map();
    let initialEarlier = [];
    const removed = new Set();

    // The chronology: a list of ticked incidents, or a rule ("rule" mode) whose
    // fields, additions and exclusions are sent as one value of note.earlier, so
    // that saving keeps the rule as a rule.
    const chronologySet = document.getElementById("chronology");
    const ruleBox = document.getElementById("rule");
    let mode = chronologySet ? chronologySet.dataset.mode : "list";
    let initialMode = mode;
    let initialRule = "";

    function splitList(text) {
      return text.split(",").map((part) => part.trim()).filter((part) => part !== "");
    }

    function ruleValue() {
      const rule = {};
      for (const input of ruleBox.querySelectorAll("[data-rule]")) {
        const text = input.value.trim();
        if (text) rule[input.dataset.rule] = input.dataset.kind === "list" ? splitList(text) : text;
      }
      for (const name of ["premises", "effects"]) {
        const ticked = Array.from(ruleBox.querySelectorAll('[data-rule-set="' + name + '"]'))
          .filter((box) => box.checked).map((box) => box.value);
        if (ticked.length) rule[name] = ticked;
      }
      const value = { rule: rule };
      for (const name of ["add", "exclude"]) {
        const list = splitList(document.getElementById("rule-" + name).value);
        if (list.length) value[name] = list;
      }
      return value;
    }

    function setList(name, change) {
      const input = document.getElementById("rule-" + name);
      const list = change(splitList(input.value));
      input.value = list.join(", ");
    }

    if (chronologySet && ruleBox) {
      const useRule = document.getElementById("use-rule");
      const useList = document.getElementById("use-list");
      const switchTo = (next) => {
        mode = next;
        chronologySet.dataset.mode = next;
        ruleBox.hidden = next !== "rule";
        useRule.hidden = next === "rule";
        useList.hidden = next !== "rule";
        schedule();
      };
      useRule.addEventListener("click", () => switchTo("rule"));
      useList.addEventListener("click", () => switchTo("list"));
      // With a rule, ticking an incident adds it and unticking one the rule chose leaves it out.
      chronologySet.addEventListener("change", (event) => {
        const box = event.target;
        if (mode !== "rule" || box.name !== "earlier") return;
        const chosen = box.dataset.chosen === "true";
        const id = box.value;
        if (box.checked) {
          setList("exclude", (list) => list.filter((other) => other !== id));
          if (!chosen) setList("add", (list) => list.includes(id) ? list : list.concat([id]));
        } else {
          setList("add", (list) => list.filter((other) => other !== id));
          if (chosen) setList("exclude", (list) => list.includes(id) ? list : list.concat([id]));
        }
      });
    }

    function showChronology(answer) {
      if (!chronologySet || mode !== "rule" || !Array.isArray(answer.recalled)) return;
      const recalled = new Set(answer.recalled);
      const chosen = new Set(answer.chosen || []);
      for (const box of chronologySet.querySelectorAll('input[name="earlier"]')) {
        box.checked = recalled.has(box.value);
        box.dataset.chosen = chosen.has(box.value) ? "true" : "false";
      }
      const summary = document.getElementById("rule-summary");
      if (summary) {
        summary.textContent = "The rule chooses " + chosen.size + " incident" +
          (chosen.size === 1 ? "" : "s") + "; the note recalls " + recalled.size + ".";
      }
    }

    function earlierNow() {
      const ticked = Array.from(document.querySelectorAll('#chronology input[name="earlier"]'))
        .filter((box) => box.checked).map((box) => box.value);
      // Keep the order the file has; new ones go at the end.
      const kept = initialEarlier.filter((id) => ticked.includes(id));
      return kept.concat(ticked.filter((id) => !kept.includes(id)));
    }

    function baseline() {
      initial = new Map();
      for (const control of controls()) initial.set(control.name, JSON.stringify(valueOf(control)));
      initialEarlier = earlierNow();
      initialMode = mode;
      initialRule = ruleBox ? JSON.stringify(ruleValue()) : "";
      removed.clear();
    }

    function fileOrder() {
      // The order note.earlier has in the file (the ticked boxes are in date order).
      const parsed = JSON.parse(form.dataset.earlier || "[]");
      const written = Array.isArray(parsed) ? parsed : [];
      const ticked = earlierNow();
      initialEarlier = written.filter((id) => ticked.includes(id))
        .concat(ticked.filter((id) => !written.includes(id)));
    }

    function edits() {
      const changes = [];
      for (const control of controls()) {
        const value = valueOf(control);
        const before = initial.has(control.name) ? initial.get(control.name) : JSON.stringify("");
        if (JSON.stringify(value) === before) continue;
        if (!initial.has(control.name) && isEmpty(value)) continue;  // a new, untouched field
        const where = splitKey(control.name);
        if (isEmpty(value)) changes.push({ file: where.file, field: where.field, delete: true });
        else changes.push({ file: where.file, field: where.field, value: value });
      }
      if (earlierKey) {
        const where = splitKey(earlierKey);
        if (mode === "rule") {
          const rule = ruleValue();
          if (mode !== initialMode || JSON.stringify(rule) !== initialRule) {
            changes.push({ file: where.file, field: where.field, value: rule });
          }
        } else {
          const earlier = earlierNow();
          if (mode !== initialMode || JSON.stringify(earlier) !== JSON.stringify(initialEarlier)) {
            changes.push({ file: where.file, field: where.field, value: earlier });
          }
        }
      }
      // Removed list items last, the highest index first: earlier edits keep their places.
      const deletions = Array.from(removed).map(splitKey).sort((a, b) => {
        const index = (path) => Number((path.match(/\[(\d+)\]$/) || [0, 0])[1]);
        return index(b.field) - index(a.field);
      });
      for (const where of deletions) changes.push({ file: where.file, field: where.field, delete: true });
      return changes;
    }

    // -- Lists: add and remove items.

    form.addEventListener("click", (event) => {
      const add = event.target.closest(".add-item");
      if (add) {
        const list = add.closest("fieldset.list");
        const template = list.querySelector(":scope > template.item-template");
        const index = Number(list.dataset.count || "0");
        list.dataset.count = String(index + 1);
        const holder = document.createElement("div");
        holder.className = "list-item";
        holder.appendChild(template.content.cloneNode(true));
        for (const node of holder.querySelectorAll("*")) {
          for (const name of ["name", "id", "for", "data-field"]) {
            const value = node.getAttribute(name);
            if (value && value.includes("__index__")) {
              node.setAttribute(name, value.split("__index__").join(String(index)));
            }
          }
        }
        list.insertBefore(holder, add);
        const first = holder.querySelector("input, textarea, select");
        if (first) first.focus();
        return;
      }
      const remove = event.target.closest(".remove-item");
      if (remove) {
        const item = remove.closest(".list-item");
        removed.add(remove.dataset.remove);
        for (const control of item.querySelectorAll("input, textarea, select")) control.disabled = true;
        item.hidden = true;
        schedule();
      }
    });

    // -- The preview.

    let sent = 0;          // the number of the newest request
    let controller = null;
    let timer = null;
    let version = 0;

    function finish(state) {
      version += 1;
      frame.dataset.state = state;
      frame.dataset.version = String(version);
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(refresh, DEBOUNCE_MS);
      frame.dataset.state = "pending";
    }

    function clearProblems() {
      problemList.replaceChildren();
      for (const old of form.querySelectorAll(".field-problem")) old.remove();
      for (const marked of form.querySelectorAll("[aria-invalid]")) marked.removeAttribute("aria-invalid");
    }

    function containerOf(key) {
      if (!key) return null;
      let where = key;
      for (;;) {
        const found = form.querySelector('[data-field="' + CSS.escape(where) + '"]');
        if (found) return found;
        const shorter = where.replace(/(\.[^.[\]]+|\[\d+\])$/, "");
        if (shorter === where || shorter.endsWith("::")) return null;
        where = shorter;
      }
    }

    function show(problem, kind) {
      const container = containerOf(problem.key);
      const item = el("li", { class: kind });
      const where = [problem.file && problem.line ? problem.file + ":" + problem.line : problem.file,
        problem.field].filter(Boolean).join(" ");
      if (container) {
        const input = container.querySelector("input, textarea, select");
        const link = el("a", { href: "#" + (input ? input.id : "") }, where || "field");
        link.addEventListener("click", (event) => {
          event.preventDefault();
          if (input) input.focus();
        });
        item.appendChild(link);
        item.appendChild(document.createTextNode(": " + problem.message));
        const note = el("p", { class: "field-problem " + kind, role: "alert" }, problem.message);
        container.appendChild(note);
        for (let open = container.closest("details"); open; open = open.parentElement.closest("details")) open.open = true;
        if (input && kind === "error") input.setAttribute("aria-invalid", "true");
      } else {
        item.textContent = (where ? where + ": " : "") + problem.message;
      }
      problemList.appendChild(item);
    }

    async function refresh() {
      const number = ++sent;
      if (controller) controller.abort();
      controller = new AbortController();
      const started = performance.now();
      frame.dataset.state = "pending";
      const body = JSON.stringify({
        rel: rel, edits: edits(),
        lang: langSelect.value || null, note_type: typeSelect.value || null,
        translation: Boolean(translationBox && translationBox.checked),
      });
      let answer;
      try {
        const response = await post("/desk/api/preview", body, "application/json", controller.signal);
        if (response.status === 401) {
          // Never leave the page: the unsaved edits are in it.
          answer = { html: null, problems: [{ message: SESSION_ENDED }], warnings: [], ended: true };
        } else {
          answer = await response.json();
        }
        if (!response.ok && !answer.ended) answer = { html: null, problems: [{ message: answer.error || response.statusText }], warnings: [] };
      } catch (error) {
        if (error.name === "AbortError") return;
        if (number !== sent) return;
        answer = { html: null, problems: [{ message: "The desk cannot be reached: " + error.message }], warnings: [] };
      }
      if (number !== sent) return;  // a newer request was sent: its answer counts
      clearProblems();
      showChronology(answer);
      for (const problem of answer.problems || []) show(problem, "error");
      for (const warning of answer.warnings || []) show(warning, "warning");
      const ms = Math.round(performance.now() - started);
      if (answer.ended) signInLink();
      if (!answer.html || !answer.url) {
        frame.hidden = true;
        translationFrame.hidden = true;
        problemList.classList.add("replacing");
        previewStatus.textContent = "The note cannot render: " + (answer.problems || []).length +
          " problem" + ((answer.problems || []).length === 1 ? "" : "s") + ".";
        previewStatus.className = "preview-status failed";
        finish("error");
        return;
      }
      problemList.classList.remove("replacing");
      if (answer.translation_url) {
        const translated = new URL(answer.translation_url, window.location.href).href;
        if (translationFrame.src !== translated) translationFrame.src = translated;
        translationFrame.hidden = false;
      } else {
        translationFrame.hidden = true;
      }
      previewStatus.textContent = "Preview updated in " + ms + " ms" +
        (answer.warnings && answer.warnings.length ? ", with " + answer.warnings.length + " warning" +
          (answer.warnings.length === 1 ? "" : "s") : "") + ".";
      if (translationBox && translationBox.checked && !answer.translation_url) {
        previewStatus.textContent += " The note names no courtesy translation: give its Translation field a language.";
      }
      previewStatus.className = "preview-status ok";
      frame.hidden = false;
      const target = new URL(answer.url, window.location.href).href;
      if (frame.src === target) { finish("ok"); return; }
      frame.addEventListener("load", () => { if (number === sent) finish("ok"); }, { once: true });
      frame.src = target;
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    for (const select of [langSelect, typeSelect, translationSelect, translationBox]) {
      if (select) select.addEventListener("change", () => { syncLinks(); clearTimeout(timer); refresh(); });
    }

    // -- Downloads and issue follow the chosen language and type.

    function syncLinks() {
      const query = new URLSearchParams();
      if (langSelect.value) query.set("lang", langSelect.value);
      if (typeSelect.value) query.set("type", typeSelect.value);
      for (const id of ["download-pdf", "download-demarche"]) {
        const link = document.getElementById(id);
        if (!link) continue;
        const params = new URLSearchParams(query);
        if (id === "download-demarche" && translationSelect && translationSelect.value) {
          params.set("translation", translationSelect.value);
        }
        link.href = link.dataset.base + "?" + params.toString();
      }
      for (const input of document.querySelectorAll(".sync-lang")) input.value = langSelect.value;
      for (const input of document.querySelectorAll(".sync-type")) input.value = typeSelect.value;
    }

    // -- Saving.

    function status(text, alert) {
      saveStatus.textContent = text;
      saveStatus.setAttribute("role", alert ? "alert" : "status");
      saveStatus.className = alert ? "error" : "ok";
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const changes = edits();
      if (changes.length === 0) { status("Nothing to save.", false); return; }
      status("Saving…", false);
      let response;
      try {
        response = await post("/desk/api/save", JSON.stringify({ rel: rel, edits: changes, versions: versions }));
      } catch (error) {
        status("Not saved: the desk cannot be reached (" + error.message + "). Your edits are still here.", true);
        return;
      }
      if (response.status === 401) {
        status("Not saved: " + SESSION_ENDED, true);
        signInLink();
        return;
      }
      const answer = await response.json();
      if (response.ok) {
        for (const file of answer.saved) versions[file.rel] = file.version;
        form.dataset.versions = JSON.stringify(versions);
        baseline();
        status("Saved at " + new Date().toLocaleTimeString() + ".", false);
        reloadButton.hidden = true;
        return;
      }
      if (response.status === 409) {
        status("Not saved: " + answer.error + " Your edits are kept in the form; reload to see the saved files (your edits are then lost).", true);
        reloadButton.hidden = false;
        showCurrent(answer);
        return;
      }
      const details = (answer.problems || []).map((p) => p.message).join("; ");
      status("Not saved: " + (answer.error || response.statusText) + (details ? " (" + details + ")" : ""), true);
    });

    reloadButton.addEventListener("click", () => window.location.reload());

    // The file as another saved it, beside the form: what to compare the edits with.
    function showCurrent(answer) {
      const old = document.getElementById("conflict-current");
      if (old) old.remove();
      if (typeof answer.text !== "string") return;
      const who = answer.modified_by ? "by " + answer.modified_by : "outside the desk";
      const panel = el("details", { id: "conflict-current", class: "current", open: "" });
      panel.appendChild(el("summary", {}, answer.file + " as saved " + who +
        (answer.modified_at ? " at " + answer.modified_at : "")));
      panel.appendChild(el("pre", {}, answer.text));
      const status = document.getElementById("preview-status");
      status.parentNode.insertBefore(panel, status);
    }

    function signInLink() {
      if (document.getElementById("signin-again")) return;
      const link = el("a", { id: "signin-again", href: "/desk/signin", target: "_blank", rel: "noopener" },
        "Sign in again (new tab)");
      saveStatus.after(link);
    }

    fileOrder();
    baseline();
    syncLinks();
    refresh();
  }

  // ---- Recording a reply (its PDF, if any, sent in base64) -----------------

  const replyForm = document.getElementById("reply");
  if (replyForm) {
    const replyStatus = document.getElementById("reply-status");
    const say = (text, alert) => {
      replyStatus.textContent = text;
      replyStatus.setAttribute("role", alert ? "alert" : "status");
      replyStatus.className = alert ? "error" : "";
    };
    const base64 = (file) => new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
    replyForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = (name) => replyForm.elements[name].value;
      const chosen = document.getElementById("reply-file").files[0];
      say("Recording…", false);
      let response;
      try {
        const body = {
          received: value("received").trim(), reference: value("reference"),
          summary: value("summary"), sender: value("sender"),
          unsatisfactory: replyForm.elements.unsatisfactory.checked,
          file: chosen ? await base64(chosen) : null,
        };
        response = await post(replyForm.action, JSON.stringify(body));
      } catch (error) {
        say("Not recorded: " + error.message, true);
        return;
      }
      const answer = await response.json().catch(() => ({}));
      if (response.ok && answer.entry) { window.location.assign(answer.entry); return; }
      say("Not recorded: " + (answer.error || response.statusText), true);
    });
  }

  // ---- Verifying a PDF ----------------------------------------------------

  const verifyForm = document.getElementById("verify");
  if (verifyForm) {
    const result = document.getElementById("verify-result");
    verifyForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const file = document.getElementById("verify-file").files[0];
      if (!file) { result.replaceChildren(el("p", { class: "error", role: "alert" }, "Choose a PDF first.")); return; }
      result.replaceChildren(el("p", {}, "Verifying…"));
      let response;
      try {
        response = await post("/desk/api/verify", file, "application/pdf");
      } catch (error) {
        result.replaceChildren(el("p", { class: "error", role: "alert" }, "The desk cannot be reached: " + error.message));
        return;
      }
      const answer = await response.json();
      if (!response.ok) {
        result.replaceChildren(el("p", { class: "error", role: "alert" }, answer.error || response.statusText));
        return;
      }
      const list = el("dl", { class: "facts" });
      const add = (term, value) => { list.appendChild(el("dt", {}, term)); list.appendChild(el("dd", {}, value)); };
      add("Status", answer.status);
      add("PDF/A", answer.pdfa || "none claimed");
      add("Embedded records", answer.record);
      if (answer.register) add("Register", answer.register.finding);
      const findings = el("ul", {});
      for (const finding of answer.findings) findings.appendChild(el("li", {}, finding));
      result.replaceChildren(el("h2", { class: "verdict " + answer.status }, "Verdict: " + answer.status), list, findings);
    });
  }
})();
