#!/bin/sh
# compare-zeek.sh [TRACES_DIR] [SHAKEDOWN]: runs shakedown on each Zeek test trace listed in
# ../shared/traces/README.md and prints, per trace, shakedown's TCP connection records
# (conn_state, history, originator ip:port) next to what Zeek 9.1 logs in conn.log, marking each
# trace MATCH or DIFF. It is a report, not a test: it always exits 0. docs/zeek-comparison.md
# explains every DIFF.
#
# TRACES_DIR defaults to ../shared/traces/zeek next to the repository, SHAKEDOWN to
# build/shakedown in it. Needs sh, awk, and jq or python3 (to read shakedown's JSON).
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$repo/../shared/traces/zeek}
bin=${2:-$repo/build/shakedown}

if [ ! -x "$bin" ]; then
    echo "compare-zeek: $bin is not an executable shakedown; build it first" \
        "(cmake -S . -B build && cmake --build build) or pass its path" >&2
    exit 0
fi
json=${COMPARE_ZEEK_JSON:-} # jq or python3 forces one of them
if [ -n "$json" ]; then
    :
elif command -v jq >/dev/null 2>&1; then
    json=jq
elif command -v python3 >/dev/null 2>&1; then
    json=python3
else
    echo "compare-zeek: needs jq or python3 to read shakedown's JSON" >&2
    exit 0
fi

# Zeek's verdicts, copied from the table in ../shared/traces/README.md (TCP rows only).
# Columns, separated by '|':
#   file      trace name in TRACES_DIR
#   mode      shakedown's --checksums mode for this run:
#               drop = Zeek's default policy (every packet whose checksum is not right is
#                      left out); used wherever the README gives Zeek's default verdict, and
#                      for every trace whose checksums are all correct (the mode is moot there);
#               keep = analyse packets with a bad checksum; used where the README's verdict
#                      comes from a Zeek run that ignores checksums (btest's `zeek -C`):
#                      tcp_ssh-dups.pcap (152 of its 377 TCP checksums are wrong: offload) and
#                      the "ignoring checksums" verdict of chksums_localhost-bad-chksum.pcap;
#               auto = shakedown's default: the same two traces, whose wrong checksums are all
#                      offloaded ones (the pseudo-header partial sum), so auto analyses them.
#   expect    Zeek's TCP rows as STATE/HISTORY tokens: N*STATE/HISTORY repeats a row N times,
#             HISTORY '?' means the README gives no history, '-' an empty history; a lone '-'
#             means the README gives no conn_state (only the extra checks apply).
#   extra     other facts to check, space separated: orig=IP:PORT (a row with that
#             originator), community_id=ID, resp_bytes=N (responder payload + missed bytes,
#             Zeek's seq-based size), missed_bytes=N (responder missed bytes); '-' for none.
#   zeek      the README's verdict, verbatim, for the reader (a "(row: ...)" addition is ours).
# Four rows go beyond the README's words: the two
# chksums_ip*-tcp-bad-chksum rows (the README gives only the weird; Zeek still logs the empty
# connection OTH `C`, as Zeek's btest baseline for tcp_syn-bad.pcap shows), chksums_ip4-tcp-good-chksum
# (a lone SYN: S0 `S`, as for tcp_syn.pcap), and tunnels_Teredo (the README's list names SHR
# once, but ports 1576 and 1577 each give an SHR row: Zeek's btest baseline lists nine
# plain-IPv4 TCP rows, with these histories).
# shellcheck disable=SC2016 # backquotes are the README's, not command substitution
table='tcp_syn.pcap|drop|S0/S|-|S0 (`S`), derived
tcp_syn-synack.pcap|drop|S1/Sh|-|S1 (`Sh`), derived
tcp_no-handshake.pcap|drop|OTH/D|-|OTH (`D`), derived
tcp_single-rst.pcap|drop|OTH/R|-|OTH (`R`)
tcp_syn-then-ack-then-rst.pcap|drop|RSTOS0/SaR|-|RSTOS0 (`SaR`)
tcp_syn-then-stuff-then-rst.pcap|drop|OTH/SaFR|-|OTH (`SaFR`)
tcp_http-on-irc-port-missing-syn.pcapng|drop|SF/^hADadFf|orig=141.142.228.5:6669|SF (`^hADadFf`), originator 141.142.228.5:6669
tcp_ssh-dups.pcap|keep|SF/ShADTadtTtFf|-|SF (`ShADTadtTtFf`)
tcp_ssh-dups.pcap|auto|SF/ShADTadtTtFf|-|SF (`ShADTadtTtFf`)
tcp_options.pcap|drop|S1/ShAD|-|S1 (`ShAD`), derived
tcp_window-scale-range.pcap|drop|S1/ShADa|-|S1 (`ShADa`), derived
tcp_payload-syn.pcap|drop|SF/ShAFf|-|SF (`ShAFf`), derived
tcp_payload-synack.pcap|drop|SF/ShAFf|-|SF (`ShAFf`), derived
tcp_tcp-fast-open.pcap|drop|2*SF/?|-|SF, SF, derived
tcp_timeout-with-pings.pcap|drop|S1/ShA|-|S1 (`ShA`), derived
pop3_bad-list-retr-crafted.pcap|drop|RSTO/ShAdDaFR|-|RSTO (`ShAdDaFR`)
ssh_ssh.client-side-half-duplex.pcap|drop|5*S0/SAD 20*SH/?|-|Zeek: S0 (`SAD`) x5, SH x20 - Zeek splits the 5 unanswered attempts after its 5 s attempt timer into S0 + a new partial SH row
ftp_bigtransfer.pcap|drop|3*SF/?|resp_bytes=5416666670 missed_bytes=5416642848|SF x3; one has resp_bytes 5416666670 and missed_bytes 5416642848
communityid_tcp.pcap|drop|-|community_id=1:LQU9qZlK+B5F3KDmev6m5PMibrg=|community_id `1:LQU9qZlK+B5F3KDmev6m5PMibrg=`
chksums_ip4-tcp-bad-chksum.pcap|drop|OTH/C|-|Zeek: weird bad_TCP_checksum, packet not counted (row: OTH `C`, as Zeek logs a connection whose only packet was dropped)
chksums_ip6-tcp-bad-chksum.pcap|drop|OTH/C|-|Zeek: weird bad_TCP_checksum, packet not counted (row: OTH `C`, as Zeek logs a connection whose only packet was dropped)
chksums_ip4-tcp-good-chksum.pcap|drop|S0/S|-|no checksum weird (row: a lone SYN, S0 `S`, derived)
chksums_localhost-bad-chksum.pcap|drop|OTH/C SH/HcADF|-|Zeek default: OTH (`C`) + SH (`HcADF`)
chksums_localhost-bad-chksum.pcap|keep|SF/ShADadFf|-|ignoring checksums: SF (`ShADadFf`)
chksums_localhost-bad-chksum.pcap|auto|SF/ShADadFf|-|ignoring checksums: SF (`ShADadFf`)
tcp_syn-bad.pcap|drop|OTH/C|-|Zeek: OTH (`C`), 0 packets counted
tcp_truncated-header.pcap|drop|OTH/- SF/^hAdDafF|-|Zeek: OTH (`-`) + SF (`^hAdDafF`), derived
tcp_rst-inject-rae.pcap|drop|REJ/SrhADa|-|Zeek: REJ (`SrhADa`)
tcp_retransmit-timeout.pcapng|drop|OTH/Da OTH/D|-|Zeek: OTH (`Da`) + OTH (`D`) with its 5 min inactivity timeout
tcp_qi_internet_SYNACK_curl_jsonip.pcap|drop|SF/ShADdFaRfR|-|Zeek: SF (`ShADdFaRfR`), derived, moderate confidence
tunnels_Teredo.pcap|drop|2*SHR/^fA SH/Fa OTH/R RSTO/ShADadR 3*RSTRH/^r SF/ShADadFf|-|Zeek: SHR, SH, OTH, RSTO, SF, RSTRH x3 (plain IPv4 rows)'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# One tab-separated line per TCP connection record: conn_state, history ('-' if empty),
# originator ip:port, responder ip:port, community_id, responder payload+missed bytes,
# responder missed bytes, close reason.
rows() {
    if [ "$json" = jq ]; then
        jq -r 'def ap(a; p): (if (a | test(":")) then "[" + a + "]" else a end) + ":" + (p | tostring);
            select(.type == "connection" and .proto == "tcp")
            | [.conn_state, (if (.history // "") == "" then "-" else .history end),
               ap(.src_ip; .src_port), ap(.dest_ip; .dest_port), (.community_id // "-"),
               ((.resp.payload_bytes // 0) + (.resp.missed_bytes // 0)),
               (.resp.missed_bytes // 0), (.close.how // "-")] | @tsv' "$1"
    else
        python3 - "$1" <<'EOF'
import json, sys
def ap(a, p):
    return ("[%s]" % a if ":" in a else a) + ":" + str(p)
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") != "connection" or r.get("proto") != "tcp":
        continue
    resp = r.get("resp", {})
    print("\t".join([r["conn_state"], r.get("history") or "-", ap(r["src_ip"], r["src_port"]),
                     ap(r["dest_ip"], r["dest_port"]), r.get("community_id", "-"),
                     str(resp.get("payload_bytes", 0) + resp.get("missed_bytes", 0)),
                     str(resp.get("missed_bytes", 0)), r.get("close", {}).get("how", "-")]))
EOF
    fi
}

# Reads rows() lines; prints them and Zeek's rows, then "MATCH" or "DIFF: why" as last line.
compare() {
    awk -F '\t' -v expect="$1" -v extra="$2" '
    function expand(s,   n, i, t, k, c) {
        ne = 0
        if (s == "-") return
        n = split(s, t, " ")
        for (i = 1; i <= n; i++) {
            c = 1
            if (t[i] ~ /^[0-9]+\*/) { c = substr(t[i], 1, index(t[i], "*") - 1) + 0; t[i] = substr(t[i], index(t[i], "*") + 1) }
            for (k = 0; k < c; k++) { ne++; es[ne] = substr(t[i], 1, index(t[i], "/") - 1); eh[ne] = substr(t[i], index(t[i], "/") + 1) }
        }
    }
    { na++; st[na] = $1; hi[na] = $2; orig[na] = $3; resp[na] = $4; cid[na] = $5; rb[na] = $6; rm[na] = $7; how[na] = $8 }
    END {
        expand(expect)
        zs = ""
        for (i = 1; i <= ne; i += c) {                          # runs of equal rows as "xN"
            for (c = 1; i + c <= ne && es[i + c] == es[i] && eh[i + c] == eh[i]; c++) ;
            zs = zs (i > 1 ? ", " : "") es[i] " " (eh[i] == "?" ? "(history not given)" : eh[i]) (c > 1 ? " x" c : "")
        }
        printf "  zeek:      %s\n", (expect == "-" ? "(no conn_state given)" : zs)
        if (na == 0) printf "  shakedown: (no TCP connection record)\n"
        for (i = 1; i <= na; i++)
            printf "  %s %-7s %-16s %s -> %s  (close: %s)\n", (i == 1 ? "shakedown:" : "          "), st[i], hi[i], orig[i], resp[i], how[i]
        why = ""
        if (expect != "") {
            for (i = 1; i <= na; i++) used[i] = 0
            for (j = 1; j <= ne; j++) got[j] = 0
            for (j = 1; j <= ne; j++) if (eh[j] != "?")        # exact state and history first
                for (i = 1; i <= na; i++) if (!used[i] && st[i] == es[j] && hi[i] == eh[j]) { used[i] = 1; got[j] = 1; break }
            for (j = 1; j <= ne; j++) if (eh[j] == "?")        # then rows known by state only
                for (i = 1; i <= na; i++) if (!used[i] && st[i] == es[j]) { used[i] = 1; got[j] = 1; break }
            if (expect != "-") {
                miss = ""; extra_rows = ""
                for (j = 1; j <= ne; j++) if (!got[j]) miss = miss " " es[j] "/" eh[j]
                for (i = 1; i <= na; i++) if (!used[i]) extra_rows = extra_rows " " st[i] "/" hi[i]
                if (na != ne) why = why sprintf("; %d rows, Zeek %d", na, ne)
                if (miss != "") why = why "; Zeek rows not matched:" miss
                if (extra_rows != "") why = why "; shakedown rows not in Zeek:" extra_rows
            }
        }
        n = split(extra, x, " ")
        for (k = 1; k <= n; k++) {
            if (x[k] == "-") continue
            key = substr(x[k], 1, index(x[k], "=") - 1); val = substr(x[k], index(x[k], "=") + 1)
            ok = 0; seen = ""
            for (i = 1; i <= na; i++) {
                v = key == "orig" ? orig[i] : key == "community_id" ? cid[i] : key == "resp_bytes" ? rb[i] : key == "missed_bytes" ? rm[i] : ""
                seen = seen (i > 1 ? "," : "") v
                if (v == val) ok = 1
            }
            printf "  check:     %s %s (shakedown: %s)\n", x[k], (ok ? "ok" : "NOT FOUND"), (seen == "" ? "none" : seen)
            if (!ok) why = why "; " key " differs"
        }
        print (why == "" ? "MATCH" : "DIFF: " substr(why, 3))
    }'
}

summary=$tmp/summary
: >"$summary"
printf '%s\n' "$table" | while IFS='|' read -r file mode expect extra zeek; do
    [ -n "$file" ] || continue
    echo "== $file  (--checksums $mode)"
    echo "  README:    $zeek"
    if [ ! -f "$dir/$file" ]; then
        echo "  MISSING: $dir/$file"
        printf '%s|%s|%s|%s|%s\n' "$file" "$mode" "$expect" "(trace missing)" "MISSING" >>"$summary"
        echo
        continue
    fi
    rc=0
    "$bin" --checksums "$mode" -F json -r "$dir/$file" >"$tmp/out.json" 2>"$tmp/err" || rc=$?
    if [ "$rc" -gt 1 ]; then
        echo "  shakedown failed (exit $rc):"
        sed 's/^/    /' "$tmp/err"
        printf '%s|%s|%s|%s|%s\n' "$file" "$mode" "$expect" "(shakedown failed)" "ERROR" >>"$summary"
        echo
        continue
    fi
    rows "$tmp/out.json" >"$tmp/rows"
    compare "$expect" "$extra" <"$tmp/rows" >"$tmp/cmp"
    sed '$d' "$tmp/cmp"
    verdict=$(tail -n 1 "$tmp/cmp")
    [ -s "$tmp/err" ] && sed 's/^/  (stderr) /' "$tmp/err"
    echo "  => $verdict"
    echo
    got=$(awk -F '\t' '{ r[NR] = $1 "/" $2 }
        END { for (i = 1; i <= NR; i += c) {                    # runs of equal rows as N*ROW
                  for (c = 1; i + c <= NR && r[i + c] == r[i]; c++) ;
                  printf "%s%s%s", (i > 1 ? " " : ""), (c > 1 ? c "*" : ""), r[i] } }' "$tmp/rows")
    printf '%s|%s|%s|%s|%s\n' "$file" "$mode" "$expect" "${got:-(none)}" "${verdict%%:*}" >>"$summary"
done

echo "== summary (zeek vs shakedown; STATE/HISTORY, N* = N rows, ? = history not given)"
awk -F '|' '{ printf "%-42s %-5s %-6s  zeek: %s\n%55s shakedown: %s\n", $1, $2, $5, $3, "", $4; n[$5]++ }
    END { printf "\n%d MATCH, %d DIFF", n["MATCH"], n["DIFF"]
          if (n["MISSING"] + n["ERROR"]) printf ", %d missing/error", n["MISSING"] + n["ERROR"]
          print "" }' "$summary"
exit 0
