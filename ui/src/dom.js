// Small DOM helpers: element creation, dialogs (confirm / prompt / message), toasts, clipboard and formatting.

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value" || key === "checked" || key === "disabled" || key === "hidden") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// A modal <dialog>: resolves with the text typed (prompt), true (confirm), or null when dismissed.
function modal({ title, message, input, confirm = "OK", danger = false, cancel = true, multiline = false }) {
  return new Promise((resolve) => {
    const field =
      input === undefined
        ? null
        : h(multiline ? "textarea" : "input", {
            class: "dialog-input",
            value: input,
            rows: multiline ? 12 : null,
            "aria-label": title,
            spellcheck: "false",
          });
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-label": title },
      h(
        "form",
        { method: "dialog" },
        h("h2", null, title),
        message ? h("p", { class: "dialog-message" }, message) : null,
        field,
        h(
          "div",
          { class: "dialog-actions" },
          cancel
            ? h(
                "button",
                { type: "button", class: "button", value: "cancel", onClick: () => dialog.close("") },
                "Cancel",
              )
            : null,
          h("button", { type: "submit", class: danger ? "button danger" : "button primary", value: "ok" }, confirm),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      const ok = dialog.returnValue === "ok";
      dialog.remove();
      resolve(!ok ? null : field ? field.value : true);
    });
    document.body.append(dialog);
    dialog.showModal();
    if (field) {
      field.focus();
      if (!multiline) field.select();
    }
  });
}

export const ask = (title, input, options = {}) => modal({ title, input, ...options });
export const confirmDialog = (title, message, confirm, danger = true) => modal({ title, message, confirm, danger });
export const show = (title, body) => {
  const dialog = h(
    "dialog",
    { class: "dialog wide", "aria-label": title },
    h(
      "form",
      { method: "dialog" },
      h("h2", null, title),
      body,
      h("div", { class: "dialog-actions" }, h("button", { class: "button primary", value: "ok" }, "Close")),
    ),
  );
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
};

export function toast(text, kind = "info") {
  const el = h("div", { class: `toast ${kind}` }, text);
  document.getElementById("toasts").append(el);
  setTimeout(() => el.remove(), kind === "error" ? 8000 : 3500);
}

// navigator.clipboard exists only in secure contexts (https, localhost); a server reached by its LAN address
// over http is not one, so fall back to a selected textarea.
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { class: "offscreen", value: text });
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

export function copyButton(getText, label = "Copy") {
  const button = h("button", { type: "button", class: "mini", title: label }, label);
  button.addEventListener("click", async () => {
    const ok = await copyText(getText());
    button.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => (button.textContent = label), 1500);
  });
  return button;
}

// Sizes as Ollama prints them: decimal units.
export function formatBytes(n) {
  if (n == null) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  // Go's format.HumanBytes: whole units from 10 up, one decimal below when there is a fraction.
  return `${v >= 10 || Number.isInteger(v) ? Math.trunc(v) : v.toFixed(1)} ${units[i]}`;
}

export function relativeTime(when, now = Date.now()) {
  const date = new Date(when);
  const seconds = Math.round((date.getTime() - now) / 1000);
  if (!Number.isFinite(seconds)) return "";
  const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  const abs = Math.abs(seconds);
  const steps = [
    [60, "second", 1],
    [3600, "minute", 60],
    [86400, "hour", 3600],
    [86400 * 30, "day", 86400],
    [86400 * 365, "month", 86400 * 30],
    [Infinity, "year", 86400 * 365],
  ];
  for (const [limit, unit, size] of steps) {
    if (abs < limit) return rtf.format(Math.round(seconds / size), unit);
  }
  return "";
}

export function formatSeconds(ns) {
  const s = ns / 1e9;
  return s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(2)} s`;
}

export function download(name, data) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
