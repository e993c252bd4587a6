// One message of a conversation: role, thinking (collapsible), the answer as sanitised Markdown, tool calls,
// error or stop note, the answer's figures, and its actions (copy, edit, regenerate).
import { copyButton, formatSeconds, h } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

function figures(s) {
  const parts = [];
  if (s.eval_count) {
    parts.push(`${s.eval_count} tokens`);
    if (s.eval_duration) parts.push(`${(s.eval_count / (s.eval_duration / 1e9)).toFixed(1)} tok/s`);
  }
  // Time to first token from the server's own durations: loading the model, then reading the prompt.
  parts.push(`first token ${formatSeconds(s.load_duration + s.prompt_eval_duration)}`);
  if (s.prompt_eval_count) {
    const rate = s.prompt_eval_duration
      ? `, ${(s.prompt_eval_count / (s.prompt_eval_duration / 1e9)).toFixed(0)} tok/s`
      : "";
    parts.push(`prompt ${s.prompt_eval_count} tokens${rate}`);
  }
  parts.push(`total ${formatSeconds(s.total_duration)}`);
  if (s.done_reason && s.done_reason !== "stop") parts.push(`(${s.done_reason})`);
  return parts.join(" \u00B7 ");
}

// Draws ``msg`` into ``el``; while ``live`` (streaming) the actions are left out.
export function renderMessage(el, msg, { live, last, onEdit, onRegenerate }) {
  const parts = [];
  parts.push(h("div", { class: "msg-role" }, msg.role === "user" ? "You" : (msg.model ?? "assistant")));
  if (msg.thinking) {
    const details = h(
      "details",
      { class: "thinking", open: live && !msg.content ? true : null },
      h("summary", null, live && !msg.content ? "Thinking\u2026" : "Thinking"),
      h("div", { class: "thinking-body" }, msg.thinking),
    );
    // Keep the reader's choice while the answer streams.
    const prior = el.querySelector("details.thinking");
    if (prior && live) details.open = prior.open || !msg.content;
    parts.push(details);
  }
  if (msg.role === "user") parts.push(h("div", { class: "msg-body plain" }, msg.content));
  else {
    const body = h("div", { class: "msg-body markdown" });
    renderMarkdown(body, msg.content);
    if (live && !msg.content && !msg.thinking)
      body.append(h("span", { class: "typing", "aria-label": "Waiting for the model" }, "\u2026"));
    parts.push(body);
  }
  if (msg.tool_calls?.length) {
    parts.push(
      h(
        "div",
        { class: "tool-calls" },
        msg.tool_calls.map((call) =>
          h(
            "div",
            { class: "tool-call" },
            h("span", { class: "tool-label" }, "Tool call"),
            h("code", { class: "tool-name" }, call.function?.name ?? "?"),
            h("pre", null, JSON.stringify(call.function?.arguments ?? {}, null, 2)),
          ),
        ),
      ),
    );
  }
  if (msg.error) parts.push(h("div", { class: "msg-error", role: "alert" }, msg.error));
  if (msg.stopped) parts.push(h("div", { class: "msg-note" }, "Stopped"));
  if (msg.stats) parts.push(h("div", { class: "msg-stats" }, figures(msg.stats)));
  if (!live) {
    const actions = h(
      "div",
      { class: "msg-actions" },
      copyButton(() => msg.content),
    );
    if (msg.role === "user") actions.append(h("button", { type: "button", class: "mini", onClick: onEdit }, "Edit"));
    if (msg.role === "assistant" && last)
      actions.append(h("button", { type: "button", class: "mini regenerate", onClick: onRegenerate }, "Regenerate"));
    parts.push(actions);
  }
  el.replaceChildren(...parts);
}
