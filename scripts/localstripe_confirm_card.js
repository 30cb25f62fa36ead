/*
 * Marelle, appended by scripts/localstripe_server.py to the stripe.js localstripe serves:
 * `stripe.confirmCardPayment(clientSecret, {payment_method: {card: cardElement}})` as Stripe.js
 * does it — confirm the intent with the card's details, then 3-D Secure when the card asks for
 * it (localstripe's own pop-up). localstripe's confirmCardPayment only does the second step.
 * Errors are worded as Stripe.js words them with `locale: "fr"`.
 */
(function () {
  const localstripeStripe = Stripe;

  function cardError(code, message) {
    return { error: { type: "card_error", code: code, message: message } };
  }

  Stripe = (apiKey, options) => {
    const stripe = localstripeStripe(apiKey, options);
    const authenticate = stripe.confirmCardPayment;

    stripe.confirmCardPayment = async (clientSecret, data) => {
      const element = data && data.payment_method && data.payment_method.card;
      if (!(element instanceof Element)) {
        return authenticate(clientSecret, data);
      }
      const card = (element.value && element.value.card) || {};
      const intentId = clientSecret.match(/^(pi_\w+)_secret_/)[1];
      let response, body;
      try {
        response = await fetch(`${LOCALSTRIPE_BASE_API}/v1/payment_intents/${intentId}/confirm`, {
          method: "POST",
          body: JSON.stringify({
            key: apiKey,
            client_secret: clientSecret,
            payment_method_data: {
              type: "card",
              card: {
                number: String(card.number || "").replace(/\D/g, ""),
                exp_month: card.exp_month || "",
                exp_year: card.exp_year || "",
                cvc: String(card.cvc || ""),
              },
            },
          }),
        });
        body = await response.json().catch(() => ({}));
      } catch (err) {
        return { error: { type: "api_connection_error", message: String(err) } };
      }
      if (response.status === 402) {
        return cardError((body.error && body.error.code) || "card_declined", "Votre carte a été refusée.");
      }
      if (response.status !== 200 || body.error) {
        return {
          error: {
            type: "validation_error",
            message: "Vérifiez le numéro de la carte, sa date d’expiration (MM et AA) et son cryptogramme.",
          },
        };
      }
      if (body.status !== "requires_action") {
        return { paymentIntent: body };
      }
      const result = await authenticate(clientSecret, data);
      if (result.paymentIntent && result.paymentIntent.status === "requires_payment_method") {
        return cardError(
          "payment_intent_authentication_failure",
          "L’authentification de votre carte a échoué. Essayez à nouveau ou avec une autre carte."
        );
      }
      if (result.error && result.error.code === "card_declined") {
        return cardError("card_declined", "Votre carte a été refusée.");
      }
      return result;
    };
    return stripe;
  };
})();
