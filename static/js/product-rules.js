/* Moved out of templates/catalog/product_rules.html (no inline script: the Content-Security-Policy forbids them). */
/* Show only the inputs a choice uses: the number of working days, the weekday, the refunded
   share. Without JavaScript everything stays visible and the server ignores what is unused. */
(function () {
  function field(id) { var input = document.getElementById(id); return input && input.closest(".field"); }
  function toggle(wrapper, shown) { if (wrapper && !wrapper.classList.contains("field-error")) wrapper.hidden = !shown; }
  ["booking", "cancel"].forEach(function (prefix) {
    var kind = document.getElementById("id_" + prefix + "_deadline_kind");
    if (!kind) return;
    function update() {
      toggle(field("id_" + prefix + "_deadline_days"), kind.value === "working_days_before");
      toggle(field("id_" + prefix + "_deadline_weekday"), kind.value === "weekday_before");
    }
    kind.addEventListener("change", update);
    update();
  });
  var radios = document.querySelectorAll('input[name="late_cancellation"]');
  function updateLate() {
    var partial = document.querySelector('input[name="late_cancellation"][value="partial"]');
    toggle(field("id_late_cancellation_refund_percent"), partial && partial.checked);
  }
  radios.forEach(function (radio) { radio.addEventListener("change", updateLate); });
  updateLate();
  function show(name, value, id) {
    var choices = document.querySelectorAll('input[name="' + name + '"]');
    function update() {
      var chosen = document.querySelector('input[name="' + name + '"][value="' + value + '"]');
      toggle(field(id), chosen && chosen.checked);
    }
    choices.forEach(function (radio) { radio.addEventListener("change", update); });
    update();
  }
  show("unbooked_presence", "billed", "id_unbooked_price_cents");
  show("sick_absence", "refund", "id_sick_refund_percent");
})();
