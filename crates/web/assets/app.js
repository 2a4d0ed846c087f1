// Backline's own script. Pages work without it; htmx (hx-boost) makes links and forms faster. Kept as a
// file so the Content-Security-Policy can forbid inline script.
document.addEventListener("htmx:afterSwap", function () {
  // After a form comes back with errors, put the focus on the first one so a keyboard or screen-reader
  // user hears what went wrong.
  var error = document.querySelector("[role=alert]");
  if (error) {
    error.setAttribute("tabindex", "-1");
    error.focus();
  }
});

// The door's camera: where the browser has a barcode detector, a button scans a ticket's QR code and
// sends it as if it were typed.
function setUpCamera() {
  var button = document.getElementById("camera");
  if (!button || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  button.hidden = false;
  button.addEventListener("click", async function () {
    var video = document.getElementById("camera-view");
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    var stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    var look = async function () {
      var codes = await detector.detect(video).catch(function () { return []; });
      if (codes.length > 0) {
        stream.getTracks().forEach(function (t) { t.stop(); });
        document.getElementById("code").value = codes[0].rawValue;
        document.getElementById("scan-form").requestSubmit();
        return;
      }
      requestAnimationFrame(look);
    };
    look();
  });
}
document.addEventListener("DOMContentLoaded", setUpCamera);
document.addEventListener("htmx:afterSwap", setUpCamera);

// The notification center is live: each notification the stream sends is put first in the list (by
// htmx's SSE extension); here the unread count follows and the empty state goes.
document.addEventListener("htmx:sseOpen", function () {
  var live = document.getElementById("live");
  if (live) live.hidden = false;
});
document.addEventListener("htmx:sseMessage", function (event) {
  if (!event.detail || event.detail.type !== "notification") return;
  var unread = document.getElementById("unread");
  if (unread) unread.textContent = String(Number(unread.textContent) + 1);
  var nothing = document.getElementById("nothing");
  if (nothing) nothing.remove();
});

// A toast says what the last action did, then fades: it stays in the page's text for screen readers
// (role=status) and goes after eight seconds, or at once when clicked.
function setUpToast() {
  var toast = document.getElementById("toast");
  if (!toast) return;
  var hide = function () { toast.classList.add("gone"); setTimeout(function () { toast.remove(); }, 400); };
  toast.addEventListener("click", hide);
  setTimeout(hide, 8000);
}
document.addEventListener("DOMContentLoaded", setUpToast);
document.addEventListener("htmx:afterSwap", setUpToast);
