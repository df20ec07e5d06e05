#!/bin/bash
# make check's test for one fuzz target: replays tests/fuzz/fuzz-pipe-handoff/ (see tests/fuzz-replay.sh).
exec bash "${top_srcdir:-$(dirname "$0")/../..}/tests/fuzz-replay.sh" fuzz-pipe-handoff
