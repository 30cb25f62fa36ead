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

  // "Payer par carte": Stripe's Card Element, confirmed by stripe.confirmCardPayment. Not the
  // Payment Element: the demo's embedded Stripe (localstripe, see config/demo_stripe.py) only
  // serves the Card Element, and this integration runs the same against Stripe and against it,
  // so the code the demo and the tests exercise is the code parents run. The wallet is credited
  // by Stripe's webhook, never from here; the return page shows the state our server knows.
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

  var stripe = window.Stripe(form.dataset.publishableKey, { locale: "fr" });
  var card = stripe.elements({ locale: "fr" }).create("card", { hidePostalCode: true });
  card.mount("#card-element");
  loading.hidden = true;
  form.hidden = false;

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    say("");
    stripe
      .confirmCardPayment(form.dataset.clientSecret, { payment_method: { card: card } })
      .then(function (result) {
        if (result && result.paymentIntent && !result.error) {
          // Confirmed (or processing): the return page says what Stripe's webhook told us.
          window.location.assign(form.dataset.returnUrl);
          return;
        }
        // A declined card, a field to correct, a failed 3-D Secure…: nothing was taken.
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
