#!/usr/bin/env bash
# Start the bot on its embedded defaults (no Azure account, auth off, loopback only, state in
# data/bot-state.sqlite3) and the Microsoft 365 Agents Playground pointed at it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh requirements.txt

BOT_PORT="${PORT:-3978}"
PLAYGROUND_PORT="${PLAYGROUND_PORT:-56150}"
# With sign-in off the bot answers only this serviceUrl: the Playground's connector on its port.
LOCAL_SERVICE_URL="${LOCAL_SERVICE_URL:-http://localhost:$PLAYGROUND_PORT/_connector}" PORT="$BOT_PORT" .venv/bin/python app.py &
bot_pid=$!
trap 'kill $bot_pid ${playground_pid:-} 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$BOT_PORT/healthz" >/dev/null 2>&1; then break; fi
  kill -0 $bot_pid 2>/dev/null || { echo "the bot did not start; see the log above" >&2; exit 1; }
  sleep 0.1
done

node_modules/.bin/agentsplayground -e "http://127.0.0.1:$BOT_PORT/api/messages" -c msteams \
  -p "$PLAYGROUND_PORT" --disable-telemetry >data/playground.log 2>&1 &
playground_pid=$!
echo
echo "  Bot:        http://127.0.0.1:$BOT_PORT/api/messages"
echo "  Playground: open http://127.0.0.1:$PLAYGROUND_PORT in a browser and type 'start'"
echo "  Ctrl+C stops both."
wait $bot_pid
