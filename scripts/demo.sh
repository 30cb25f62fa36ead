#!/usr/bin/env bash
# Prepare and serve the demo: migrate, load the demo data (idempotent), serve on $PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
export MARELLE_ENV="${MARELLE_ENV:-demo}"
PORT="${PORT:-8000}"
HOST="${HOST:-127.0.0.1}"
# Links in e-mails and payment return addresses follow the address the demo is served at.
case "$HOST" in
  127.0.0.1|0.0.0.0|localhost|::1|"[::1]") public_host=localhost ;;
  *) public_host="$HOST" ;;
esac
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://$public_host:$PORT}"
PY=.venv/bin/python

$PY manage.py migrate_platform -v0
$PY manage.py demo
$PY manage.py collectstatic --noinput -v0

# Already serving? Ours answers /healthz; anything else on the port is someone else's.
port_state=$($PY - "$HOST" "$PORT" <<'PYEOF'
import json, socket, sys, urllib.request
host, port = sys.argv[1], int(sys.argv[2])
with socket.socket() as s:
    s.settimeout(1)
    if s.connect_ex((host, port)) != 0:
        print("free"); sys.exit()
try:
    with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=3) as r:
        print("marelle" if json.load(r).get("service") == "marelle" else "taken")
except Exception:
    print("taken")
PYEOF
)
if [ "$port_state" = "marelle" ]; then
  echo "La démo tourne déjà sur $PUBLIC_BASE_URL/ (données mises à jour)."
  exit 0
elif [ "$port_state" = "taken" ]; then
  echo "Le port $PORT est déjà pris par un autre programme : relancez avec PORT=8001 make demo" >&2
  exit 1
fi

# Card payments: Stripe itself when its keys are set; otherwise an embedded localstripe on the
# loopback (config/demo_stripe.py) with test keys, our webhook registered, stopped with the demo.
case "$HOST" in
  0.0.0.0|localhost) webhook_host=127.0.0.1 ;;
  ::|::1|"[::1]") webhook_host="[::1]" ;;
  *) webhook_host="$HOST" ;;
esac
LOCALSTRIPE_PID=""
if [ -z "${STRIPE_SECRET_KEY:-}${STRIPE_PUBLISHABLE_KEY:-}${STRIPE_WEBHOOK_SECRET:-}" ]; then
  if stripe_exports=$($PY -m config.demo_stripe start \
    --webhook-url "http://$webhook_host:$PORT/api/v1/payments/stripe/webhook"); then
    eval "$stripe_exports"
    echo "Paiement par carte : Stripe de démonstration (localstripe, $STRIPE_API_BASE) ;" \
      "carte de test 4242 4242 4242 4242, date future, cryptogramme 123."
  else
    echo "localstripe n'a pas démarré (var/localstripe/localstripe.log) : pas de paiement" \
      "par carte dans cette démo." >&2
  fi
fi

echo "Démo Marelle : $PUBLIC_BASE_URL/  (Ctrl+C pour arrêter)"
.venv/bin/gunicorn config.wsgi --bind "$HOST:$PORT" --workers 2 --threads 4 \
  --access-logfile - --error-logfile - --log-level warning &
gunicorn_pid=$!
# Ctrl+C or a TERM to this script stops gunicorn, then the localstripe started above.
stop_demo() {
  trap - INT TERM EXIT
  kill -TERM "$gunicorn_pid" 2>/dev/null || true
  wait "$gunicorn_pid" 2>/dev/null || true
  if [ -n "$LOCALSTRIPE_PID" ]; then $PY -m config.demo_stripe stop; fi
}
trap stop_demo INT TERM EXIT
wait "$gunicorn_pid"
