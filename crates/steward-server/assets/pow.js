// "I'm not a robot": solves Steward's ALTCHA-format proof of work in the browser.
// Ticking the box fetches a challenge, finds n with SHA-256(salt + n) == challenge,
// and puts the base64 JSON solution in the form's hidden `altcha` field.
"use strict";
(function () {
  function hex(buffer) {
    return Array.from(new Uint8Array(buffer)).map(function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }
  async function solve(c) {
    var enc = new TextEncoder();
    for (var n = 0; n <= c.maxnumber; n++) {
      var digest = await crypto.subtle.digest("SHA-256", enc.encode(c.salt + n));
      if (hex(digest) === c.challenge) return n;
    }
    return null;
  }
  function setup(widget) {
    var box = widget.querySelector("[data-altcha-box]");
    var field = widget.querySelector("input[name=altcha]");
    var status = widget.querySelector("[data-altcha-status]");
    var form = widget.closest("form");
    var busy = false;
    async function run() {
      if (busy || field.value) return;
      busy = true;
      status.textContent = "Verifying…";
      try {
        var res = await fetch(widget.dataset.challengeUrl, { credentials: "same-origin", cache: "no-store" });
        if (!res.ok) throw new Error("HTTP " + res.status);
        var c = await res.json();
        var n = await solve(c);
        if (n === null) throw new Error("no solution");
        field.value = btoa(JSON.stringify({ algorithm: c.algorithm, challenge: c.challenge, number: n, salt: c.salt, signature: c.signature }));
        box.checked = true;
        widget.classList.add("verified");
        status.textContent = "Verified. You can submit the form.";
      } catch (e) {
        box.checked = false;
        status.textContent = "The check could not run. Untick and tick the box to try again.";
      } finally {
        busy = false;
      }
    }
    box.addEventListener("change", function () {
      if (box.checked) run();
      else { field.value = ""; widget.classList.remove("verified"); status.textContent = "Tick the box to verify."; }
    });
    if (form) {
      form.addEventListener("submit", function (ev) {
        if (!field.value) {
          ev.preventDefault();
          box.checked = true;
          run().then(function () { if (field.value) form.requestSubmit(); });
        }
      });
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-altcha]").forEach(setup);
  });
})();
