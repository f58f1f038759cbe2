/*
 * pick.c - the pool choice (see pick.h).
 */
#include "pick.h"

#include <stdio.h>
#include <string.h>

/* Index of the lowest load among answered pools (with room if need_room);
 * the first such on ties.  n when there is none. */
static size_t lowest(const struct pick_load *l, size_t n, int need_room)
{
	size_t best = n;

	for (size_t i = 0; i < n; i++) {
		if (!l[i].answered || (need_room && !l[i].room))
			continue;
		if (best == n || l[i].load < l[best].load)
			best = i;
	}
	return best;
}

enum pick_result pick_pool(const struct pick_load *l, size_t n, int wait,
			   size_t *chosen)
{
	size_t i = lowest(l, n, 1);

	if (i < n) {
		*chosen = i;
		return PICK_OK;
	}
	i = lowest(l, n, 0);
	if (i == n)
		return PICK_NONE;
	if (!wait)
		return PICK_NO_ROOM;
	*chosen = i;
	return PICK_WAIT;
}

/* What a full pool said: "full: memory", or its text when it gave one. */
static void why_full(const struct pick_load *p, char *buf, size_t buflen)
{
	if (p->text[0] && p->limit[0])
		snprintf(buf, buflen, "full: %s: %s", p->limit, p->text);
	else if (p->limit[0])
		snprintf(buf, buflen, "full: %s", p->limit);
	else if (p->text[0])
		snprintf(buf, buflen, "full: %s", p->text);
	else
		snprintf(buf, buflen, "full");
}

void pick_no_room_line(const struct pick_load *l, size_t n, char *buf,
		       size_t buflen)
{
	char why[PICK_TEXT_MAX + 32];
	size_t used;
	int first = 1;

	snprintf(buf, buflen, "no room:");
	for (size_t i = 0; i < n; i++) {
		if (!l[i].answered || l[i].room)
			continue;
		why_full(&l[i], why, sizeof(why));
		used = strlen(buf);
		snprintf(buf + used, buflen - used, "%s pool %s (%s)",
			 first ? "" : ",", l[i].pool, why);
		first = 0;
	}
}
