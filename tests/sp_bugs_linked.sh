#!/bin/bash
# sp_bugs_linked: sp_bugs.sh's checks for the program linked with
# libpooltag (PT_SPECIAL from the environment), without the preload, so
# that a sanitizer build runs them too.
SP_HOW=linked . "$(dirname "$0")/sp_bugs.sh"
