// Conversations kept in the browser's IndexedDB (one object per conversation, newest first).

const DB = "pollama";
const STORE = "conversations";
let dbPromise = null;

function db() {
  dbPromise ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "id" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return dbPromise;
}

async function run(mode, act) {
  const tx = (await db()).transaction(STORE, mode);
  const req = act(tx.objectStore(STORE));
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(req?.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export async function listConversations() {
  const all = (await run("readonly", (s) => s.getAll())) ?? [];
  return all.sort((a, b) => b.updated - a.updated);
}

// Stored as plain data: a structured clone of the live object.
export const saveConversation = (conv) => run("readwrite", (s) => s.put(JSON.parse(JSON.stringify(conv))));
export const deleteConversation = (id) => run("readwrite", (s) => s.delete(id));

export function newConversation(model) {
  const now = Date.now();
  return {
    id: crypto.randomUUID?.() ?? `${now}-${Math.random().toString(16).slice(2)}`,
    title: "New chat",
    model,
    system: "",
    options: {},
    think: "",
    json: false,
    tools: "",
    messages: [],
    created: now,
    updated: now,
  };
}
