// Keeps a live connection while signed in: when this session ends anywhere
// (revoked from another device, signed out, password changed), the server closes
// it with code 4001 and the page reloads to show the signed-out state.
(() => {
  "use strict";
  if (!document.querySelector('meta[name="steward-live"]')) return;
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/live";
  let wait = 500;
  const connect = () => {
    let opened = false;
    const ws = new WebSocket(url);
    ws.addEventListener("open", () => { opened = true; wait = 500; });
    ws.addEventListener("close", async (e) => {
      if (e.code === 4001) { location.reload(); return; }
      // A refused handshake looks like any network failure (1006): if the session
      // ended meanwhile, show that rather than retrying forever.
      if (!opened) {
        try {
          const r = await fetch("/api/v1/me", { credentials: "same-origin" });
          if (r.status === 401) { location.reload(); return; }
        } catch (_) { /* offline: retry below */ }
      }
      setTimeout(connect, wait + Math.random() * wait);
      wait = Math.min(wait * 2, 30000);
    });
  };
  connect();
})();
