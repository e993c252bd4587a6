// The server's API as the page uses it: JSON calls, NDJSON streams, errors as Ollama words them, and the API key
// (asked for on a 401, kept in localStorage, sent as Authorization: Bearer).

const KEY = "pollama.apiKey";

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

let askForKey = null;
let pendingKey = null;

// ``ask(message)`` resolves to a key, or null when the user gives up; concurrent 401s share one question.
export function onKeyNeeded(ask) {
  askForKey = ask;
}

export const storedKey = () => localStorage.getItem(KEY) ?? "";
export function setKey(key) {
  if (key) localStorage.setItem(KEY, key);
  else localStorage.removeItem(KEY);
}

async function errorOf(res) {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    const err = body.error;
    message = typeof err === "string" ? err : (err?.message ?? message);
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(message, res.status);
}

export async function request(path, { method = "GET", body, signal } = {}) {
  for (let attempt = 0; ; attempt++) {
    const headers = {};
    const key = storedKey();
    if (key) headers.Authorization = `Bearer ${key}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    if (res.status === 401 && askForKey && attempt < 5) {
      pendingKey ??= askForKey(key ? "The server refused this key." : "This server needs an API key.").finally(
        () => (pendingKey = null),
      );
      const given = await pendingKey;
      if (given == null) throw await errorOf(res);
      setKey(given);
      continue;
    }
    if (!res.ok) throw await errorOf(res);
    return res;
  }
}

export const getJSON = async (path, options) => (await request(path, options)).json();
export const postJSON = async (path, body, options = {}) =>
  (await request(path, { method: "POST", body, ...options })).json();

// Each object of an NDJSON answer; an {"error": ...} line (a failure after the stream started) is thrown.
export async function* stream(path, body, { signal, method = "POST" } = {}) {
  const res = await request(path, { method, body, signal });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const parse = (line) => {
    const obj = JSON.parse(line);
    if (obj.error) throw new ApiError(obj.error, res.status);
    return obj;
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) yield parse(line);
      }
    }
    if (buffer.trim()) yield parse(buffer.trim());
  } finally {
    reader.releaseLock();
  }
}

export const isAbort = (err) => err?.name === "AbortError";
