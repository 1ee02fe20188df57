// Times: the server writes UTC; show them in the viewer's zone, with UTC kept in the tooltip.
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
  function localise(root) {
    root.querySelectorAll("time[datetime]:not([data-local])").forEach(function (element) {
      var moment = new Date(element.getAttribute("datetime"));
      if (isNaN(moment.getTime())) { return; }
      element.textContent = format.format(moment);
      element.setAttribute("data-local", "");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localise(document); });
  // hx-boost swaps the body: localise what it brought in.
  document.addEventListener("htmx:afterSwap", function (event) { localise(event.target); });
})();
