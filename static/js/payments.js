/* Card top-ups. Progressive enhancement: the pages work (and explain) without this script. */
(function () {
  "use strict";

  // "Recharger mon crédit": typing a free amount selects "Autre montant"; a preset clears it.
  var other = document.getElementById("id_other_amount");
  if (other) {
    var presets = document.querySelectorAll('input[name="preset"]');
    other.addEventListener("input", function () {
      presets.forEach(function (radio) {
        if (radio.value === "other" && other.value) radio.checked = true;
      });
    });
    presets.forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (radio.checked && radio.value !== "other") other.value = "";
      });
    });
  }

  // "Payer par carte": Stripe's Payment Element. The wallet is credited by Stripe's webhook,
  // never from here; the return page shows the state our server knows.
  var form = document.getElementById("payment-form");
  if (!form) return;
  var message = document.getElementById("payment-message");
  var loading = document.getElementById("payment-loading");
  var button = document.getElementById("payment-submit");

  function say(text) {
    message.textContent = text;
  }

  if (typeof window.Stripe !== "function") {
    loading.hidden = true;
    say("Le module de paiement sécurisé n’a pas pu être chargé. Vérifiez votre connexion, puis rechargez la page.");
    form.hidden = false;
    button.hidden = true;
    return;
  }

  loading.hidden = false;
  var stripe = window.Stripe(form.dataset.publishableKey, { locale: "fr" });
  var elements = stripe.elements({ clientSecret: form.dataset.clientSecret, locale: "fr" });
  var paymentElement = elements.create("payment");
  paymentElement.mount("#payment-element");
  paymentElement.on("ready", function () {
    loading.hidden = true;
  });
  form.hidden = false;

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    say("");
    stripe
      .confirmPayment({ elements: elements, confirmParams: { return_url: form.dataset.returnUrl } })
      .then(function (result) {
        // Only reached when Stripe could not redirect: a declined card, a field to correct…
        var error = result && result.error;
        if (error && (error.type === "card_error" || error.type === "validation_error")) {
          say(error.message);
        } else {
          say("Le paiement n’a pas pu être effectué. Aucun montant n’a été crédité ; réessayez.");
        }
        button.disabled = false;
      });
  });
})();
