// Progressive enhancement only: every page works without this file.
"use strict";

document.documentElement.classList.add("js");

// After following the skip link, move keyboard focus into the main region.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a.skip-link");
  if (!link) return;
  var main = document.getElementById("main");
  if (main) main.focus();
});
