// Applies the theme chosen with the toggle (light or dark) before the first paint;
// without a choice the style sheet follows prefers-color-scheme.
"use strict";
(function () {
  try {
    var t = localStorage.getItem("vigil-theme");
    if (t === "light" || t === "dark") document.documentElement.dataset.theme = t;
  } catch (e) { /* storage disabled: follow the system */ }
})();
