// Keyboard shortcuts for the moderation queue: j/k move, a approve, s spam, d delete, x select.
// The page works without this file: every action is a plain form button.
"use strict";

(function () {
  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("article.item"));
  }

  function current() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("article.item") : null;
  }

  function move(step) {
    var all = items();
    if (all.length === 0) return;
    var index = all.indexOf(current());
    var next = index < 0 ? 0 : Math.min(all.length - 1, Math.max(0, index + step));
    all[next].focus();
    all[next].scrollIntoView({ block: "nearest" });
  }

  function press(key) {
    var item = current();
    if (!item) return;
    var button = item.querySelector('button[data-key="' + key + '"]');
    if (button) button.click();
  }

  function toggle() {
    var item = current();
    if (!item) return;
    var box = item.querySelector('input[name="check"]');
    if (box) box.checked = !box.checked;
  }

  function typing(target) {
    return target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName) && target.type !== "checkbox";
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var actions = {
      j: function () { move(1); },
      k: function () { move(-1); },
      a: function () { press("a"); },
      s: function () { press("s"); },
      d: function () { press("d"); },
      x: toggle,
    };
    var action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var all = document.getElementById("select-all");
    if (!all) return;
    all.closest("label").hidden = false;
    all.addEventListener("change", function () {
      document.querySelectorAll('article.item input[name="check"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
})();
