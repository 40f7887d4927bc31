#!/usr/bin/env bash
# mqtt-bench.sh BIN_DIR: the MQTT ingest benchmark of docs/benchmarks.md — DEVICES simulated
# loggers (100) × UPLOADS JSON minute uploads (40) of six factors, published at QoS 1 by four
# mosquitto_pub processes to the broker at 127.0.0.1:1883, taken by `rewater serve --mqtt` with
# CONNS subscriber connections (4) into a fresh SQLite store. Prints the time until every upload
# is stored, readings/s, and the service's own PUBACK latency (message in → PUBACK after commit).
set -u
bin=$1
devices=${DEVICES:-100}; per=${UPLOADS:-40}; conns=${CONNS:-4}; db=${DB:-}
tag=rwbench$$
dir=${TMPDIR:-/tmp}/$tag; mkdir -p "$dir"
[ -z "$db" ] && db=$dir/s.sqlite
port=$((18400 + RANDOM % 500))
"$bin/rewater" serve --db "$db" --listen 127.0.0.1:$port --api-listen 127.0.0.1:$((port + 1000)) \
  --sim-devices "$devices" --max-data-age-days 7305 --mqtt 127.0.0.1:1883 \
  --mqtt-topic "$tag/+/up" --mqtt-client-id "$tag" --mqtt-connections "$conns" \
  > "$dir/serve.log" 2>&1 &
pid=$!
sleep 5
pw=$(grep -o 'password: [^ ]*' "$dir/serve.log" | head -1 | cut -d' ' -f2)
python3 - "$devices" "$per" "$pw" "$dir" <<'PY'
import sys, random
devices, per, pw, d = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
outs = [open(f"{d}/part{j}.txt", "w") for j in range(4)]
for k in range(per):
    m = k  # minutes after 2025-06-01 00:00
    t = f"202506{1 + m // 1440:02d}{(m // 60) % 24:02d}{m % 60:02d}00"
    for i in range(devices):
        r = random.Random(i * 100003 + k)
        f = lambda c, v, s: f'"{c}": {{"avg": {v + s * (r.random() - .5):.3f}, "flag": "N"}}'
        body = ", ".join([f("w01018", 22, 8), f("w21003", .9, .6), f("w21011", .22, .1),
                          f("w21001", 10.5, 3), f("w01001", 7.2, .4), f("w00000", 1150, 200)])
        outs[i % 4].write(f'{{"mn": "RWSIM{i:011d}", "pw": "{pw}", "cn": "2051", "data_time": "{t}", "readings": {{{body}}}}}\n')
PY
total=$((devices * per))
start=$(date +%s.%N)
for j in 0 1 2 3; do
  mosquitto_pub -h 127.0.0.1 -q 1 -t "$tag/x/up" -l < "$dir/part$j.txt" &
done
# Until every upload is stored, or nothing new for 10 s (the broker drops what overflows a
# lagging subscriber's queue: Mosquitto's max_queued_messages, 1,000 by default).
last=0; still=0
while :; do
  n=$(sqlite3 "$db" "SELECT COUNT(*) FROM upload" 2>/dev/null || echo 0)
  [ "$n" -ge "$total" ] && break
  if [ "$n" = "$last" ]; then still=$((still + 1)); else still=0; last=$n; fi
  [ "$still" -ge 50 ] && { echo "only $n of $total stored (the broker dropped the rest)"; total=$n; break; }
  sleep 0.2
done
end=$(date +%s.%N)
wait %2 %3 %4 %5 2>/dev/null
python3 -c "s=$end-$start; print(f'uploads {$total} in {s:.2f} s: {$total/s:.0f} uploads/s, {6*$total/s:.0f} readings/s')"
kill -INT $pid; wait $pid 2>/dev/null
grep -o 'MQTT ingest stopped.*' "$dir/serve.log" | sed 's/\x1b\[[0-9;]*m//g'
for i in $(seq 0 $((conns - 1))); do mosquitto_sub -h 127.0.0.1 -i "$tag-$i" -t "$tag/none" -E >/dev/null 2>&1; done
rm -rf "$dir"
