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

  // "Mandat de prélèvement SEPA": the IBAN confirmed by stripe.confirmSepaDebitSetup, which
  // records the mandate with Stripe. Against Stripe, the IBAN Element (the IBAN never touches
  // our page); the offline stand-in (localstripe) has no IBAN Element, so there a plain field,
  // never submitted to our server, gives it the IBAN. Either way our server learns the outcome
  // from Stripe itself on the return page (and its webhook), never from this script.
  var sepa = document.getElementById("sepa-form");
  if (sepa) {
    var sepaMessage = document.getElementById("sepa-message");
    var sepaButton = document.getElementById("sepa-submit");
    var sepaLoading = document.getElementById("sepa-loading");
    var plainIban = document.getElementById("sepa-iban");
    if (typeof window.Stripe !== "function") {
      sepaLoading.hidden = true;
      sepaMessage.textContent = "Le module sécurisé n’a pas pu être chargé. Vérifiez votre connexion, puis rechargez la page.";
      sepa.hidden = false;
      sepaButton.hidden = true;
    } else {
      var sepaStripe = window.Stripe(sepa.dataset.publishableKey, { locale: "fr" });
      var ibanElement = null;
      if (sepa.dataset.ibanElement === "true") {
        ibanElement = sepaStripe.elements({ locale: "fr" }).create("iban", { supportedCountries: ["SEPA"], placeholderCountry: "FR" });
        ibanElement.mount("#iban-element");
      }
      sepaLoading.hidden = true;
      sepa.hidden = false;
      sepa.addEventListener("submit", function (event) {
        event.preventDefault();
        sepaButton.disabled = true;
        sepaMessage.textContent = "";
        var iban = ibanElement || { iban: (plainIban && plainIban.value || "").replace(/\s+/g, "").toUpperCase() };
        sepaStripe
          .confirmSepaDebitSetup(sepa.dataset.clientSecret, {
            payment_method: {
              sepa_debit: iban,
              billing_details: {
                name: document.getElementById("sepa-name").value,
                email: document.getElementById("sepa-email").value
              }
            }
          })
          .then(function (result) {
            if (result && result.setupIntent && !result.error) {
              window.location.assign(sepa.dataset.returnUrl);
              return;
            }
            var error = result && result.error;
            sepaMessage.textContent = (error && error.message) ?
              "Le mandat n’a pas pu être enregistré : " + error.message :
              "Le mandat n’a pas pu être enregistré. Vérifiez l’IBAN et réessayez.";
            sepaButton.disabled = false;
          });
      });
    }
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
