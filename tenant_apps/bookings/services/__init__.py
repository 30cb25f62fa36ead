"""Booking use cases, one module per use case (as Zulip's `zerver/actions/`); each function
takes its `commune` first and checks the connection is on its schema
(`tenants.services.assert_on_schema`) — but for the two hooks the public schema calls, which
find the commune themselves (`card_orders.fulfil_checkout`: the payment's;
`cancellation.cancel_upcoming_reservations_of_child`: each of the family's communes):

- `cart`: add days (chosen, or by a weekly rhythm) to the family's cart, remove them;
- `checkout`: book and pay the cart; `place_order`, the one place an order is written;
- `direct_booking`: book chosen days and pay in one step, without the cart (the mobile app);
- `cancellation`: the red cross, the commune closing a day, a child leaving the family;
- `card_orders`: orders paid by card — fulfil, release unpaid, put back in the cart;
- `attendance`: staff mark who came;
- `on_behalf`: staff book for a family that forgot (the "cagnotte");
- `checks`: the refusals the use cases share.

The rules they apply (price of a day, refund of a cancellation) are in `rules.py`; the lock
order they all follow is in `locks.py`. Import the module you need; this package exports
nothing, so importing one use case never loads the others.
"""
