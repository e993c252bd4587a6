// The chat view: conversations (IndexedDB) in a sidebar, a model picker, settings (system prompt, options,
// think, JSON output, tools), the message list streamed from /api/chat, and the composer.
import { getJSON, isAbort, stream } from "./api.js";
import { ask, clear, confirmDialog, download, h, toast } from "./dom.js";
import { renderMessage } from "./message.js";
import { requestBody, settingsPanel } from "./settings.js";
import { deleteConversation, listConversations, newConversation, saveConversation } from "./store.js";

const LAST_MODEL = "pollama.lastModel";

const state = { convs: [], conv: null, models: [], controller: null };
const ui = {};

export function chatView() {
  ui.convList = h("ul", { class: "conv-list", "aria-label": "Conversations" });
  ui.sidebar = h(
    "aside",
    { class: "sidebar", id: "chat-sidebar" },
    h(
      "button",
      { type: "button", class: "button primary wide", id: "new-chat", onClick: () => startNew() },
      "+ New chat",
    ),
    ui.convList,
    h("button", { type: "button", class: "button wide", onClick: exportAll }, "Export all (JSON)"),
  );
  ui.model = h("select", { id: "model-select", "aria-label": "Model", onChange: onModelChange });
  ui.panel = settingsPanel(
    () => state.conv,
    () => persist(),
  );
  ui.settings = ui.panel.el;
  ui.messages = h("div", { class: "messages", id: "messages", "aria-live": "polite" });
  ui.input = h("textarea", {
    id: "prompt",
    rows: 1,
    placeholder: "Message",
    title: "Enter sends, Shift+Enter starts a new line, Escape stops the answer",
    "aria-label": "Message",
    onKeydown: onPromptKey,
    onInput: autosize,
  });
  ui.send = h("button", { type: "submit", class: "button primary", id: "send" }, "Send");
  const composer = h("form", { class: "composer", onSubmit: onSubmit }, ui.input, ui.send);
  ui.title = h("span", { class: "chat-title" });
  const bar = h(
    "div",
    { class: "chat-bar" },
    h(
      "button",
      {
        type: "button",
        class: "icon-button sidebar-toggle",
        "aria-label": "Conversations",
        "aria-controls": "chat-sidebar",
        onClick: () => ui.sidebar.classList.toggle("open"),
      },
      "\u2630",
    ),
    ui.model,
    ui.title,
    h("span", { class: "spacer" }),
    h(
      "button",
      { type: "button", class: "button", id: "settings-toggle", "aria-expanded": "false", onClick: toggleSettings },
      "Settings",
    ),
    h(
      "button",
      { type: "button", class: "button", onClick: exportCurrent, title: "Download this conversation as JSON" },
      "Export",
    ),
  );
  ui.root = h(
    "section",
    { class: "view chat-view", id: "view-chat" },
    ui.sidebar,
    h("div", { class: "chat-main" }, bar, ui.settings, ui.messages, composer),
  );
  return ui.root;
}

export async function initChat() {
  state.convs = await listConversations();
  await refreshModels();
  if (state.convs.length) select(state.convs[0]);
  else startNew();
}

export async function refreshModels() {
  try {
    const { models } = await getJSON("/api/tags");
    // Embedding-only models cannot chat.
    state.models = models.filter(
      (m) => !(m.capabilities ?? []).includes("embedding") || (m.capabilities ?? []).includes("completion"),
    );
  } catch (err) {
    toast(`Could not list models: ${err.message}`, "error");
  }
  fillModels();
}

export function useModel(name) {
  location.hash = "#/chat";
  if (state.conv && state.conv.messages.length === 0) {
    state.conv.model = name;
    fillModels();
  } else startNew(name);
  ui.input.focus();
}

function fillModels() {
  const current = state.conv?.model;
  const names = state.models.map((m) => m.name);
  if (current && !names.includes(current)) names.push(current);
  clear(
    ui.model,
    names.length ? names.map((n) => h("option", { value: n }, n)) : h("option", { value: "" }, "No models: pull one"),
  );
  if (current) ui.model.value = current;
  else if (state.conv && names.length) state.conv.model = ui.model.value;
}

function defaultModel() {
  const last = localStorage.getItem(LAST_MODEL);
  const names = state.models.map((m) => m.name);
  return names.includes(last) ? last : (names.find((n) => n.startsWith("qwen2.5-coder")) ?? names[0] ?? "");
}

function startNew(model) {
  const conv = newConversation(model ?? defaultModel());
  state.convs.unshift(conv);
  select(conv);
  ui.input?.focus();
}

function select(conv) {
  if (state.controller) state.controller.abort();
  state.conv = conv;
  ui.sidebar.classList.remove("open");
  fillModels();
  ui.panel.load(conv);
  renderConvList();
  renderMessages();
}

async function persist(conv = state.conv) {
  conv.updated = Date.now();
  if (conv.messages.length === 0 && conv.title === "New chat") return; // empty chats are not kept
  await saveConversation(conv);
  renderConvList();
}

function renderConvList() {
  const visible = state.convs.filter((c) => c === state.conv || c.messages.length || c.title !== "New chat");
  clear(
    ui.convList,
    visible.map((conv) =>
      h(
        "li",
        { class: conv === state.conv ? "conv active" : "conv" },
        h(
          "button",
          {
            type: "button",
            class: "conv-title",
            "aria-current": conv === state.conv ? "true" : null,
            onClick: () => select(conv),
          },
          conv.title,
        ),
        h(
          "button",
          {
            type: "button",
            class: "mini",
            title: "Rename",
            "aria-label": `Rename ${conv.title}`,
            onClick: () => rename(conv),
          },
          "\u270E",
        ),
        h(
          "button",
          {
            type: "button",
            class: "mini",
            title: "Delete",
            "aria-label": `Delete ${conv.title}`,
            onClick: () => remove(conv),
          },
          "\u00D7",
        ),
      ),
    ),
  );
  ui.title.textContent = state.conv?.title ?? "";
}

async function rename(conv) {
  const title = await ask("Rename conversation", conv.title, { confirm: "Rename" });
  if (title == null || !title.trim()) return;
  conv.title = title.trim();
  await persist(conv);
}

async function remove(conv) {
  if (!(await confirmDialog("Delete conversation?", `"${conv.title}" will be deleted from this browser.`, "Delete")))
    return;
  await deleteConversation(conv.id);
  state.convs = state.convs.filter((c) => c !== conv);
  if (conv === state.conv) {
    if (state.convs.length) select(state.convs[0]);
    else startNew();
  } else renderConvList();
}

function exportCurrent() {
  const conv = state.conv;
  download(`${conv.title.replace(/[^\w.-]+/g, "_").slice(0, 60) || "chat"}.json`, conv);
}

function exportAll() {
  download(
    "pollama-conversations.json",
    state.convs.filter((c) => c.messages.length),
  );
}

function onModelChange() {
  state.conv.model = ui.model.value;
  localStorage.setItem(LAST_MODEL, ui.model.value);
  persist();
}

function toggleSettings(event) {
  ui.settings.hidden = !ui.settings.hidden;
  event.currentTarget.setAttribute("aria-expanded", String(!ui.settings.hidden));
}

function autosize() {
  ui.input.style.height = "auto";
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, 240)}px`;
}

function onPromptKey(event) {
  if (event.key === "Escape" && state.controller) state.controller.abort();
  else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    onSubmit(event);
  }
}

function onSubmit(event) {
  event.preventDefault();
  if (state.controller) {
    state.controller.abort();
    return;
  }
  const text = ui.input.value.trim();
  if (!text) return;
  if (!state.conv.model) {
    toast("Pick a model first (Models: pull one).", "error");
    return;
  }
  ui.input.value = "";
  autosize();
  state.conv.messages.push({ role: "user", content: text });
  if (state.conv.title === "New chat") state.conv.title = text.replace(/\s+/g, " ").slice(0, 48).trim();
  generate();
}

async function generate() {
  const conv = state.conv;
  let body;
  try {
    body = requestBody(conv);
  } catch (err) {
    toast(`Tools are not valid JSON: ${err.message}`, "error");
    return;
  }
  const msg = { role: "assistant", model: conv.model, content: "", thinking: "", tool_calls: [] };
  conv.messages.push(msg);
  await persist(conv);
  renderMessages();
  const view = ui.messages.lastElementChild;
  const controller = new AbortController();
  state.controller = controller;
  setBusy(true);
  let frame = 0;
  const paint = () => {
    frame = 0;
    if (state.conv === conv) updateMessage(view, msg, true);
    stickToBottom();
  };
  try {
    for await (const chunk of stream("/api/chat", body, { signal: controller.signal })) {
      const m = chunk.message ?? {};
      msg.content += m.content ?? "";
      msg.thinking += m.thinking ?? "";
      if (m.tool_calls?.length) msg.tool_calls.push(...m.tool_calls);
      if (chunk.done) msg.stats = stats(chunk);
      frame ||= requestAnimationFrame(paint);
    }
  } catch (err) {
    if (isAbort(err)) msg.stopped = true;
    else msg.error = err.message;
  } finally {
    if (frame) cancelAnimationFrame(frame);
    if (state.controller === controller) state.controller = null;
    setBusy(false);
    await persist(conv);
    if (state.conv === conv) renderMessages();
  }
}

function stats(done) {
  return {
    eval_count: done.eval_count ?? 0,
    eval_duration: done.eval_duration ?? 0,
    prompt_eval_count: done.prompt_eval_count ?? 0,
    prompt_eval_duration: done.prompt_eval_duration ?? 0,
    load_duration: done.load_duration ?? 0,
    total_duration: done.total_duration ?? 0,
    done_reason: done.done_reason ?? "",
  };
}

function setBusy(busy) {
  ui.send.textContent = busy ? "Stop" : "Send";
  ui.send.classList.toggle("danger", busy);
  ui.send.classList.toggle("primary", !busy);
  ui.root.classList.toggle("busy", busy);
}

function stickToBottom() {
  const el = ui.messages;
  if (el.scrollHeight - el.scrollTop - el.clientHeight < 160) el.scrollTop = el.scrollHeight;
}

function renderMessages() {
  const conv = state.conv;
  if (!conv.messages.length) {
    clear(
      ui.messages,
      h(
        "div",
        { class: "empty" },
        h("h2", null, conv.model || "pollama"),
        h("p", null, "Ask anything. Answers stream from /api/chat on this server."),
      ),
    );
    return;
  }
  clear(
    ui.messages,
    conv.messages.map((msg, i) => messageView(msg, i)),
  );
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

function messageView(msg, index) {
  const el = h("article", { class: `msg msg-${msg.role}`, dataset: { index } });
  updateMessage(el, msg, false);
  return el;
}

function updateMessage(el, msg, live) {
  const index = Number(el.dataset.index);
  renderMessage(el, msg, {
    live,
    last: index === state.conv.messages.length - 1,
    onEdit: () => edit(el, index),
    onRegenerate: regenerate,
  });
}

function regenerate() {
  if (state.controller) return;
  const conv = state.conv;
  if (conv.messages.at(-1)?.role === "assistant") conv.messages.pop();
  generate();
}

function edit(el, index) {
  if (state.controller) return;
  const msg = state.conv.messages[index];
  const area = h("textarea", {
    class: "edit-box",
    rows: Math.min(12, msg.content.split("\n").length + 1),
    value: msg.content,
    "aria-label": "Edit message",
  });
  const save = () => {
    const text = area.value.trim();
    if (!text) return;
    msg.content = text;
    state.conv.messages = state.conv.messages.slice(0, index + 1);
    generate();
  };
  area.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      save();
    } else if (event.key === "Escape") renderMessages();
  });
  el.replaceChildren(
    h("div", { class: "msg-role" }, "You (editing)"),
    area,
    h(
      "div",
      { class: "msg-actions" },
      h("button", { type: "button", class: "button primary", onClick: save }, "Save & send"),
      h("button", { type: "button", class: "button", onClick: renderMessages }, "Cancel"),
    ),
  );
  area.focus();
}
