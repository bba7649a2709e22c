// Reports every document.cookie assignment, and the script that made it, to the audit.
(() => {
  const descriptor = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  if (!descriptor || !descriptor.set) return;
  const report = (value) => {
    try {
      const stack = new Error().stack || "";
      // The first http(s) URL in the stack is the writing script (inline scripts show the page URL).
      const match = stack.match(/https?:\/\/[^\s)]+/);
      const script = match ? match[0].replace(/:\d+:\d+$/, "").replace(/:\d+$/, "") : null;
      const binding = window.__trackauditCookieWrite;
      if (typeof binding === "function") binding(String(value), script, location.href);
    } catch (e) { /* never break the page */ }
  };
  Object.defineProperty(Document.prototype, "cookie", {
    configurable: true,
    enumerable: descriptor.enumerable,
    get() { return descriptor.get.call(this); },
    set(value) { report(value); return descriptor.set.call(this, value); },
  });
})();
