// The running view: loaded models from /api/ps (size, processor, context, expiry) with unload (keep_alive 0).
import { getJSON, postJSON } from "./api.js";
import { clear, formatBytes, h, relativeTime, toast } from "./dom.js";

const ui = {};
let timer = 0;

export function runningView() {
  ui.table = h("tbody");
  return h(
    "section",
    { class: "view running-view", id: "view-running" },
    h(
      "div",
      { class: "panel" },
      h(
        "div",
        { class: "panel-head" },
        h("h2", null, "Running models"),
        h("button", { type: "button", class: "button", onClick: refreshRunning }, "Refresh"),
      ),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table", id: "running-table" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              ["Name", "Size", "Processor", "Context", "Until", ""].map((t) => h("th", { scope: "col" }, t)),
            ),
          ),
          ui.table,
        ),
      ),
      h(
        "p",
        { class: "server-info" },
        "Server version ",
        h("span", { class: "version-text", id: "server-version" }, "\u2026"),
      ),
    ),
  );
}

// As `ollama ps` words it: all on the CPU, all on the GPU, or the split.
function processor(size, vram) {
  if (!vram) return "100% CPU";
  if (vram >= size) return "100% GPU";
  const cpu = Math.round(((size - vram) / size) * 100);
  return `${cpu}%/${100 - cpu}% CPU/GPU`;
}

export async function refreshRunning() {
  let models;
  try {
    ({ models } = await getJSON("/api/ps"));
  } catch (err) {
    toast(`Could not list running models: ${err.message}`, "error");
    return;
  }
  clear(
    ui.table,
    models.length
      ? models.map((m) =>
          h(
            "tr",
            { dataset: { model: m.name } },
            h("td", { class: "name" }, m.name),
            h("td", { class: "num" }, formatBytes(m.size)),
            h("td", null, processor(m.size, m.size_vram)),
            h("td", { class: "num" }, m.context_length ?? ""),
            h(
              "td",
              { class: "when", title: m.expires_at },
              new Date(m.expires_at).getFullYear() > 2200 ? "Forever" : relativeTime(m.expires_at),
            ),
            h(
              "td",
              { class: "actions" },
              h("button", { type: "button", class: "button", onClick: () => unload(m.name) }, "Unload"),
            ),
          ),
        )
      : h(
          "tr",
          null,
          h("td", { colspan: 6, class: "empty" }, "No model is loaded. Models load on their first request."),
        ),
  );
}

async function unload(name) {
  try {
    await postJSON("/api/generate", { model: name, keep_alive: 0 });
  } catch {
    try {
      // An embedding-only model has no generate; embed with no input unloads it the same way.
      await postJSON("/api/embed", { model: name, input: [], keep_alive: 0 });
    } catch (err) {
      toast(err.message, "error");
    }
  }
  refreshRunning();
}

// While the view is shown the table follows the server (expiry counts down, models load and unload).
export function watchRunning(on) {
  clearInterval(timer);
  if (on) {
    refreshRunning();
    timer = setInterval(refreshRunning, 5000);
  }
}
