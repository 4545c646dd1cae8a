// secretBox shows a secret Studio returns once (a key, a webhook secret), with a
// copy button.

import { h, toast } from "./dom.js";

export function secretBox(title, secret, note) {
  const code = h("code", { class: "secret" }, secret);
  return h("div", { class: "secret-box", role: "alert" },
    h("strong", {}, title), h("p", {}, note), code, " ",
    h("button", { type: "button", class: "small", onclick: async () => {
      try {
        await navigator.clipboard.writeText(secret);
        toast("Copied");
      } catch {
        // No clipboard (plain HTTP on another host): select the text instead.
        const r = document.createRange();
        r.selectNodeContents(code);
        getSelection().removeAllRanges();
        getSelection().addRange(r);
      }
    } }, "Copy"));
}
