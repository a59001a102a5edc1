/* 案件 and 公示 pages: select every case of the page, ask for a reason when an action
   returns or rejects, print the public-notice list. Plain script, no inline code (CSP). */
(function () {
  "use strict";

  document.querySelectorAll("[data-select-all]").forEach(function (all) {
    all.addEventListener("change", function () {
      var form = all.closest("form") || document;
      form.querySelectorAll('input[type="checkbox"][name="case_id"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });

  // A return or a rejection needs a reason: the opinion becomes required (the server checks
  // it too, and answers with the rule's message).
  document.querySelectorAll("form").forEach(function (form) {
    var opinion = form.querySelector('textarea[name="opinion"]');
    var choices = form.querySelectorAll('input[name="action"][data-needs-reason]');
    if (!opinion || !choices.length) {
      return;
    }
    function update() {
      var chosen = form.querySelector('input[name="action"]:checked');
      opinion.required = !!chosen && chosen.getAttribute("data-needs-reason") === "1";
    }
    choices.forEach(function (choice) { choice.addEventListener("change", update); });
    update();
  });

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
}());
