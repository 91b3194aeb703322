#!/usr/bin/env bash
# Start the bot on its embedded defaults (no Azure account, auth off, loopback only, state in
# data/bot-state.sqlite3) and the Microsoft 365 Agents Playground pointed at it. The URL is printed
# once both answer; if either does not within RUN_WAIT_SECONDS (60), both are stopped and the end
# of its log is shown. Logs: data/setup.log (pip, npm), data/bot.log, data/playground.log.
# PORT and PLAYGROUND_PORT choose the ports (3978, 56150); Ctrl+C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh requirements.txt
mkdir -p data # the logs live here, wherever SQLITE_PATH puts the state

BOT_PORT="${PORT:-3978}"
PLAYGROUND_PORT="${PLAYGROUND_PORT:-56150}"
WAIT_SECONDS="${RUN_WAIT_SECONDS:-60}"
# With sign-in off the bot answers only this serviceUrl: the Playground's connector on its port.
export LOCAL_SERVICE_URL="${LOCAL_SERVICE_URL:-http://localhost:$PLAYGROUND_PORT/_connector}"
export PORT="$BOT_PORT"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# The Playground moves to a random port when its own is taken, and another process on the bot's
# port would answer the health check: refuse both up front rather than print a wrong URL.
for port in "$BOT_PORT" "$PLAYGROUND_PORT"; do
  if listening "$port"; then
    echo "Port $port is already in use (another run.sh?). Stop that, or set PORT / PLAYGROUND_PORT." >&2
    exit 1
  fi
done

bot_pid="" playground_pid="" tail_pid=""
stop() {
  # Each runs in a session of its own (setsid): stop the whole group, then the process itself.
  for pid in $playground_pid $bot_pid; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  [ -z "$tail_pid" ] || kill "$tail_pid" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM HUP

# fail WHAT LOG: say what went wrong, show the end of the log, and stop (the trap stops the rest).
fail() {
  echo "$1. The end of $2:" >&2
  tail -n 30 "$2" | sed 's/^/    /' >&2
  exit 1
}

# wait_for NAME URL PID LOG: until URL answers 2xx; fails when PID dies or the time is up.
wait_for() {
  local deadline=$((SECONDS + WAIT_SECONDS))
  until curl -fsS -o /dev/null --max-time 2 "$2" 2>/dev/null; do
    kill -0 "$3" 2>/dev/null || fail "$1 exited before it answered on $2" "$4"
    [ "$SECONDS" -lt "$deadline" ] || fail "$1 did not answer on $2 within ${WAIT_SECONDS}s; stopping" "$4"
    sleep 0.2
  done
}

echo "Starting the bot on port $BOT_PORT (log: data/bot.log)"
setsid .venv/bin/python app.py >data/bot.log 2>&1 &
bot_pid=$!
wait_for "The bot" "http://127.0.0.1:$BOT_PORT/healthz" "$bot_pid" data/bot.log

echo "Starting the Agents Playground on port $PLAYGROUND_PORT (log: data/playground.log)"
setsid node_modules/.bin/agentsplayground -e "http://127.0.0.1:$BOT_PORT/api/messages" -c msteams \
  -p "$PLAYGROUND_PORT" --disable-telemetry >data/playground.log 2>&1 &
playground_pid=$!
wait_for "The Agents Playground" "http://127.0.0.1:$PLAYGROUND_PORT/" "$playground_pid" data/playground.log

echo
echo "  Bot:        http://127.0.0.1:$BOT_PORT/api/messages"
echo "  Playground: open http://127.0.0.1:$PLAYGROUND_PORT in a browser and type 'start'"
echo "  Ctrl+C stops both. The bot's log follows (one line a turn)."
echo
tail -n 0 -f --pid="$bot_pid" data/bot.log &
tail_pid=$!
# Until either stops; then the other is stopped too (the trap).
set +e
wait -n "$bot_pid" "$playground_pid"
status=$?
kill -0 "$bot_pid" 2>/dev/null || echo "The bot stopped; the end of data/bot.log:" >&2
kill -0 "$bot_pid" 2>/dev/null || tail -n 20 data/bot.log | sed 's/^/    /' >&2
kill -0 "$playground_pid" 2>/dev/null || echo "The Agents Playground stopped; see data/playground.log." >&2
exit "$status"
