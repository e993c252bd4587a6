// Model output is untrusted: Markdown (marked) is sanitised (DOMPurify) before it reaches the page, then code
// blocks are highlighted (highlight.js, a handful of common languages) and given a copy button.
import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { Marked } from "marked";
import { copyButton, h } from "./dom.js";

const languages = {
  bash,
  c,
  cpp,
  css,
  diff,
  go,
  java,
  javascript,
  json,
  markdown,
  python,
  rust,
  sql,
  typescript,
  xml,
  yaml,
};
for (const [name, lang] of Object.entries(languages)) hljs.registerLanguage(name, lang);
hljs.registerAliases(["sh", "shell", "zsh", "console"], { languageName: "bash" });
hljs.registerAliases(["html", "svg"], { languageName: "xml" });

const marked = new Marked({ gfm: true, breaks: false });

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

const PURIFY = {
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "option", "iframe"],
  FORBID_ATTR: ["style", "class", "id"],
  RETURN_DOM_FRAGMENT: true,
};

function decorate(pre) {
  const code = pre.querySelector("code");
  if (!code) return;
  const text = code.textContent;
  const lang = /language-([\w+#-]+)/.exec(code.getAttribute("data-lang") ?? "")?.[1];
  if (lang && hljs.getLanguage(lang)) {
    const html = hljs.highlight(text, { language: lang, ignoreIllegals: true }).value;
    // highlight.js escapes the text it wraps in its spans; the spans are its own.
    code.innerHTML = html;
    code.classList.add("hljs");
  }
  const head = h(
    "div",
    { class: "code-head" },
    h("span", { class: "code-lang" }, lang ?? "text"),
    copyButton(() => text),
  );
  const wrap = h("div", { class: "code-block" }, head);
  pre.replaceWith(wrap);
  wrap.append(pre);
}

// Renders ``text`` as sanitised Markdown into ``el``.
export function renderMarkdown(el, text) {
  const html = marked.parse(text ?? "", { async: false });
  // Keep the fence's language for highlighting: class attributes are stripped by the sanitiser.
  const tagged = html.replace(/<code class="language-([\w+#-]+)">/g, '<code data-lang="language-$1">');
  const fragment = DOMPurify.sanitize(tagged, { ...PURIFY, ADD_ATTR: ["data-lang"] });
  for (const pre of fragment.querySelectorAll("pre")) decorate(pre);
  el.replaceChildren(fragment);
}
