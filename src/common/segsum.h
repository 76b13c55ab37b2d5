/*
 * segsum.h — summing one tag's (or one site's) counters over every shard.
 * The counters summed are the SUM rows of counters.def; segsum.c also
 * checks the public pt_counts against that list.  Shared by the in-process read API (pt_tags_read) and the reader
 * library, so that a live process and `pooltag` agree to the byte.
 *
 * The caller guarantees that every region named by the header lies inside
 * the segment image (the runtime by construction, the reader by validation).
 * Loads are relaxed atomic loads: the owner threads may be writing.
 */
#ifndef PT_SEGSUM_H
#define PT_SEGSUM_H

#include "pooltag.h"
#include "segment.h"

/* Fill *out with entry i: key, flags, counts summed over the shards
 * [0, shard_hw) (with PT_SEGF_SITE_COUNTS, those of the sites that name
 * entry i too: one pass over the site table), and peak/failures from
 * tagstat.  peak is raised to the current Bytes if that is higher. */
void pt_seg_sum_entry(const char *seg, const pt_seg_header *h,
                      uint32_t shard_hw, uint32_t i, pt_tag_info *out);

/* The same in three steps, for a reader that sums every site anyway
 * (src/reader/parse.c): pt_seg_sum_entry_lines (the tag lines, failures
 * and recorded peak), then, when pt_seg_site_counted(h), the counts of
 * each site added to the entry its tagidx names (pt_seg_add_counts), then
 * pt_seg_entry_done (peak raised to the current Bytes). */
void pt_seg_sum_entry_lines(const char *seg, const pt_seg_header *h, uint32_t shard_hw,
                            uint32_t i, pt_tag_info *out);
int pt_seg_site_counted(const pt_seg_header *h);
void pt_seg_add_counts(pt_counts dst[PT_POOL_COUNT], const pt_counts src[PT_POOL_COUNT]);
void pt_seg_entry_done(pt_tag_info *out);

/* Counters of site j, summed over the shards' site counters (the header must have sites: max_sites != 0). */
void pt_seg_sum_site(const char *seg, const pt_seg_header *h, uint32_t shard_hw, uint32_t j,
                     pt_counts out[PT_POOL_COUNT]);

#endif
