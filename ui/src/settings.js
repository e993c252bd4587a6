// A conversation's settings: system prompt, the main options, think level, JSON output and tools.
import { h } from "./dom.js";

const OPTIONS = [
  ["temperature", "Temperature", "0.8", "0.05"],
  ["top_p", "Top P", "0.9", "0.05"],
  ["num_ctx", "Context (num_ctx)", "4096", "1"],
  ["num_predict", "Max tokens (num_predict)", "-1", "1"],
  ["seed", "Seed", "random", "1"],
];

const THINK = [
  ["", "Model default"],
  ["false", "Off"],
  ["true", "On"],
  ["low", "Low"],
  ["medium", "Medium"],
  ["high", "High"],
];

// The panel; ``changed()`` is called after a field changed the conversation ``current()`` returns.
export function settingsPanel(current, changed) {
  const ui = { options: {} };
  const save = () => {
    const conv = current();
    conv.system = ui.system.value;
    conv.options = {};
    for (const [key, input] of Object.entries(ui.options)) {
      if (input.value !== "" && Number.isFinite(Number(input.value))) conv.options[key] = Number(input.value);
    }
    conv.think = ui.think.value;
    conv.json = ui.json.checked;
    conv.tools = ui.tools.value;
    changed();
  };
  ui.system = h("textarea", {
    id: "system-prompt",
    rows: 3,
    placeholder: "You are a helpful assistant.",
    onChange: save,
  });
  const fields = OPTIONS.map(([key, label, placeholder, step]) => {
    ui.options[key] = h("input", { type: "number", id: `opt-${key}`, step, placeholder, onChange: save });
    return h("label", { class: "field" }, h("span", null, label), ui.options[key]);
  });
  ui.think = h(
    "select",
    { id: "opt-think", onChange: save },
    THINK.map(([v, t]) => h("option", { value: v }, t)),
  );
  ui.json = h("input", { type: "checkbox", id: "opt-json", onChange: save });
  ui.tools = h("textarea", {
    id: "opt-tools",
    rows: 4,
    spellcheck: "false",
    placeholder:
      '[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]',
    onChange: save,
  });
  const el = h(
    "div",
    { class: "settings", id: "settings", hidden: true },
    h("label", { class: "field wide" }, h("span", null, "System prompt"), ui.system),
    h("div", { class: "option-grid" }, fields, h("label", { class: "field" }, h("span", null, "Thinking"), ui.think)),
    h("label", { class: "check" }, ui.json, " JSON output (format: json)"),
    h("label", { class: "field wide" }, h("span", null, "Tools (JSON array of function definitions)"), ui.tools),
  );
  // Shows the conversation's settings in the fields.
  const load = (conv) => {
    ui.system.value = conv.system ?? "";
    for (const [key, input] of Object.entries(ui.options)) input.value = conv.options?.[key] ?? "";
    ui.think.value = conv.think ?? "";
    ui.json.checked = !!conv.json;
    ui.tools.value = conv.tools ?? "";
  };
  return { el, load };
}

// The /api/chat body for a conversation: system prompt first, failed empty answers left out.
export function requestBody(conv) {
  const messages = [];
  if (conv.system?.trim()) messages.push({ role: "system", content: conv.system });
  for (const m of conv.messages) {
    if (m.role === "assistant" && m.error && !m.content && !m.tool_calls?.length) continue;
    const out = { role: m.role, content: m.content ?? "" };
    if (m.tool_calls?.length) out.tool_calls = m.tool_calls;
    messages.push(out);
  }
  const body = { model: conv.model, messages, stream: true };
  if (Object.keys(conv.options ?? {}).length) body.options = conv.options;
  if (conv.think) body.think = conv.think === "true" ? true : conv.think === "false" ? false : conv.think;
  if (conv.json) body.format = "json";
  if (conv.tools?.trim()) body.tools = JSON.parse(conv.tools);
  return body;
}
