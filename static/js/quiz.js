// Progressive enhancement for the quiz: move focus to the error summary so
// screen-reader and keyboard users hear the problem first. The quiz works
// fully without this file.
(function () {
  "use strict";
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) {
    summary.focus();
  }
})();
