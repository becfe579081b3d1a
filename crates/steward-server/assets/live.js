// Keeps a live connection while signed in: when this session ends anywhere
// (revoked from another device, signed out, password changed), the server closes
// it with code 4001 and the page reloads to show the signed-out state.
(() => {
  "use strict";
  if (!document.querySelector('meta[name="steward-live"]')) return;
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/live";
  let wait = 500;
  // A form this page submitted may itself end the session (signing in again to the
  // same account replaces it): reloading then would cancel that navigation.
  let leaving = false;
  window.addEventListener("submit", (e) => {
    // After every handler ran: a submit a script held back (proof of work) does not leave.
    setTimeout(() => { if (!e.defaultPrevented) leaving = true; });
  });
  window.addEventListener("pagehide", () => { leaving = true; });
  const connect = () => {
    let opened = false;
    const ws = new WebSocket(url);
    ws.addEventListener("open", () => { opened = true; wait = 500; });
    ws.addEventListener("close", async (e) => {
      if (leaving) return;
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
