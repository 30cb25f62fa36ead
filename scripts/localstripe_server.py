"""Run localstripe (a fake Stripe server, GPL, used as a tool) bound to 127.0.0.1 only.

localstripe's own command line listens on every interface and pickles its state to a fixed
/tmp file; this launcher binds the loopback, keeps the state in the given file, and prints the
port it got (ask for port 0 to get a free one). Used by the tests and by `make demo`.

It also teaches localstripe the part of Stripe that our card page uses and localstripe lacks, so
that the page runs unchanged against both:

- `stripe.confirmCardPayment(clientSecret, {payment_method: {card}})`: real Stripe.js confirms the
  intent with the card's details (`POST /v1/payment_intents/<id>/confirm` with
  `payment_method_data`, the publishable key and the client secret), then runs 3-D Secure if
  asked. localstripe's stripe.js only does the 3-D Secure step and its server refuses a confirm
  that names a card; both are added here (`localstripe_confirm_card.js` is appended to the
  stripe.js it serves). A new card may be tried after a declined one, as at Stripe.
- 4000 0000 0000 0002, Stripe's "generic decline" test card, is declined when charged (localstripe
  declines it only when attached to a customer).

    python scripts/localstripe_server.py STATE_FILE [PORT] [PORT_FILE]
"""

import pickle
import re
import socket
import sys
from pathlib import Path

from aiohttp import web
from localstripe import resources
from localstripe.errors import UserError

CONFIRM_PATH = re.compile(r"^/v1/payment_intents/(pi_\w+)/confirm$")
JS_PATH = "/js.stripe.com/v3/"
CONFIRM_CARD_JS = Path(__file__).with_name("localstripe_confirm_card.js")
GENERIC_DECLINES = {"4000000000000002"}


def _teach_localstripe() -> None:
    """Patch localstripe's resources; must run before `localstripe.server` is imported (its
    routes capture the handlers then)."""
    charging_is_declined = resources.PaymentMethod._charging_is_declined

    def _charging_is_declined(self):
        number = getattr(self, "_card_number", None)
        return charging_is_declined(self) or number in GENERIC_DECLINES

    resources.PaymentMethod._charging_is_declined = _charging_is_declined

    PaymentIntent = resources.PaymentIntent
    confirm = PaymentIntent._api_confirm  # the server's own: no card, secret key only

    def _api_confirm(
        id,
        payment_method=None,
        payment_method_data=None,
        client_secret=None,
        use_stripe_sdk=None,
        return_url=None,
        **kwargs,
    ):
        if payment_method is None and payment_method_data is None:
            return confirm(id, **kwargs)
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        intent = PaymentIntent._api_retrieve(id)
        if client_secret is not None and client_secret != intent.client_secret:
            raise UserError(401, "Unauthorized")
        if intent.status not in ("requires_payment_method", "requires_confirmation"):
            raise UserError(400, "Bad request")
        if payment_method_data is not None:
            if not isinstance(payment_method_data, dict):
                raise UserError(400, "Bad request")
            payment_method = resources.PaymentMethod._api_create(**payment_method_data).id
        else:
            resources.PaymentMethod._api_retrieve(payment_method)
        intent.payment_method = payment_method
        intent.latest_charge = None  # a declined charge is history: this card is tried afresh
        intent._confirm(on_failure_now=intent._report_failure)
        return intent

    PaymentIntent._api_confirm = staticmethod(_api_confirm)
    resources.extra_apis[:] = [
        (method, url, _api_confirm if func == confirm else func)
        for method, url, func in resources.extra_apis
    ]


def _browser_middleware(server):
    """What Stripe.js asks with the publishable key: our stripe.js, and a confirm with a card."""
    js = (Path(server.__file__).with_name("localstripe-v3.js").read_text() + "\n") + (
        CONFIRM_CARD_JS.read_text()
    )

    @web.middleware
    async def middleware(request, handler):
        if request.method == "GET" and request.path == JS_PATH:
            return web.Response(text=js, content_type="application/javascript")
        match = CONFIRM_PATH.match(request.path)
        if request.method != "POST" or not match or server.get_api_key(request):
            return await handler(request)
        data = await server.get_post_data(request, remove_auth=False) or {}
        key = data.pop("key", None)
        data.pop("payment_user_agent", None)
        if not (isinstance(key, str) and key.startswith("pk_") and data.get("client_secret")):
            return UserError(401, "Unauthorized").to_response()
        try:
            intent = resources.PaymentIntent._api_confirm(id=match[1], **data)
        except UserError as error:
            return error.to_response()
        finally:
            resources.store.dump_to_disk()
        return server.json_response(intent._export())

    return middleware


def main() -> None:
    state_file = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    port_file = sys.argv[3] if len(sys.argv) > 3 else None

    def dump_to_disk(self):
        with open(state_file, "wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.dump_to_disk = dump_to_disk
    resources.Store.try_load_from_disk = lambda self: None  # always from scratch
    _teach_localstripe()
    from localstripe import server  # after the patches: its routes capture the handlers

    server.app.middlewares.insert(0, _browser_middleware(server))

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    bound = sock.getsockname()[1]
    if port_file:
        with open(port_file, "w") as f:
            f.write(str(bound))
    print(bound, flush=True)
    web.run_app(server.app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    main()
