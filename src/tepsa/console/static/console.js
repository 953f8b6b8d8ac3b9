/* TepSA console behaviour that htmx does not cover: the darurat alarm (seen and heard),
   the live-connection indicator, and small form helpers. No inline scripts (CSP). */
(function () {
  "use strict";
  var audio = null, beepTimer = null;

  function soundWanted() { return localStorage.getItem("tepsa-sound") === "1"; }

  function beep() {
    if (!audio || audio.state !== "running") return;
    var t = audio.currentTime;
    [0, 0.35].forEach(function (offset) {
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = "square"; osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, t + offset);
      gain.gain.exponentialRampToValueAtTime(0.25, t + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + offset + 0.25);
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(t + offset); osc.stop(t + offset + 0.3);
    });
  }

  function ensureAudio() {
    if (!soundWanted()) return;
    if (!audio) { try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { audio = null; } }
    if (audio && audio.state === "suspended") audio.resume();
  }

  function showSoundState() {
    var b = document.getElementById("sound-toggle");
    if (b) b.textContent = soundWanted() ? b.dataset.on : b.dataset.off;
  }

  function updateAlarm() {
    var alarm = document.getElementById("alarm");
    if (!alarm) return;
    var unseen = document.querySelectorAll("#queue-body tr[data-unseen]");
    if (unseen.length) {
      alarm.classList.add("on");
      var ref = unseen[0].dataset.reference;
      document.getElementById("alarm-link").href = "/laporan/" + ref;
      document.getElementById("alarm-link").textContent = ref + " →";
      document.title = "(" + unseen.length + "!) " + document.title.replace(/^\(\d+!\) /, "");
      if (!beepTimer) { beep(); beepTimer = setInterval(beep, 4000); }
    } else {
      alarm.classList.remove("on");
      document.title = document.title.replace(/^\(\d+!\) /, "");
      if (beepTimer) { clearInterval(beepTimer); beepTimer = null; }
    }
  }

  document.addEventListener("click", function (ev) {
    if (ev.target && ev.target.id === "sound-toggle") {
      localStorage.setItem("tepsa-sound", soundWanted() ? "0" : "1");
      showSoundState();
    }
    ensureAudio();  // browsers allow sound only after the user has touched the page
  });
  document.addEventListener("keydown", ensureAudio);

  document.body.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.detail.target && ev.detail.target.id === "queue-body") updateAlarm();
  });
  document.body.addEventListener("htmx:sseOpen", function () {
    var s = document.getElementById("live-state");
    if (s) { s.classList.remove("off"); s.textContent = s.dataset.on; }
  });
  document.body.addEventListener("htmx:sseError", function () {
    var s = document.getElementById("live-state");
    if (s) { s.classList.add("off"); s.textContent = s.dataset.off; }
  });

  // A form whose submit button asks for confirmation (close, duplicate).
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });

  showSoundState();
})();
