// Reports calls to the JavaScript APIs fingerprinting scripts use, and the script behind each, to the audit:
// canvas drawing and read-back, canvas font measuring, WebRTC, OfflineAudioContext, navigator and screen reads.
// Runs before any page script in every frame (and, through CDP, in dedicated, shared and service workers as soon as
// the audit attaches to them).
// Calls are deduplicated per document and sent in batches.
(() => {
  const global = globalThis;
  if (global.__trackauditApisInstrumented) return;
  Object.defineProperty(global, "__trackauditApisInstrumented", {value: true});
  const BINDING = "__trackauditApiCalls";  // Playwright's binding in frames: (calls, frame URL)
  const WORKER_BINDING = "__trackauditApiCallsJson";  // CDP's binding in workers: one JSON string
  const MAX_DETAIL = 200;
  const seen = new Set();
  let queue = [];
  let flushScheduled = false;
  const canvasIds = new WeakMap();
  let nextCanvas = 1;
  const documentId = Math.random().toString(36).slice(2, 10);

  const callerScript = () => {
    const stack = new Error().stack || "";
    // The first http(s) URL in the stack is the calling page script (inline scripts show the page URL);
    // this instrumentation has none. A call without one was not made by a page script.
    const match = stack.match(/https?:\/\/[^\s)]+/);
    return match ? match[0].replace(/:\d+:\d+$/, "").replace(/:\d+$/, "") : null;
  };

  const flush = () => {
    flushScheduled = false;
    const batch = queue;
    queue = [];
    try {
      if (!batch.length) return;
      if (typeof global[WORKER_BINDING] === "function") {
        global[WORKER_BINDING](JSON.stringify({calls: batch, frame: String(location.href)}));
      } else if (typeof global[BINDING] === "function") {
        global[BINDING](batch, location.href);
      }
    } catch (e) { /* never break the page */ }
  };

  const record = (api, target, detail) => {
    try {
      const script = callerScript();
      if (!script) return;
      const text = detail === undefined || detail === null ? "" : String(detail).slice(0, MAX_DETAIL);
      const key = `${script}\u0000${api}\u0000${target}\u0000${text}`;
      if (seen.has(key)) return;
      seen.add(key);
      queue.push([Date.now() / 1000, script, api, target, text]);
      if (!flushScheduled) {
        flushScheduled = true;
        setTimeout(flush, 0);
      }
    } catch (e) { /* never break the page */ }
  };

  const canvasOf = (canvas) => {
    if (!canvas || typeof canvas !== "object") return "";
    let id = canvasIds.get(canvas);
    if (!id) {
      id = `${documentId}:${nextCanvas++}`;
      canvasIds.set(canvas, id);
    }
    return id;
  };
  const size = (canvas) => (canvas ? `${canvas.width}x${canvas.height}` : "");

  const wrapMethod = (proto, name, describe, label) => {
    if (!proto) return;
    const original = proto[name];
    if (typeof original !== "function") return;
    const wrapped = function (...args) {
      try {
        const [target, detail] = describe(this, args);
        record(`${label}.${name}`, target, detail);
      } catch (e) { /* never break the page */ }
      return original.apply(this, args);
    };
    Object.defineProperty(wrapped, "name", {value: name});
    Object.defineProperty(proto, name, {value: wrapped, writable: true, configurable: true, enumerable: false});
  };

  const wrapSetter = (proto, name, describe, label) => {
    const descriptor = proto && Object.getOwnPropertyDescriptor(proto, name);
    if (!descriptor || !descriptor.set) return;
    Object.defineProperty(proto, name, {
      configurable: true, enumerable: descriptor.enumerable,
      get() { return descriptor.get.call(this); },
      set(value) {
        try {
          const [target, detail] = describe(this, value);
          record(`${label}.${name}`, target, detail);
        } catch (e) { /* never break the page */ }
        return descriptor.set.call(this, value);
      },
    });
  };

  const wrapGetter = (proto, name, label) => {
    const descriptor = proto && Object.getOwnPropertyDescriptor(proto, name);
    if (!descriptor || !descriptor.get) return;
    Object.defineProperty(proto, name, {
      configurable: true, enumerable: descriptor.enumerable,
      get() {
        record(`${label}.${name}`, "", "");
        return descriptor.get.call(this);
      },
      set: descriptor.set,
    });
  };

  // Canvas: text and colours drawn, read-back and its size, font measuring (Englehardt & Narayanan 2016).
  const onContext = (ctx) => canvasOf(ctx && ctx.canvas);
  const style = (ctx, value) => [onContext(ctx), typeof value === "string" ? value : "(gradient or pattern)"];
  for (const label of ["CanvasRenderingContext2D", "OffscreenCanvasRenderingContext2D"]) {
    const canvas2d = global[label] && global[label].prototype;
    wrapMethod(canvas2d, "fillText", (ctx, args) => [onContext(ctx), args[0]], label);
    wrapMethod(canvas2d, "strokeText", (ctx, args) => [onContext(ctx), args[0]], label);
    wrapMethod(canvas2d, "measureText", (ctx) => [onContext(ctx), ctx.font], label);
    wrapMethod(canvas2d, "getImageData", (ctx, args) => [onContext(ctx), `${args[2]}x${args[3]}`], label);
    wrapMethod(canvas2d, "save", (ctx) => [onContext(ctx), ""], label);
    wrapMethod(canvas2d, "restore", (ctx) => [onContext(ctx), ""], label);
    wrapSetter(canvas2d, "fillStyle", style, label);
    wrapSetter(canvas2d, "strokeStyle", style, label);
  }
  const canvasElement = global.HTMLCanvasElement && HTMLCanvasElement.prototype;
  wrapMethod(canvasElement, "toDataURL", (canvas, args) => [canvasOf(canvas), `${size(canvas)} ${args[0] || "image/png"}`], "HTMLCanvasElement");
  wrapMethod(canvasElement, "toBlob", (canvas, args) => [canvasOf(canvas), `${size(canvas)} ${args[1] || "image/png"}`], "HTMLCanvasElement");
  wrapMethod(canvasElement, "addEventListener", (canvas, args) => [canvasOf(canvas), args[0]], "HTMLCanvasElement");
  const offscreen = global.OffscreenCanvas && OffscreenCanvas.prototype;
  wrapMethod(offscreen, "convertToBlob", (canvas, args) => [canvasOf(canvas), `${size(canvas)} ${(args[0] && args[0].type) || "image/png"}`], "OffscreenCanvas");
  wrapMethod(offscreen, "addEventListener", (canvas, args) => [canvasOf(canvas), args[0]], "OffscreenCanvas");

  // WebRTC local-address discovery: a peer connection, a data channel or an offer, and its ICE candidates.
  const Peer = global.RTCPeerConnection || global.webkitRTCPeerConnection;
  if (Peer) {
    const peers = new WeakMap();
    let nextPeer = 1;
    const peerOf = (pc) => {
      let id = peers.get(pc);
      if (!id) {
        id = `${documentId}:rtc${nextPeer++}`;
        peers.set(pc, id);
      }
      return id;
    };
    const proto = Peer.prototype;
    const Instrumented = function (...args) {
      const pc = new Peer(...args);
      record("RTCPeerConnection", peerOf(pc), "");
      return pc;
    };
    Instrumented.prototype = proto;
    Object.setPrototypeOf(Instrumented, Peer);
    global.RTCPeerConnection = Instrumented;
    if (global.webkitRTCPeerConnection) global.webkitRTCPeerConnection = Instrumented;
    wrapMethod(proto, "createDataChannel", (pc) => [peerOf(pc), ""], "RTCPeerConnection");
    wrapMethod(proto, "createOffer", (pc) => [peerOf(pc), ""], "RTCPeerConnection");
    wrapMethod(proto, "addEventListener", (pc, args) => [peerOf(pc), args[0]], "RTCPeerConnection");
    wrapSetter(proto, "onicecandidate", (pc) => [peerOf(pc), ""], "RTCPeerConnection");
    const local = Object.getOwnPropertyDescriptor(proto, "localDescription");
    if (local && local.get) {
      Object.defineProperty(proto, "localDescription", {
        configurable: true, enumerable: local.enumerable,
        get() { record("RTCPeerConnection.localDescription", peerOf(this), ""); return local.get.call(this); },
      });
    }
  }

  // Audio fingerprinting: an OfflineAudioContext rendering an oscillator through a compressor.
  const Offline = global.OfflineAudioContext || global.webkitOfflineAudioContext;
  if (Offline) {
    const Instrumented = function (...args) {
      const context = new Offline(...args);
      record("OfflineAudioContext", "", args.length === 1 && args[0] ? JSON.stringify(args[0]) : args.join(","));
      return context;
    };
    Instrumented.prototype = Offline.prototype;
    Object.setPrototypeOf(Instrumented, Offline);
    global.OfflineAudioContext = Instrumented;
    if (global.webkitOfflineAudioContext) global.webkitOfflineAudioContext = Instrumented;
    const kind = (context) => (context instanceof Offline ? "offline" : "realtime");
    const base = global.BaseAudioContext ? BaseAudioContext.prototype : Offline.prototype;
    wrapMethod(base, "createOscillator", (context) => ["", kind(context)], "BaseAudioContext");
    wrapMethod(base, "createDynamicsCompressor", (context) => ["", kind(context)], "BaseAudioContext");
    wrapMethod(Offline.prototype, "startRendering", () => ["", "offline"], "OfflineAudioContext");
  }

  // The breadth of navigator and screen properties read.
  const NAVIGATOR = ["userAgent", "platform", "language", "languages", "hardwareConcurrency", "deviceMemory",
    "plugins", "mimeTypes", "doNotTrack", "cookieEnabled", "maxTouchPoints", "vendor", "vendorSub", "appVersion",
    "appName", "appCodeName", "product", "productSub", "webdriver", "connection", "pdfViewerEnabled",
    "userAgentData", "keyboard", "mediaDevices"];
  const SCREEN = ["width", "height", "availWidth", "availHeight", "availLeft", "availTop", "colorDepth",
    "pixelDepth", "orientation"];
  const navigatorType = global.Navigator || global.WorkerNavigator;
  if (navigatorType) for (const name of NAVIGATOR) wrapGetter(navigatorType.prototype, name, "navigator");
  if (global.Screen) for (const name of SCREEN) wrapGetter(Screen.prototype, name, "screen");

  // Workers are instrumented through CDP a few milliseconds after they start (or, for a service worker, after the
  // audit attaches to it): messages the page posts to a worker wait until the audit says its instrumentation is
  // in place (at most HOLD_MS), so what the worker does on them is seen. (A BroadcastChannel opened in the worker
  // to say so crashed Chromium.)
  const HOLD_MS = 1000;
  if (typeof document !== "undefined" && (global.Worker || global.ServiceWorker || global.SharedWorker)) {
    const held = new Map();  // worker URL -> [release functions]
    const instrumented = new Set();  // service and shared worker script URLs the audit has released in this document
    Object.defineProperty(global, "__trackauditReleaseWorker", {
      value: (href) => {
        instrumented.add(href);
        for (const release of held.get(href) || []) release();
        held.delete(href);
      },
    });
    const hold = (href, release) => {
      held.set(href, [...(held.get(href) || []), release]);
      setTimeout(release, HOLD_MS);
    };

    // Messages posted on ``target`` (a worker, or a shared worker's port) wait until the audit releases ``href``.
    const holdPosts = (target, href) => {
      const nativePost = target.postMessage;
      let queue = [];
      Object.defineProperty(target, "postMessage", {
        configurable: true, writable: true, enumerable: false,
        value: function postMessage(...args) {
          if (queue) { queue.push(args); return undefined; }
          return nativePost.apply(target, args);
        },
      });
      hold(href, () => {
        if (!queue) return;
        const waiting = queue;
        queue = null;
        for (const args of waiting) nativePost.apply(target, args);
      });
    };
    // Each new dedicated worker is a new target to instrument; a shared worker is attached once, when the browser
    // creates it, so one the audit released earlier in this document passes at once.
    const holdNewWorkers = (name, messagesOf, shared) => {
      const Native = global[name];
      const Instrumented = function (url, options) {
        const worker = new Native(url, options);
        try {
          const href = new URL(String(url), document.baseURI).href;
          if (!(shared && instrumented.has(href))) holdPosts(messagesOf(worker), href);
        } catch (e) { /* never break the page */ }
        return worker;
      };
      Instrumented.prototype = Native.prototype;
      Object.setPrototypeOf(Instrumented, Native);
      global[name] = Instrumented;
    };
    if (global.Worker) holdNewWorkers("Worker", (worker) => worker, false);
    if (global.SharedWorker) holdNewWorkers("SharedWorker", (worker) => worker.port, true);

    // A service worker outlives the document: one the audit released earlier in this document passes at once;
    // in a later document its first messages wait HOLD_MS (the audit attached to it before that document).
    if (global.ServiceWorker) {
      const nativePost = ServiceWorker.prototype.postMessage;
      Object.defineProperty(ServiceWorker.prototype, "postMessage", {
        configurable: true, writable: true, enumerable: false,
        value: function postMessage(...args) {
          const href = String(this.scriptURL);
          if (instrumented.has(href)) return nativePost.apply(this, args);
          let sent = false;
          hold(href, () => {
            if (sent) return;
            sent = true;
            try { nativePost.apply(this, args); } catch (e) { /* a worker gone meanwhile */ }
          });
          return undefined;
        },
      });
    }
  }

  addEventListener("pagehide", flush);
})();
