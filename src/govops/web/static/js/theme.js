/* govops console: the light or dark display chosen earlier, applied before the page is drawn (loaded without
   defer in <head>, so that the page never flashes in the other theme). */
(function () {
  "use strict";
  // Scripts run: the phone menu may start folded (layout.js opens it) without showing unfolded first.
  document.documentElement.classList.add("js");
  var theme = localStorage.getItem("govops-theme");
  if (theme) document.documentElement.dataset.theme = theme;
})();
