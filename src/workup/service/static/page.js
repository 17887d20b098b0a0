// workup: light progressive enhancement. Everything works without this file: what-if
// links and answers are plain links. With it, they update the page in place (no full
// reload, scroll position kept) and the address bar still holds a bookmarkable URL.
(function () {
  "use strict";
  // Scroll the decision tree so the current step (else the first step) is in view: the tree
  // can be wider than the page and taller than the screen, and scrolls inside its own box.
  function centreTree() {
    var wrap = document.querySelector(".svg-wrap");
    var now = wrap && (wrap.querySelector(".wu-node.now rect") || wrap.querySelector(".wu-node rect"));
    if (!now) { return; }
    var box = now.getBBox();
    wrap.scrollLeft = Math.max(0, box.x + box.width / 2 - wrap.clientWidth / 2);
    wrap.scrollTop = Math.max(0, box.y + box.height / 2 - wrap.clientHeight / 2);
  }
  function swap(url, push) {
    var main = document.getElementById("main");
    main.setAttribute("aria-busy", "true");
    return fetch(url, { headers: { "Accept": "text/html" } })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        if (!fresh) { window.location.href = url; return; }
        main.innerHTML = fresh.innerHTML;
        document.title = doc.title;
        if (push) { history.pushState({ workup: true }, "", url); }
        centreTree();
        var target = document.getElementById("steps-h");
        if (target) { target.setAttribute("tabindex", "-1"); target.focus({ preventScroll: true }); }
      })
      .catch(function () { window.location.href = url; })
      .finally(function () { main.removeAttribute("aria-busy"); });
  }
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a.whatif-link, a.answer, .applied a.remove");
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) { return; }
    ev.preventDefault();
    swap(a.getAttribute("href"), true);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", centreTree);
  } else {
    centreTree();
  }
  window.addEventListener("popstate", function () { swap(window.location.href, false); });
})();
