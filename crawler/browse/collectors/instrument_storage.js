// Reports every Web Storage and Cache Storage write, as it happens: a frame removed before the inventory keeps
// its evidence. Never breaks the page.
(() => {
  const binding = () => window.__trackauditStorageWrite;
  const report = (kind, container, key, value) => {
    try {
      const send = binding();
      if (typeof send === "function") send(kind, location.origin, container, String(key), value === null ? null : String(value), location.href);
    } catch (e) { /* never break the page */ }
  };
  try {
    const setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function (key, value) {
      const result = setItem.call(this, key, value);
      let kind = null;
      try { kind = this === window.localStorage ? "localStorage" : this === window.sessionStorage ? "sessionStorage" : null; } catch (e) {}
      if (kind) report(kind, null, key, value);
      return result;
    };
  } catch (e) {}
  if (typeof CacheStorage === "undefined" || typeof Cache === "undefined") return;
  const names = new WeakMap();
  try {
    const open = CacheStorage.prototype.open;
    CacheStorage.prototype.open = function (name) {
      return open.call(this, name).then((cache) => { names.set(cache, String(name)); return cache; });
    };
    // Reported before the page's own await resumes, so a frame that stores and is then removed is still seen.
    const readBack = (cache, request) => {
      const url = typeof request === "string" ? new URL(request, location.href).href : request.url;
      return cache.match(request).then((response) => response ? response.text() : null)
        .then((body) => report("cacheStorage", names.get(cache) || null, url, body), () => {});
    };
    const wrap = (method, requestsOf) => {
      const original = Cache.prototype[method];
      Cache.prototype[method] = function (...args) {
        const cache = this;
        return original.apply(this, args).then((result) =>
          Promise.all(requestsOf(args).map((r) => readBack(cache, r))).then(() => result));
      };
    };
    wrap("put", (args) => [args[0]]);
    wrap("add", (args) => [args[0]]);
    wrap("addAll", (args) => Array.from(args[0] || []));
  } catch (e) {}
})();
