// The models view: the library from /api/tags, details from /api/show, pull with a progress bar per layer
// (cancellable), copy, delete, and create from a pasted Modelfile.
import { getJSON, isAbort, postJSON, request, stream } from "./api.js";
import { ask, clear, confirmDialog, formatBytes, h, relativeTime, show, toast } from "./dom.js";

const ui = {};
let onChanged = () => {};
let onChat = () => {};

export function modelsView({ changed, chat }) {
  onChanged = changed;
  onChat = chat;
  ui.pullName = h("input", {
    id: "pull-name",
    placeholder: "qwen2.5-coder:0.5b or registry.local:5000/library/model:tag",
    "aria-label": "Model to pull",
    required: true,
    spellcheck: "false",
    autocapitalize: "off",
  });
  ui.insecure = h("input", { type: "checkbox", id: "pull-insecure" });
  ui.pulls = h("div", { class: "pulls" });
  ui.createName = h("input", {
    id: "create-name",
    placeholder: "my-model",
    "aria-label": "Name of the new model",
    required: true,
    spellcheck: "false",
  });
  ui.modelfile = h("textarea", {
    id: "create-modelfile",
    rows: 6,
    spellcheck: "false",
    "aria-label": "Modelfile",
    placeholder: "FROM qwen2.5-coder:0.5b\nSYSTEM You answer in French.\nPARAMETER temperature 0.2",
    required: true,
  });
  ui.createStatus = h("div", { class: "create-status", role: "status" });
  ui.table = h("tbody");
  ui.count = h("span", { class: "count" });
  return h(
    "section",
    { class: "view models-view", id: "view-models" },
    h(
      "div",
      { class: "panel" },
      h("h2", null, "Pull a model"),
      h(
        "form",
        { class: "row-form", onSubmit: onPull },
        ui.pullName,
        h("label", { class: "check" }, ui.insecure, " insecure (http)"),
        h("button", { type: "submit", class: "button primary", id: "pull-button" }, "Pull"),
      ),
      ui.pulls,
    ),
    h(
      "details",
      { class: "panel" },
      h("summary", null, h("h2", null, "Create from a Modelfile")),
      h(
        "form",
        { class: "stack-form", onSubmit: onCreate },
        ui.createName,
        ui.modelfile,
        h("div", null, h("button", { type: "submit", class: "button primary", id: "create-button" }, "Create")),
        ui.createStatus,
      ),
    ),
    h(
      "div",
      { class: "panel" },
      h(
        "div",
        { class: "panel-head" },
        h("h2", null, "Models ", ui.count),
        h("button", { type: "button", class: "button", onClick: refreshModels }, "Refresh"),
      ),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table", id: "models-table" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              ["Name", "Size", "Family", "Parameters", "Quantization", "Capabilities", "Modified", ""].map((t) =>
                h("th", { scope: "col" }, t),
              ),
            ),
          ),
          ui.table,
        ),
      ),
    ),
  );
}

export async function refreshModels() {
  let models;
  try {
    ({ models } = await getJSON("/api/tags"));
  } catch (err) {
    toast(`Could not list models: ${err.message}`, "error");
    return;
  }
  ui.count.textContent = `(${models.length})`;
  clear(
    ui.table,
    models.length
      ? models.map(row)
      : h("tr", null, h("td", { colspan: 8, class: "empty" }, "No models yet: pull one above.")),
  );
}

function row(m) {
  const d = m.details ?? {};
  const caps = m.capabilities ?? [];
  return h(
    "tr",
    { dataset: { model: m.name } },
    h("td", { class: "name" }, h("button", { type: "button", class: "link", onClick: () => details(m.name) }, m.name)),
    h("td", { class: "num" }, formatBytes(m.size)),
    h("td", null, d.family ?? ""),
    h("td", null, d.parameter_size ?? ""),
    h("td", null, d.quantization_level ?? ""),
    h(
      "td",
      null,
      caps.map((c) => h("span", { class: `badge cap-${c}` }, c)),
    ),
    h("td", { class: "when", title: m.modified_at }, relativeTime(m.modified_at)),
    h(
      "td",
      { class: "actions" },
      caps.includes("completion") || !caps.includes("embedding")
        ? h("button", { type: "button", class: "mini", onClick: () => onChat(m.name) }, "Chat")
        : null,
      h("button", { type: "button", class: "mini", onClick: () => details(m.name) }, "Details"),
      h("button", { type: "button", class: "mini", onClick: () => copy(m.name) }, "Copy"),
      h("button", { type: "button", class: "mini danger", onClick: () => remove(m.name) }, "Delete"),
    ),
  );
}

function section(title, text, open = false) {
  if (!text) return null;
  return h(
    "details",
    { class: "show-section", open },
    h("summary", null, title),
    h("pre", { class: "show-text" }, text),
  );
}

async function details(name) {
  let info;
  try {
    info = await postJSON("/api/show", { model: name });
  } catch (err) {
    toast(err.message, "error");
    return;
  }
  const d = info.details ?? {};
  const mi = info.model_info ?? {};
  const arch = mi["general.architecture"];
  const facts = [
    ["Architecture", arch],
    ["Parameters", d.parameter_size],
    ["Quantization", d.quantization_level],
    ["Format", d.format],
    ["Context length", arch ? mi[`${arch}.context_length`] : null],
    ["Embedding length", arch ? mi[`${arch}.embedding_length`] : null],
    ["Capabilities", (info.capabilities ?? []).join(", ")],
    ["Modified", info.modified_at],
  ].filter(([, v]) => v != null && v !== "");
  show(
    name,
    h(
      "div",
      { class: "show" },
      h(
        "dl",
        { class: "facts" },
        facts.map(([k, v]) => [h("dt", null, k), h("dd", null, String(v))]),
      ),
      section("Parameters", info.parameters, true),
      section("System", info.system),
      section("Template", info.template),
      section("Modelfile", info.modelfile),
      section("License", Array.isArray(info.license) ? info.license.join("\n\n") : info.license),
    ),
  );
}

async function copy(name) {
  const destination = await ask(`Copy ${name}`, `${name.split(":")[0]}-copy`, { confirm: "Copy" });
  if (!destination?.trim()) return;
  try {
    await request("/api/copy", { method: "POST", body: { source: name, destination: destination.trim() } });
    toast(`Copied ${name} to ${destination.trim()}`);
    changed();
  } catch (err) {
    toast(err.message, "error");
  }
}

async function remove(name) {
  if (
    !(await confirmDialog(
      `Delete ${name}?`,
      "Its files are removed from the model store unless another model shares them.",
      "Delete",
    ))
  )
    return;
  try {
    await request("/api/delete", { method: "DELETE", body: { model: name } });
    toast(`Deleted ${name}`);
    changed();
  } catch (err) {
    toast(err.message, "error");
  }
}

function changed() {
  refreshModels();
  onChanged();
}

// One card per pull: the current status line and a bar per layer, from the NDJSON progress stream.
function onPull(event) {
  event.preventDefault();
  const name = ui.pullName.value.trim();
  if (!name) return;
  ui.pullName.value = "";
  pull(name, ui.insecure.checked);
}

async function pull(name, insecure) {
  const controller = new AbortController();
  const status = h("span", { class: "pull-status" }, "starting");
  const layers = h("div", { class: "layers" });
  const cancel = h("button", { type: "button", class: "button", onClick: () => controller.abort() }, "Cancel");
  const card = h(
    "div",
    { class: "pull-card", dataset: { model: name } },
    h("div", { class: "pull-head" }, h("strong", null, name), status, h("span", { class: "spacer" }), cancel),
    layers,
  );
  ui.pulls.prepend(card);
  const bars = new Map();
  const body = { model: name, stream: true };
  if (insecure) body.insecure = true;
  let result = "done";
  try {
    for await (const p of stream("/api/pull", body, { signal: controller.signal })) {
      status.textContent = p.status;
      if (p.digest && p.total) {
        let bar = bars.get(p.digest);
        if (!bar) {
          bar = layerBar(p.digest);
          bars.set(p.digest, bar);
          layers.append(bar.el);
        }
        bar.set(p.completed ?? 0, p.total);
      }
    }
    card.classList.add("ok");
  } catch (err) {
    result = isAbort(err) ? "cancelled" : "failed";
    status.textContent = isAbort(err) ? "cancelled" : err.message;
    card.classList.add(isAbort(err) ? "cancelled" : "failed");
  }
  cancel.replaceWith(h("button", { type: "button", class: "button", onClick: () => card.remove() }, "Dismiss"));
  if (result === "done") changed();
}

function layerBar(digest) {
  const fill = h("div", { class: "fill" });
  const bar = h(
    "div",
    {
      class: "bar",
      role: "progressbar",
      "aria-valuemin": 0,
      "aria-valuemax": 100,
      "aria-valuenow": 0,
      "aria-label": `Layer ${digest.slice(7, 19)}`,
    },
    fill,
  );
  const text = h("span", { class: "layer-text" });
  const el = h(
    "div",
    { class: "layer", dataset: { digest } },
    h("code", { class: "digest" }, digest.replace("sha256:", "").slice(0, 12)),
    bar,
    text,
  );
  return {
    el,
    set(completed, total) {
      const pct = total ? Math.floor((completed / total) * 100) : 0;
      bar.setAttribute("aria-valuenow", String(pct));
      fill.style.width = `${pct}%`;
      text.textContent = `${pct}% \u00B7 ${formatBytes(completed)} / ${formatBytes(total)}`;
    },
  };
}

async function onCreate(event) {
  event.preventDefault();
  const model = ui.createName.value.trim();
  const status = ui.createStatus;
  status.className = "create-status";
  try {
    const body = await postJSON("/ui/modelfile", { model, modelfile: ui.modelfile.value });
    for await (const p of stream("/api/create", { ...body, stream: true })) status.textContent = p.status;
    status.classList.add("ok");
    changed();
  } catch (err) {
    status.textContent = err.message;
    status.classList.add("failed");
  }
}
