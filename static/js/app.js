// csplatform front-end glue: no inline scripts (CSP), htmx errors shown to the person.
document.addEventListener("htmx:responseError", function (event) {
  var xhr = event.detail.xhr;
  var flash = document.getElementById("flash");
  if (!flash) return;
  var message = "Something went wrong (" + xhr.status + "). Please try again.";
  if (xhr.status === 403) message = "You are not allowed to do that.";
  if (xhr.status === 409) message = "This changed meanwhile: reload the page to see the latest.";
  if (xhr.status === 503) message = "The service is briefly unavailable; try again in a moment.";
  var div = document.createElement("div");
  div.className = "alert alert-error";
  div.textContent = message;
  flash.replaceChildren(div);
});
document.addEventListener("htmx:sendError", function () {
  var flash = document.getElementById("flash");
  if (!flash) return;
  var div = document.createElement("div");
  div.className = "alert alert-error";
  div.textContent = "The server could not be reached. Check your connection and try again.";
  flash.replaceChildren(div);
});
