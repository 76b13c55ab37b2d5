# The core-file reader (src/reader/core.c: ELF header, program headers,
# the notes) and ptr_open's core path, from the instrumented reader
# (fuzz_core.c).  Seeds: a kernel core of sleep with only its ELF headers
# dumped, and the same core with a segment image added as a mapping, each
# with damaged variants (fuzz/core_seeds.py, run by fuzz/make_corpus.sh).
pt_fuzz_target(fuzz_core fuzz_core.c)
target_link_libraries(fuzz_core PRIVATE ptread_fuzz)
if(BUILD_TESTING)
  add_test(NAME fuzz_core_seeds
    COMMAND fuzz_core -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/core)
endif()
