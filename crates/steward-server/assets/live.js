// Keeps a live connection while signed in: when this session ends anywhere
// (revoked from another device, signed out, password changed), the server closes
// it with code 4001 and the page reloads to show the signed-out state.
(() => {
  "use strict";
  if (!document.querySelector('meta[name="steward-live"]')) return;
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/live";
  let wait = 500;
  const connect = () => {
    const ws = new WebSocket(url);
    ws.addEventListener("open", () => { wait = 500; });
    ws.addEventListener("close", (e) => {
      if (e.code === 4001) { location.reload(); return; }
      // 1006 on a failed handshake (already signed out, server restarting): retry with backoff.
      setTimeout(connect, wait + Math.random() * wait);
      wait = Math.min(wait * 2, 30000);
    });
  };
  connect();
})();
