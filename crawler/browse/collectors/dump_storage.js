// Everything this frame's origin keeps client-side. Each part is read on its own: a third-party frame may refuse one.
async (maxChars) => {
  const out = { origin: location.origin, errors: [] };
  const clip = (v) => (typeof v === "string" && v.length > maxChars ? v.slice(0, maxChars) : v);
  const plain = (v) => {
    try { return JSON.parse(JSON.stringify(v)); } catch (e) { return String(v); }
  };
  for (const kind of ["localStorage", "sessionStorage"]) {
    try {
      const store = window[kind];
      const items = {};
      for (let i = 0; i < store.length; i++) { const k = store.key(i); items[k] = clip(store.getItem(k)); }
      out[kind] = items;
    } catch (e) { out.errors.push(kind + ": " + e.name); }
  }
  const request = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
  try {
    out.indexedDB = [];
    for (const info of await indexedDB.databases()) {
      const db = await new Promise((resolve, reject) => {
        const open = indexedDB.open(info.name);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
        open.onupgradeneeded = () => { open.transaction.abort(); reject(new Error("vanished")); };
      });
      try {
        for (const storeName of Array.from(db.objectStoreNames)) {
          const tx = db.transaction(storeName, "readonly");
          const store = tx.objectStore(storeName);
          const [keys, values] = await Promise.all([request(store.getAllKeys(null, 1000)), request(store.getAll(null, 1000))]);
          out.indexedDB.push({ database: info.name, store: storeName, records: keys.map((k, i) => [plain(k), plain(values[i])]) });
        }
      } finally { db.close(); }
    }
  } catch (e) { out.errors.push("indexedDB: " + e.name); }
  try {
    out.caches = [];
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      const entries = [];
      for (const req of (await cache.keys()).slice(0, 200)) {
        let body = null;
        try { body = clip(await (await cache.match(req)).text()); } catch (e) { body = null; }
        entries.push([req.url, body]);
      }
      out.caches.push({ name, entries });
    }
  } catch (e) { out.errors.push("caches: " + e.name); }
  try {
    out.serviceWorkers = [];
    if (navigator.serviceWorker) {
      for (const reg of await navigator.serviceWorker.getRegistrations()) {
        const worker = reg.active || reg.waiting || reg.installing;
        out.serviceWorkers.push({ scope: reg.scope, scriptURL: worker ? worker.scriptURL : null, state: worker ? worker.state : null });
      }
    }
  } catch (e) { out.errors.push("serviceWorker: " + e.name); }
  return out;
}
