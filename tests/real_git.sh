#!/usr/bin/env bash
# git under the preload: in a fresh repository, add and commit a generated
# tree of 300 files (deterministic content, fixed author, committer and
# dates), change it and commit again, tag it, `git gc`, clone it, and
# `git fsck --full --strict`.  Run once plain and once with every git
# command under libpooltag-preload.so (git's own children — pack-objects,
# index-pack, upload-pack ... — inherit it).  Commit, tree and tag ids,
# the log, an archive of HEAD and the clone's HEAD must be identical, fsck
# clean.
#
# No balance check: git does not free everything before exit even without
# pooltag (valgrind: `git add` leaves ~170 blocks in use at exit).
# shellcheck source=tests/real_lib.sh
. "$(dirname "$0")/real_lib.sh"
need_preload
need_cmd git

# Nothing from the user's or the system's configuration.
export HOME=$T/home GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="Pool Tag" GIT_AUTHOR_EMAIL="pt@example.invalid"
export GIT_COMMITTER_NAME="Pool Tag" GIT_COMMITTER_EMAIL="pt@example.invalid"
export GIT_AUTHOR_DATE="2024-03-01T12:00:00+0000" GIT_COMMITTER_DATE="2024-03-01T12:00:00+0000"
export TZ=UTC LC_ALL=C
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
mkdir -p "$HOME"

# gen_tree DIR ROUND: 300 files under DIR in nested directories, content a
# pure function of (file number, round); round 2 (into an emptied tree)
# rewrites every 6th file, leaves out every 29th, adds 10.
gen_tree() {
    awk -v dir="$1" -v round="$2" 'BEGIN {
        for (i = 0; i < 300 + (round == 2 ? 10 : 0); i++) {
            if (round == 2 && i % 29 == 0) continue
            sub1 = "d" (i % 6); sub2 = "s" (i % 4)
            path = dir "/" sub1 "/" sub2
            system("mkdir -p \"" path "\"")
            f = path "/file" i (i % 3 ? ".txt" : ".c")
            gen = (round == 2 && i % 6 == 0) ? i * 7 + 1 : i
            n = 20 + (gen * 37) % 400
            for (l = 0; l < n; l++)
                printf "line %d of file %d: %s %d\n", l, gen, substr("the quick brown fox jumps over the lazy dog", 1 + (l + gen) % 30), (l * gen) % 9973 > f
            close(f)
        }
    }'
}

# G MODE LABEL ARGS...: one git command in MODE (bounded); output to
# $T/LABEL.out.  Fails the test on a non-zero status.
G() {
    local mode=$1 label=$2
    shift 2
    run_mode "$mode" "${label}" 300 git "$@"
    if [ "$RUN_RC" != 0 ]; then
        bad "$mode: git $* exited $RUN_RC: $(head -c 400 "$T/$label.err")"
        return 1
    fi
    return 0
}

for mode in plain pt; do
    r=$T/$mode/repo
    mkdir -p "$r"
    cd "$r" || exit 1
    # Every git command of this mode reports into one directory.
    L=git_$mode
    G "$mode" "$L.init" init -q -b main . &&
    gen_tree "$r" 1 &&
    G "$mode" "$L.add1" add -A &&
    G "$mode" "$L.commit1" commit -q -m "generated tree, round 1" &&
    { rm -rf "$r"/d[0-9]; gen_tree "$r" 2; } &&
    G "$mode" "$L.add2" add -A &&
    G "$mode" "$L.commit2" commit -q -m "round 2: rewrite, delete, add" &&
    G "$mode" "$L.tag" tag -a v1 -m "tagged by the test" &&
    G "$mode" "$L.gc" gc --quiet --prune=now &&
    G "$mode" "$L.fsck" fsck --full --strict --no-dangling &&
    G "$mode" "$L.ids" rev-parse HEAD 'HEAD^{tree}' HEAD~1 v1 &&
    G "$mode" "$L.log" log --stat --format='%H %T %an %ad %s' &&
    G "$mode" "$L.archive" archive --format=tar HEAD &&
    G "$mode" "$L.clone" clone -q --no-local "$r" "$T/$mode/clone" &&
    G "$mode" "$L.cfsck" -C "$T/$mode/clone" fsck --full --strict &&
    G "$mode" "$L.cids" -C "$T/$mode/clone" rev-parse HEAD
    if [ -f "$T/$L.cids.out" ]; then
        if [ -s "$T/$L.fsck.err" ] || [ -s "$T/$L.fsck.out" ]; then
            bad "$mode: git fsck printed: $(head -c 400 "$T/$L.fsck.err" "$T/$L.fsck.out")"
        else
            ok "$mode: all git commands exited 0, git fsck --full --strict clean (repository and clone)"
        fi
    fi
    cd "$T" || exit 1
done

read -r head tree _parent tag <<<"$(tr '\n' ' ' <"$T/git_plain.ids.out")"
note "plain: HEAD $head tree $tree tag $tag"
for what in ids log cids; do
    if [ -s "$T/git_plain.$what.out" ] && cmp -s "$T/git_plain.$what.out" "$T/git_pt.$what.out"; then
        ok "same $what with and without the preload ($(wc -l <"$T/git_plain.$what.out") lines)"
    else
        bad "$what differs: $(diff "$T/git_plain.$what.out" "$T/git_pt.$what.out" 2>&1 | head -4)"
    fi
done
if [ -s "$T/git_plain.archive.out" ] && cmp -s "$T/git_plain.archive.out" "$T/git_pt.archive.out"; then
    ok "git archive HEAD identical ($(stat -c %s "$T/git_plain.archive.out") bytes)"
else
    bad "git archive HEAD differs"
fi
if [ "$(cat "$T/git_pt.cids.out" 2>/dev/null)" = "$head" ] && [ -n "$head" ]; then
    ok "the clone made under the preload has HEAD $head"
else
    bad "the clone's HEAD is '$(cat "$T/git_pt.cids.out" 2>/dev/null)', want '$head'"
fi
if [ "$(git -C "$T/plain/repo" ls-files | wc -l)" = "$(git -C "$T/pt/repo" ls-files | wc -l)" ]; then
    ok "index holds $(git -C "$T/plain/repo" ls-files | wc -l) files in both"
fi

check_quiet "git under the preload" "$T"/git_pt.*.err

# The reports: one per git process of every pt command, in one directory
# per command.  The main process of `git commit` is checked first; then
# every process of every command.
if check_main_report git_pt.commit1 "$(cat "$T/git_pt.commit1.pid")" "git commit under the preload"; then
    total=0
    for d in "$T"/rep_git_pt.*; do
        label=${d##*/rep_}
        check_all_reports "$label" "${label#git_pt.}" >"$T/check.log" || true
        grep '^FAIL' "$T/check.log"
        total=$((total + $(report_count "$label")))
    done
    if [ "$fail" = 0 ]; then
        ok "all $total git process reports (gc's pack-objects, clone's index-pack ...) well formed, frees <= allocs"
    fi
    n=$(report_count git_pt.gc)
    if [ "$n" -ge 2 ]; then
        ok "git gc's children reported too ($n processes)"
    else
        bad "git gc: only $n process report(s): its children ran untagged?"
    fi
fi
finish
