// The page's entry: the three views behind hash routes (#/chat, #/models, #/running), the theme, the server
// version and the API key.
import { getJSON, onKeyNeeded, setKey, storedKey } from "./api.js";
import { chatView, initChat, refreshModels as refreshChatModels, useModel } from "./chat.js";
import { ask, toast } from "./dom.js";
import { modelsView, refreshModels } from "./models.js";
import { runningView, watchRunning } from "./running.js";

const THEME = "pollama.theme";
const THEMES = ["auto", "light", "dark"];

function applyTheme(theme) {
  if (theme === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  const button = document.getElementById("theme-button");
  button.title = `Theme: ${theme}`;
  button.setAttribute("aria-label", `Theme: ${theme}`);
}

function cycleTheme() {
  const now = localStorage.getItem(THEME) ?? "auto";
  const next = THEMES[(THEMES.indexOf(now) + 1) % THEMES.length];
  localStorage.setItem(THEME, next);
  applyTheme(next);
}

async function keyDialog(message) {
  const key = await ask("API key", storedKey(), {
    message: `${message} It is kept in this browser and sent as a Bearer token.`,
    confirm: "Save",
  });
  return key == null ? null : key.trim();
}

const views = {};
let started = false;

function route() {
  const name = (location.hash.match(/^#\/(\w+)/) ?? [])[1];
  const current = name in views ? name : "chat";
  for (const [key, view] of Object.entries(views)) view.hidden = key !== current;
  for (const link of document.querySelectorAll(".tabs a")) {
    if (link.dataset.view === current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  watchRunning(current === "running");
  if (current === "models") refreshModels();
  // The first load lists the models in initChat.
  if (current === "chat" && started) refreshChatModels();
  started = true;
}

async function main() {
  applyTheme(localStorage.getItem(THEME) ?? "auto");
  document.getElementById("theme-button").addEventListener("click", cycleTheme);
  onKeyNeeded(keyDialog);
  document.getElementById("key-button").addEventListener("click", async () => {
    const key = await keyDialog("The key for this server's API, if it needs one.");
    if (key != null) {
      setKey(key);
      toast(key ? "Key saved" : "Key removed");
    }
  });
  const app = document.getElementById("app");
  views.chat = chatView();
  views.models = modelsView({ changed: refreshChatModels, chat: useModel });
  views.running = runningView();
  app.replaceChildren(...Object.values(views));
  window.addEventListener("hashchange", route);
  route();
  getJSON("/api/version")
    .then(({ version }) => {
      for (const el of document.querySelectorAll(".version-text")) el.textContent = version;
    })
    .catch(() => {});
  await initChat();
  document.body.dataset.ready = "true";
  performance.mark("pollama-ready");
}

main().catch((err) => toast(err.message, "error"));
