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

// A file form uploads with a progress bar: the same form the page posts without script, sent by
// XMLHttpRequest (whose upload events tell how much is sent), asking for a bare answer. When the bytes
// are all sent the server still decodes and measures them, which the status says. Then the next page
// is opened, or what went wrong is said beside the form.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-upload")) return;
  var input = form.querySelector("input[type=file]");
  var progress = form.querySelector("progress");
  var status = form.querySelector("[role=status]");
  var button = form.querySelector("button[type=submit]");
  if (!input || !input.files || input.files.length === 0) {
    event.preventDefault();
    status.textContent = "Choose a file first.";
    status.classList.add("error");
    return;
  }
  event.preventDefault();
  var xhr = new XMLHttpRequest();
  xhr.open("POST", form.action);
  xhr.setRequestHeader("X-Upload", "progress");
  progress.hidden = false;
  progress.value = 0;
  button.disabled = true;
  status.classList.remove("error");
  status.textContent = "Uploading…";
  xhr.upload.addEventListener("progress", function (e) {
    if (!e.lengthComputable) return;
    var percent = Math.floor((e.loaded / e.total) * 100);
    progress.value = percent;
    status.textContent = percent < 100 ? "Uploading… " + percent + "%" : "Checking the file…";
  });
  xhr.addEventListener("load", function () {
    if (xhr.status === 204) {
      status.textContent = "Done.";
      var next = new URL(xhr.getResponseHeader("X-Location") || window.location.href, window.location.href);
      if (next.pathname === window.location.pathname && next.search === window.location.search) {
        // The same page (perhaps at another anchor): a change of anchor alone would not load it again.
        if (next.hash) window.location.hash = next.hash;
        window.location.reload();
      } else {
        window.location.assign(next.href);
      }
      return;
    }
    button.disabled = false;
    progress.hidden = true;
    status.classList.add("error");
    status.textContent = xhr.status === 403
      ? "This form expired. Reload the page and try again."
      : (xhr.responseText || "The upload failed.");
  });
  xhr.addEventListener("error", function () {
    button.disabled = false;
    progress.hidden = true;
    status.classList.add("error");
    status.textContent = "The connection was lost. Try again.";
  });
  xhr.send(new FormData(form));
});

// A waiting room's page follows the buyer's place (htmx's SSE extension swaps it in); when their turn
// comes, they go straight to the event's tickets, where the pass is waiting in the buy form.
document.addEventListener("htmx:sseMessage", function (event) {
  if (!event.detail || event.detail.type !== "place") return;
  var go = document.querySelector("#room .place[data-status=admitted] #go");
  if (go) window.location.assign(go.getAttribute("href"));
});

// An offer's time left counts down where the page shows it (`.countdown[data-expires]`), every second;
// at zero it says the offer has expired (the server's sweep has taken it back by then).
function countDown() {
  document.querySelectorAll(".countdown[data-expires]").forEach(function (el) {
    var left = Math.floor((Date.parse(el.getAttribute("data-expires")) - Date.now()) / 1000);
    if (isNaN(left)) return;
    if (left <= 0) {
      el.textContent = "expired";
      el.classList.add("expired");
      return;
    }
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    el.textContent = (h > 0 ? h + " h " : "") + m + " min " + (s < 10 ? "0" : "") + s + " s left";
  });
}
setInterval(countDown, 1000);

// The review view: each comment's pin is placed where it points (its place is in data attributes, as
// the Content-Security-Policy forbids inline styles); a click on the picture picks the point of a new
// comment, and a drag across it marks an area.
function setUpReview() {
  document.querySelectorAll(".stage .pin").forEach(function (pin) {
    pin.style.left = pin.dataset.left;
    pin.style.top = pin.dataset.top;
    if (pin.dataset.width) {
      pin.style.width = pin.dataset.width;
      pin.style.height = pin.dataset.height;
    }
  });
  var picture = document.getElementById("review-picture");
  var fields = ["comment-x", "comment-y", "comment-w", "comment-h"].map(function (id) {
    return document.getElementById(id);
  });
  var anchor = document.getElementById("comment-anchor");
  if (!picture || !anchor || fields.indexOf(null) >= 0 || picture.dataset.ready) return;
  picture.dataset.ready = "1";
  var start = null;
  // Where the pointer is, in percent of the picture's width and height.
  function at(event) {
    var box = picture.getBoundingClientRect();
    return [
      Math.min(100, Math.max(0, ((event.clientX - box.left) / box.width) * 100)),
      Math.min(100, Math.max(0, ((event.clientY - box.top) / box.height) * 100)),
    ];
  }
  // The mark of the new comment: a pin, or an area when it has a size.
  function mark(x, y, w, h) {
    var picked = document.getElementById("picked-pin");
    if (!picked) {
      picked = document.createElement("span");
      picked.id = "picked-pin";
      picked.textContent = "+";
      picture.parentNode.appendChild(picked);
    }
    picked.className = w ? "pin picked area" : "pin picked";
    picked.style.left = x + "%";
    picked.style.top = y + "%";
    picked.style.width = w ? w + "%" : "";
    picked.style.height = h ? h + "%" : "";
  }
  function area(from, to) {
    var x = Math.min(from[0], to[0]);
    var y = Math.min(from[1], to[1]);
    return [x, y, Math.max(from[0], to[0]) - x, Math.max(from[1], to[1]) - y];
  }
  picture.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    start = at(event);
    if (picture.setPointerCapture) picture.setPointerCapture(event.pointerId);
  });
  picture.addEventListener("pointermove", function (event) {
    if (!start) return;
    var a = area(start, at(event));
    if (a[2] >= 1 || a[3] >= 1) mark(a[0], a[1], a[2], a[3]);
  });
  picture.addEventListener("pointerup", function (event) {
    if (!start) return;
    var a = area(start, at(event));
    start = null;
    // A drag of at least 1% each way marks an area; anything less is a click on a point.
    var values = a[2] >= 1 && a[3] >= 1 ? a : [a[0], a[1]];
    fields.forEach(function (field, i) {
      field.value = i < values.length ? values[i].toFixed(1) : "";
    });
    anchor.value = values.length === 4 ? "region" : "point";
    mark(values[0], values[1], values[2], values[3]);
    document.getElementById("comment-body").focus();
  });
}
// The projects board: a manager drags a card to another column, which moves the project there by the
// card's own form (what its Move button sends without script).
function setUpBoard() {
  var board = document.getElementById("projects");
  if (!board || board.dataset.ready) return;
  board.dataset.ready = "1";
  var dragged = null;
  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest("[data-project]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.project);
  });
  board.addEventListener("dragover", function (event) {
    if (dragged && event.target.closest("[data-status]")) event.preventDefault();
  });
  board.addEventListener("drop", function (event) {
    var column = event.target.closest("[data-status]");
    if (!dragged || !column) return;
    event.preventDefault();
    var form = dragged.querySelector("form.move");
    var select = form && form.querySelector("select");
    dragged = null;
    if (!select || select.value === column.dataset.status) return;
    select.value = column.dataset.status;
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  });
  board.addEventListener("dragend", function () {
    dragged = null;
  });
}
document.addEventListener("DOMContentLoaded", setUpBoard);
document.addEventListener("htmx:afterSwap", setUpBoard);
document.addEventListener("DOMContentLoaded", setUpReview);
document.addEventListener("htmx:afterSwap", setUpReview);
