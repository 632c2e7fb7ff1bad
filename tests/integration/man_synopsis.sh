# The man pages' SYNOPSIS lists exactly the options each program's --help
# synopsis lists (docs/man/*.[158] against bin/*), so the two cannot
# drift; and tally(1) covers every subcommand `tally --help` names.
# Subcommands not in this build yet (they say so) are noted, not checked.
. "$(dirname "$0")/../lib/common.sh"
MAN=$TALLY_TOP/docs/man

# man_flags PAGE: "SUBCOMMAND FLAG" for every Fl in the SYNOPSIS; the
# subcommand is the first word after .Cm ("-" for a daemon).
man_flags() {
	awk '
	/^\.Sh / { syn = ($2 == "SYNOPSIS"); next }
	!syn { next }
	/^\.Nm/ { cmd = "-"; next }
	/^\.Cm / && cmd == "-" { cmd = $2; next }
	{
		for (i = 1; i < NF; i++)
			if ($i == "Fl" || $i == ".Fl") {
				f = $(i + 1); sub(/[,;]$/, "", f)
				print cmd, "-" f
			}
	}' "$1" | sort -u
}

# help_flags SUB PROG ARGS...: "SUB FLAG" for every option in the usage
# synopsis of PROG ARGS --help (the usage: line and its continuations).
help_flags() {
	sub=$1; shift
	"$@" --help 2>/dev/null | awk '
	/^usage:/ { on = 1; print; next }
	on && /^[ \t]+(\[|\(|tally)/ { print; next }
	{ on = 0 }' |
	grep -oE '(^|[^a-zA-Z0-9-])--?[a-zA-Z][a-zA-Z-]*' |
	sed 's/^[^-]*//' | grep -vxE -- '-h|--help|--version' |
	sed "s/^/$sub /" | sort -u
}

compare() {
	what=$1 want=$2 got=$3
	if ! diff "$want" "$got" >"$TALLY_TMP/diff"; then
		echo "$what: man page (<) and --help (>) differ:" >&2
		cat "$TALLY_TMP/diff" >&2
		fail "$what SYNOPSIS drifted from --help"
	fi
}

checked="" pending=""
for page in tally-broker.8 tally-node.8; do
	prog=${page%.8}
	[ -f "$MAN/$page" ] || fail "no $MAN/$page"
	man_flags "$MAN/$page" >"$TALLY_TMP/man"
	help_flags - "$TALLY_BIN/$prog" >"$TALLY_TMP/help"
	[ -s "$TALLY_TMP/help" ] || fail "$prog --help shows no options"
	compare "$prog" "$TALLY_TMP/man" "$TALLY_TMP/help"
	checked="$checked $prog"
done

man_flags "$MAN/tally.1" >"$TALLY_TMP/man.all"
subs=$("$T" --help | awk '/^commands:/ { on = 1; next } on && !NF { exit } on { print $1 }')
[ -n "$subs" ] || fail "tally --help lists no commands"
for sub in $subs; do
	grep -q "^$sub " "$TALLY_TMP/man.all" ||
		fail "tally.1 SYNOPSIS lacks 'tally $sub'"
	if "$T" "$sub" --help 2>&1 | grep -q 'not available in this build'; then
		pending="$pending $sub"
		continue
	fi
	grep "^$sub " "$TALLY_TMP/man.all" >"$TALLY_TMP/man"
	help_flags "$sub" "$T" "$sub" >"$TALLY_TMP/help"
	[ -s "$TALLY_TMP/help" ] || fail "tally $sub --help shows no options"
	compare "tally $sub" "$TALLY_TMP/man" "$TALLY_TMP/help"
	checked="$checked $sub"
done
for sub in $(cut -d' ' -f1 "$TALLY_TMP/man.all" | sort -u); do
	echo "$subs" | grep -qx "$sub" || fail "tally.1 documents '$sub', which tally does not have"
done
echo "SYNOPSIS matches --help:$checked"
[ -z "$pending" ] || echo "not in this build yet, unchecked:$pending"
