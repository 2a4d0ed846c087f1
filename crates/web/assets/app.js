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
